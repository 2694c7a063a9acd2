package daemon

import (
	"sync"

	"github.com/moby/moby/api/types/container"
)

// Container is the daemon's record of one container. (The containers
// engineer extends it: state, bundle, log path, restart policy…)
type Container struct {
	mu         sync.Mutex
	ID         string
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
}

// containerStore holds every container record, by ID.
type containerStore struct {
	mu   sync.Mutex
	byID map[string]*Container
}

// initContainers loads the container records and reconciles them with the
// shims that are still running.
func (d *Daemon) initContainers() error {
	d.containers = &containerStore{byID: map[string]*Container{}}
	return nil
}

func (d *Daemon) closeContainers() {}

func (d *Daemon) containerCounts() (all, running, paused, stopped int) {
	if d.containers == nil {
		return
	}
	d.containers.mu.Lock()
	defer d.containers.mu.Unlock()
	return len(d.containers.byID), 0, 0, len(d.containers.byID)
}

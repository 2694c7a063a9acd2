package daemon

import (
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// Container is the daemon's record of one container, saved as
// <data-root>/containers/<id>/config.v2.json (the name dockerd uses).
type Container struct {
	mu           sync.Mutex
	ID           string
	Name         string // without docker's leading "/"
	Created      time.Time
	Path         string   // the process PID 1 runs: entrypoint+cmd, first word
	Args         []string // the rest
	Config       *container.Config
	HostConfig   *container.HostConfig
	ImageID      string
	State        ContainerState
	RestartCount int
	Dir          string // <data-root>/containers/<id>: record, upper/work dirs, log
	BundleDir    string // <exec-root>/containers/<id>: spec.json, shim socket, exit status
	LogPath      string
}

// ContainerState is what `inspect` shows under State.
type ContainerState struct {
	Status     string // created, running, restarting, exited, dead
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// containerStore holds every container record, by ID.
type containerStore struct {
	mu   sync.Mutex
	byID map[string]*Container
}

// GetContainer finds a container by full ID, name, or unique ID prefix,
// the three ways docker commands accept.
func (d *Daemon) GetContainer(ref string) (*Container, error) {
	s := d.containers
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.TrimPrefix(ref, "/")
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	var prefixed []*Container
	for _, c := range s.byID {
		if c.Name == name {
			return c, nil
		}
		if ref != "" && strings.HasPrefix(c.ID, ref) {
			prefixed = append(prefixed, c)
		}
	}
	switch len(prefixed) {
	case 1:
		return prefixed[0], nil
	case 0:
		return nil, errdefs.NotFound("No such container: %s", ref)
	}
	return nil, errdefs.Invalid("multiple IDs found with provided prefix: %s", ref)
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
	for _, c := range d.containers.byID {
		all++
		switch {
		case c.State.Paused:
			paused++
		case c.State.Running:
			running++
		default:
			stopped++
		}
	}
	return
}

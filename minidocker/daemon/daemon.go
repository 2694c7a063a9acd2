package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"github.com/minidocker/minidocker/minidocker/stringid"

	"github.com/minidocker/minidocker/minidocker/config"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/volume"
)

// Daemon is the state of one running minidocker daemon.
type Daemon struct {
	cfg config.Config
	id  string // stable engine ID, shown by `info`

	images *image.Store // images.go
	// imageUse keeps rmi from deleting an image between a create's
	// resolving it and the new container's being in the store: create
	// holds it for reading across both, rmi for writing (lock order in doc.go).
	imageUse sync.RWMutex
	// shuttingDown is set once SIGTERM came: containers stopped now are
	// not stopped by a user, and no restart policy starts one again.
	shuttingDown atomic.Bool
	networks     *network.Manager // networks.go
	containers   *containerStore  // containers.go
	builds       *buildSet        // build.go
	volumes      *volume.Store    // volumes.go
	events       eventBus         // events.go
	health       healthChecks     // health.go
	// remap is every container's user namespace with --userns-remap
	// (userns.go); nil without.
	remap *libcontainer.UserNamespace
	// spares keeps a shim started ahead of need: a start claims it
	// (containers_start.go) rather than waiting for a process to start.
	spares *libcontainer.SpareShims
	// removals are the host cleanups of removed containers still under
	// way (containers.go)
	removals hostCleanups
}

// New prepares the directories and subsystems of a daemon configured by cfg.
func New(cfg config.Config) (*Daemon, error) {
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	id, err := engineID(filepath.Join(cfg.DataRoot, "engine-id"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, id: id}
	// Order matters: containers are restored last, because reconciling
	// them needs the images (their layers) and the networks (their endpoints).
	for _, start := range []func() error{d.initUserns, d.initImages, d.initNetworks, d.initVolumes, d.initContainers, d.initBuilds} {
		if err := start(); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.spares = libcontainer.NewSpareShims()
	slog.Info("daemon ready", "data-root", cfg.DataRoot, "exec-root", cfg.ExecRoot)
	return d, nil
}

// Config returns the settings the daemon runs with.
func (d *Daemon) Config() config.Config { return d.cfg }

// Close releases what the daemon holds. Containers keep running: their
// shims do not depend on the daemon process (Shutdown stops them first).
func (d *Daemon) Close() error {
	d.health.stop("") // every healthcheck (health.go)
	d.CloseBuilds()
	d.closeContainers()
	d.spares.Close()       // the spare exits; claimed shims hold containers and run on
	d.removeCgroupParent() // containers_shutdown.go
	return d.closeNetworks()
}

// engineID reads the daemon's identity, creating it on first start, so that
// `info` shows the same ID across restarts as dockerd does.
func engineID(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := stringid.RandomHex(16)
	return id, WriteFileAtomic(path, []byte(id+"\n"), 0o600)
}

// WriteFileAtomic replaces path with data so that a crash at any moment
// leaves either the old or the new content, never a torn file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, data, atomicfile.Options{Perm: perm, Sync: true})
}

package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"github.com/minidocker/minidocker/minidocker/stringid"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// Container is the daemon's record of one container, saved as
// <data-root>/containers/<id>/config.v2.json (the name dockerd uses).
//
// The exported fields are the record; the unexported ones live only while
// the daemon runs. Lock order: op (a whole operation: start, stop, rm)
// before mu (the fields). Code outside this file reads the fields with
// Lock/Unlock held (or through a method here that takes mu).
type Container struct {
	mu         sync.Mutex
	ID         string
	Name       string // without docker's leading "/"
	Created    time.Time
	Path       string   // the process PID 1 runs: entrypoint+cmd, first word
	Args       []string // the rest
	Config     *container.Config
	HostConfig *container.HostConfig
	ImageID    string
	// ImageConfigMerged says Config holds all the container needs of its
	// image (Env, Cmd, ExposedPorts…), merged at create as dockerd does, so
	// that reading a container never reads the image store (doc.go has the
	// lock order this protects). Records from before it existed are merged
	// once when the daemon starts (mergeOldRecord).
	ImageConfigMerged bool `json:",omitempty"`
	State             ContainerState
	RestartCount      int
	Dir               string // <data-root>/containers/<id>: record, upper/work dirs, log
	BundleDir         string // <exec-root>/containers/<id>: spec.json, shim socket, exit status
	LogPath           string
	// ManuallyStopped is set by stop and kill: restart policies leave the
	// container alone until it is started again.
	ManuallyStopped bool `json:",omitempty"`
	HostnamePath    string
	HostsPath       string
	ResolvConfPath  string
	// IPAddress is what the network seam gave at the last start.
	IPAddress string `json:",omitempty"`
	// MountPoints are the container's binds, volumes and tmpfs (mounts.go).
	MountPoints []MountPoint `json:",omitempty"`
	// Endpoints are the bridge networks it is on, by name (networks_connect.go).
	Endpoints map[string]*EndpointConfig

	// UserNamespace is the user namespace the container was created with
	// (the daemon's --userns-remap unless --userns=host; nil: none). Its
	// upper dir and volumes belong to those ids, so it is never started
	// under another setting (userns.go). UsernsRecorded tells a record
	// from before this field, recorded once at daemon start.
	UserNamespace  *libcontainer.UserNamespace `json:",omitempty"`
	UsernsRecorded bool                        `json:",omitempty"`

	op           sync.Mutex         // serialises start, stop, restart, rm
	shim         *libcontainer.Shim // the running container's shim (nil when not running)
	exitCh       chan struct{}      // closed when the current (or next) run ends; then replaced
	removeCh     chan struct{}      // closed when the container is removed
	removed      bool
	attaches     []*pendingAttach // attach requests waiting for the next start
	restartDelay time.Duration    // the restart policy's current back-off
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
	// Health is the healthcheck's state (health.go); nil without one.
	Health *container.Health `json:",omitempty"`
}

// Lock guards the container's fields for code in other files (exec, cp,
// top, stats) that reads them.
func (c *Container) Lock() { c.mu.Lock() }

// Unlock releases what Lock took.
func (c *Container) Unlock() { c.mu.Unlock() }

// Shim is the handle on the running container's shim, nil when the
// container is not running. exec, top and stats use it (Shim.Pid is PID 1).
func (c *Container) Shim() *libcontainer.Shim {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.State.Running {
		return nil
	}
	return c.shim
}

// IsRunning reports whether PID 1 runs.
func (c *Container) IsRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.State.Running
}

// RootfsDirs are the directories of the container's file system: the
// image's layers (top first), the container's own upper dir (its changes,
// what commit turns into a layer) and overlay's work dir.
func (c *Container) RootfsDirs(d *Daemon) (lower []string, upper, work string, err error) {
	lower, err = d.images.LayerDirs(c.ImageID)
	return lower, d.containerUpperDir(c), d.containerWorkDir(c), err
}

// save writes the record atomically (temp file + rename). Call with c.mu
// held. Unlike WriteFileAtomic it does not fsync: a record is rewritten at
// every state change, on the path of every start and exit, and a sync costs
// tens of milliseconds on a busy disk. A daemon crash (even kill -9) keeps
// the page cache, so the newest record is what the next daemon reads; after
// a power loss every container is dead anyway and restore treats the
// record's "running" as an exit.
func (c *Container) save() error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(c.Dir, "config.v2.json"), b, atomicfile.Options{})
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
		s.mu.Unlock()
		d.removals.wait() // a container just removed is gone from the host too
		s.mu.Lock()
		return nil, errdefs.NotFound("No such container: %s", ref)
	}
	return nil, errdefs.Invalid("multiple IDs found with provided prefix: %s", ref)
}

// Containers lists every container, newest first (docker ps order).
func (d *Daemon) Containers() []*Container {
	s := d.containers
	s.mu.Lock()
	list := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		list = append(list, c)
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Created.After(list[j].Created) })
	return list
}

func (d *Daemon) containersDir() string { return filepath.Join(d.cfg.DataRoot, "containers") }
func (d *Daemon) bundlesDir() string    { return filepath.Join(d.cfg.ExecRoot, "containers") }

// initContainers loads the container records and reconciles them with the
// shims that are still running: a live shim is reconnected (the container
// keeps running and gets a monitor again); a shim that died while the
// daemon was away left its exit status in the bundle.
func (d *Daemon) initContainers() error {
	d.containers = &containerStore{byID: map[string]*Container{}}
	for _, dir := range []string{d.containersDir(), d.bundlesDir()} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(d.containersDir())
	if err != nil {
		return err
	}
	var restore []*Container
	for _, e := range entries {
		dir := filepath.Join(d.containersDir(), e.Name())
		if strings.HasPrefix(e.Name(), trashPrefix) {
			os.RemoveAll(dir)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "config.v2.json"))
		if err != nil {
			// a create that crashed before its record was written
			slog.Warn("removing container directory without a record", "dir", dir)
			os.RemoveAll(dir)
			continue
		}
		c := &Container{}
		if err := json.Unmarshal(b, c); err != nil || c.ID != e.Name() {
			slog.Error("unreadable container record, skipped", "dir", dir, "err", err)
			continue
		}
		c.Dir, c.BundleDir = dir, filepath.Join(d.bundlesDir(), c.ID)
		if !c.ImageConfigMerged {
			d.mergeOldRecord(c)
		}
		if !c.UsernsRecorded {
			d.recordOldUserns(c) // userns.go
		}
		c.exitCh, c.removeCh = make(chan struct{}), make(chan struct{})
		d.containers.byID[c.ID] = c
		restore = append(restore, c)
	}
	var restart []*Container
	for _, c := range restore {
		if d.restoreContainer(c) {
			restart = append(restart, c)
		}
	}
	// bundles nobody owns (e.g. removed while the daemon was down)
	if bs, err := os.ReadDir(d.bundlesDir()); err == nil {
		for _, b := range bs {
			if _, ok := d.containers.byID[b.Name()]; !ok {
				p := filepath.Join(d.bundlesDir(), b.Name())
				libcontainer.Cleanup(p)
				os.RemoveAll(p)
			}
		}
	}
	d.restartAtStart(restart) // containers_shutdown.go
	return nil
}

// mergeOldRecord gives a record written before create merged the image's
// exposed ports into it (ImageConfigMerged) those ports, once, at daemon
// start: afterwards ps and inspect read them from the record alone. An
// image that is gone has nothing left to give.
func (d *Daemon) mergeOldRecord(c *Container) {
	if cfg, err := d.images.Config(c.ImageID); err == nil && c.Config != nil {
		c.Config.ExposedPorts = mergeExposedPorts(c.Config.ExposedPorts, cfg.Config.ExposedPorts)
	}
	c.ImageConfigMerged = true
	if err := c.save(); err != nil {
		slog.Warn("saving a container record after merging its image's config", "id", stringid.TruncateID(c.ID), "err", err)
	}
}

// restoreContainer reconciles one record at daemon start. It reports
// whether the container, found stopped, is to be started again by its
// restart policy (restartOnDaemonStart).
func (d *Daemon) restoreContainer(c *Container) (restart bool) {
	c.mu.Lock()
	running := c.State.Running || c.State.Restarting
	c.mu.Unlock()
	if running {
		if shim, err := libcontainer.ConnectShim(c.BundleDir); err == nil {
			st, serr := shim.State(contextBackground())
			if serr == nil && st.Running {
				c.mu.Lock()
				c.shim = shim
				c.State.Pid = st.Pid
				c.mu.Unlock()
				slog.Info("reconnected to running container", "id", c.ID[:12], "pid", st.Pid)
				go d.monitor(c, shim)
				d.resumeNames(c)            // networks_dns.go
				d.startHealthcheck(c, true) // health.go: the checker again, status kept
				return false
			}
		}
		// The shim is gone: it left the exit status behind (or nothing
		// when it was killed itself).
		st, ok, _ := libcontainer.ReadExitStatus(c.BundleDir)
		if !ok {
			st = libcontainer.ExitStatus{ExitCode: 255, FinishedAt: time.Now().UTC()}
		}
		slog.Info("container exited while the daemon was down", "id", c.ID[:12], "exit", st.ExitCode)
		go d.handleExit(c, st) // applies the restart policy
		return false
	}
	// not running: nothing of the runtime may be left
	if _, err := os.Stat(c.BundleDir); err == nil {
		libcontainer.Cleanup(c.BundleDir)
		os.RemoveAll(c.BundleDir)
	}
	c.mu.Lock()
	autoRemove := c.HostConfig.AutoRemove && c.State.Status == "exited"
	restart = restartOnDaemonStart(c)
	c.mu.Unlock()
	if autoRemove {
		go d.removeContainer(c, removeOpts{volumes: true}) // as --rm would have
	}
	return restart
}

func (d *Daemon) closeContainers() {
	d.removals.wait()
	trash.Wait()
}

// hostCleanups counts removed containers whose host side (the shim's
// files, the cgroup, the bundle) is still being taken down: removeContainer
// answers its client first (`run --rm` waits for the removal). ps, a
// lookup that finds nothing and the daemon's close wait for those under
// way when they ask, so none of them sees a container gone while
// something of it is left (a later one is not waited for: a steady stream
// of removals cannot hold them up).
type hostCleanups struct {
	mu      sync.Mutex
	pending map[string]chan struct{} // by container ID; closed when done
}

// begin records that id's host cleanup is under way; call done when it is
// over.
func (h *hostCleanups) begin(id string) (done func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	if h.pending == nil {
		h.pending = map[string]chan struct{}{}
	}
	h.pending[id] = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.pending, id)
		h.mu.Unlock()
		close(ch)
	}
}

// wait returns once every cleanup under way when it was called is over.
func (h *hostCleanups) wait() {
	h.mu.Lock()
	chans := make([]chan struct{}, 0, len(h.pending))
	for _, ch := range h.pending {
		chans = append(chans, ch)
	}
	h.mu.Unlock()
	for _, ch := range chans {
		<-ch
	}
}

// trash counts the container directories being deleted in the background.
var trash sync.WaitGroup

const trashPrefix = ".trash-"

// removeDirLater moves a removed container's directory aside (a rename,
// instant) and deletes it in the background: unlinking its files can take
// tens of milliseconds on a busy disk, and `run --rm` waits for the
// removal. A leftover .trash-* directory (the daemon died meanwhile) is
// deleted at the next start.
func removeDirLater(dir string) {
	tmp := filepath.Join(filepath.Dir(dir), trashPrefix+filepath.Base(dir))
	if err := os.Rename(dir, tmp); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			slog.Error("removing container directory", "dir", dir, "err", err)
		}
		return
	}
	trash.Add(1)
	go func() {
		defer trash.Done()
		if err := os.RemoveAll(tmp); err != nil {
			slog.Error("removing container directory", "dir", tmp, "err", err)
		}
	}()
}

func (d *Daemon) containerCounts() (all, running, paused, stopped int) {
	if d.containers == nil {
		return
	}
	for _, c := range d.Containers() {
		c.mu.Lock()
		all++
		switch {
		case c.State.Paused:
			paused++
		case c.State.Running:
			running++
		default:
			stopped++
		}
		c.mu.Unlock()
	}
	return
}

// ImageInUse tells image prune whether a container uses imageID
// (sha256:...): the ID of one such container, preferring a running one.
func (d *Daemon) ImageInUse(imageID string) (containerID string, running bool) {
	u := d.imagesInUse()[imageID]
	return u.ContainerID, u.Running
}

// imagesInUse is what rmi needs to know about containers, gathered before
// it takes the image store's lock: for each image, a container using it
// (a running one when there is one). It takes each container's lock in
// turn and never the image store's.
func (d *Daemon) imagesInUse() image.ImagesInUse {
	uses := image.ImagesInUse{}
	if d.containers == nil {
		return uses
	}
	for _, c := range d.Containers() {
		c.mu.Lock()
		img, running := c.ImageID, c.State.Running
		c.mu.Unlock()
		if u, seen := uses[img]; !seen || (running && !u.Running) {
			uses[img] = image.ImageUse{ContainerID: c.ID, Running: running}
		}
	}
	return uses
}

// notRunningError is docker's message for operations on a stopped container.
func notRunningError(id string) error {
	return errdefs.Conflict("Container %s is not running", id)
}

var errRemoved = errors.New("container removed")

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return errdefs.As(errdefs.KindOf(err), fmt.Errorf(format+": %w", append(args, err)...))
}

// containerUpperDir is the container's overlay upper dir: its changes to
// the image (what cp writes into while it is stopped, what commit reads).
func (d *Daemon) containerUpperDir(c *Container) string { return filepath.Join(c.Dir, "diff") }

// containerWorkDir is overlay's work dir beside the upper dir.
func (d *Daemon) containerWorkDir(c *Container) string { return filepath.Join(c.Dir, "work") }

// ContainerRootfs is where a running container's root is mounted, as seen
// from the host only through /proc/<pid>/root (the overlay lives in the
// container's mount namespace).
func (c *Container) ContainerRootfs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Running && c.State.Pid > 0 {
		return fmt.Sprintf("/proc/%d/root", c.State.Pid)
	}
	return ""
}

package daemon

// docker exec: a second process in a running container. The daemon keeps
// an exec record (created by POST /containers/{id}/exec, run by POST
// /exec/{id}/start, read by GET /exec/{id}/json); the shim handle's Exec does
// the real work: setns into PID 1's ipc, uts, net, pid and mnt namespaces
// and its cgroup, then fork/exec (libcontainer/execns_linux.go); under
// --userns-remap the container's userns-helper does it from inside the
// container's user namespace (libcontainer/usernshelper_linux.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/detachkeys"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// Exec is one exec instance.
type Exec struct {
	ID          string
	ContainerID string
	Config      container.ExecCreateRequest

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode *int
	pid      int
	proc     *libcontainer.ExecProcess
	size     [2]uint16 // height, width asked for before the process ran
	ended    time.Time
	done     chan struct{}
}

// execStore holds the exec instances of every daemon in this process (exec
// IDs are random, 256 bits: they never collide). Finished instances are
// dropped when their container is gone or an hour after they ended.
var execStore = struct {
	sync.Mutex
	byID map[string]*Exec
}{byID: map[string]*Exec{}}

const execKeep = time.Hour

func (d *Daemon) pruneExecsLocked() {
	for id, e := range execStore.byID {
		e.mu.Lock()
		old := !e.ended.IsZero() && time.Since(e.ended) > execKeep
		e.mu.Unlock()
		if _, err := d.GetContainer(e.ContainerID); err != nil || old {
			delete(execStore.byID, id)
		}
	}
}

func errContainerNotRunning(id string) error {
	return errdefs.Conflict("Container %s is not running", id)
}

// errExecPaused is docker's answer to an exec into a paused container: the
// new process would join a frozen cgroup and hang.
func errExecPaused(id string) error {
	return errdefs.Conflict("Container %s is paused, unpause the container before exec", id)
}

// ExecCreate records an exec instance in the running container ref.
func (d *Daemon) ExecCreate(ref string, req container.ExecCreateRequest) (string, error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return "", err
	}
	c.Lock()
	restarting, paused := c.State.Restarting, c.State.Paused
	c.Unlock()
	if restarting {
		return "", errdefs.Conflict("Container %s is restarting, wait until the container is running", c.ID)
	}
	if paused {
		return "", errExecPaused(c.ID)
	}
	if !c.IsRunning() {
		return "", errContainerNotRunning(c.ID)
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.Invalid("No exec command specified")
	}
	if _, err := detachkeys.Parse(req.DetachKeys); err != nil {
		return "", errdefs.Invalid("Invalid escape keys (%s) provided", req.DetachKeys)
	}
	e := &Exec{ID: stringid.GenerateRandomID(), ContainerID: c.ID, Config: req, done: make(chan struct{})}
	if req.ConsoleSize != nil {
		e.size = [2]uint16{uint16(req.ConsoleSize[0]), uint16(req.ConsoleSize[1])}
	}
	execStore.Lock()
	d.pruneExecsLocked()
	execStore.byID[e.ID] = e
	execStore.Unlock()
	d.execEvent(e, "exec_create") // events.go
	return e.ID, nil
}

// GetExec finds an exec instance by ID.
func (d *Daemon) GetExec(id string) (*Exec, error) {
	execStore.Lock()
	defer execStore.Unlock()
	if e, ok := execStore.byID[id]; ok {
		return e, nil
	}
	return nil, errdefs.NotFound("No such exec instance: %s", id)
}

// ExecInspect is GET /exec/{id}/json.
func (d *Daemon) ExecInspect(id string) (container.ExecInspectResponse, error) {
	e, err := d.GetExec(id)
	if err != nil {
		return container.ExecInspectResponse{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	priv := e.Config.Privileged
	r := container.ExecInspectResponse{
		ID: e.ID, Running: e.running, ExitCode: e.exitCode,
		ProcessConfig: &container.ExecProcessConfig{
			Tty: e.Config.Tty, Entrypoint: e.Config.Cmd[0], Arguments: append([]string{}, e.Config.Cmd[1:]...),
			Privileged: &priv, User: e.Config.User,
		},
		OpenStdin: e.Config.AttachStdin, OpenStdout: e.Config.AttachStdout, OpenStderr: e.Config.AttachStderr,
		ContainerID: e.ContainerID, DetachKeys: e.detachKeys(), Pid: e.pid,
	}
	return r, nil
}

// ExecClaim marks the instance as started, so that a second start is
// refused before the caller hijacks its connection.
func (d *Daemon) ExecClaim(id string) (*Exec, error) {
	e, err := d.GetExec(id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		if e.running {
			return nil, errdefs.Conflict("Exec command %s is already running", id)
		}
		return nil, errdefs.Conflict("Exec command %s has already run", id)
	}
	c, err := d.GetContainer(e.ContainerID)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() {
		return nil, errContainerNotRunning(c.ID)
	}
	c.Lock()
	paused := c.State.Paused
	c.Unlock()
	if paused {
		return nil, errExecPaused(c.ID)
	}
	e.started = true
	return e, nil
}

// Tty reports whether the exec runs on a terminal (raw stream) or on pipes
// (multiplexed stream).
func (e *Exec) Tty() bool { return e.Config.Tty }

// detachKeys is the exec's detach sequence as docker's inspect shows it:
// the bytes, none when the default applies.
func (e *Exec) detachKeys() []byte {
	if e.Config.DetachKeys == "" {
		return []byte{}
	}
	keys, _ := detachkeys.Parse(e.Config.DetachKeys) // checked by ExecCreate
	return keys
}

// ExecStart runs a claimed exec instance with the given stdio (nil for a
// stream the client did not attach) and returns its exit code when it
// ends. A process that cannot start ends with docker's 126 or 127 (or 125)
// and the error, whose text docker writes to the client's stdout. On a
// terminal, a client that detaches (its detach keys, or the end of its
// stdin) gets detachkeys.ErrDetached at once: the process runs on without
// it, as with docker.
func (d *Daemon) ExecStart(ctx context.Context, e *Exec, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var detached <-chan struct{}
	if e.Config.Tty && e.Config.AttachStdin && stdin != nil {
		keys, _ := detachkeys.Parse(e.Config.DetachKeys) // checked by ExecCreate
		x := &execDetach{in: detachkeys.NewReader(stdin, keys), out: stdout, gone: make(chan struct{})}
		stdin, stdout, detached = x, x, x.gone
	}
	proc, err := d.execRun(e, stdin, stdout, stderr)
	if err != nil {
		return e.finish(execErrorCode(err), 0), err
	}
	select {
	case <-proc.Done():
	case <-detached:
		d.execEvent(e, "exec_detach")
		go d.finishExecWhenDone(e, proc)
		return -1, detachkeys.ErrDetached
	}
	return d.finishExecWhenDone(e, proc), nil
}

// ExecStartDetached starts a claimed exec instance and returns once it
// runs (docker exec -d); its output is discarded.
func (d *Daemon) ExecStartDetached(e *Exec) error {
	proc, err := d.execRun(e, nil, nil, nil)
	if err != nil {
		e.finish(execErrorCode(err), 0)
		return err
	}
	go d.finishExecWhenDone(e, proc)
	return nil
}

// finishExecWhenDone waits for the process, records its exit code and
// publishes its end.
func (d *Daemon) finishExecWhenDone(e *Exec, proc *libcontainer.ExecProcess) int {
	code, werr := proc.Wait(context.Background())
	if werr != nil {
		code = 255
	}
	return d.execDied(e, e.finish(code, proc.Pid))
}

// execDetach stands between an exec on a terminal and its client: once
// the client stops sending keys (it typed its detach sequence, or closed
// its side), gone is closed and what the terminal prints from then on is
// thrown away, write errors on the client's closed connection included,
// so that the process never blocks on a client that left.
type execDetach struct {
	in   io.Reader
	out  io.Writer
	gone chan struct{}
	once sync.Once
}

// Read is the client's stdin.
func (x *execDetach) Read(p []byte) (int, error) {
	n, err := x.in.Read(p)
	if err != nil {
		x.once.Do(func() { close(x.gone) })
	}
	return n, err
}

// Write is the terminal's output, to the client while it is there.
func (x *execDetach) Write(p []byte) (int, error) {
	select {
	case <-x.gone:
		return len(p), nil
	default:
	}
	n, err := x.out.Write(p)
	if err != nil {
		select {
		case <-x.gone:
			return len(p), nil
		default:
		}
	}
	return n, err
}

func execErrorCode(err error) int {
	var se *libcontainer.StartError
	if errors.As(err, &se) {
		return se.Code
	}
	return 126
}

func (e *Exec) finish(code, pid int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	e.exitCode = &code
	if pid > 0 {
		e.pid = pid
	}
	e.ended = time.Now()
	close(e.done)
	return code
}

// Done is closed when the exec'd process has ended.
func (e *Exec) Done() <-chan struct{} { return e.done }

func (d *Daemon) execRun(e *Exec, stdin io.Reader, stdout, stderr io.Writer) (*libcontainer.ExecProcess, error) {
	c, err := d.GetContainer(e.ContainerID)
	if err != nil {
		return nil, err
	}
	shim := c.Shim()
	if shim == nil {
		return nil, errContainerNotRunning(c.ID)
	}
	c.Lock()
	cfg, hc := *c.Config, *c.HostConfig
	c.Unlock()
	req := e.Config
	sec, err := execSecurity(&hc, req.Privileged)
	if err != nil {
		return nil, err
	}
	linkEnv, err := d.linkEnv(c) // links.go: an exec sees the legacy links' variables too, as in docker
	if err != nil {
		return nil, err
	}
	p := libcontainer.Process{
		Args:      req.Cmd,
		Env:       execEnv(append(linkEnv, cfg.Env...), cfg.Hostname, req.Env),
		Cwd:       firstOf(req.WorkingDir, cfg.WorkingDir),
		User:      firstOf(req.User, cfg.User),
		Terminal:  req.Tty,
		OpenStdin: req.AttachStdin,
		Security:  sec,
	}
	if err := applyExecRunOptions(&hc, &p); err != nil { // runopts.go
		return nil, err
	}
	e.mu.Lock()
	p.ConsoleHeight, p.ConsoleWidth = e.size[0], e.size[1]
	e.mu.Unlock()
	if !req.AttachStdin {
		stdin = nil
	}
	if !req.AttachStdout {
		stdout = nil
	}
	if !req.AttachStderr {
		stderr = nil
	}
	proc, err := shim.Exec(context.Background(), p, libcontainer.ExecIO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	if err != nil {
		var se *libcontainer.StartError
		if errors.As(err, &se) {
			return nil, &libcontainer.StartError{Code: se.Code, Message: fmt.Sprintf("OCI runtime exec failed: exec failed: unable to start container process: %s: unknown", se.Message)}
		}
		return nil, err
	}
	e.mu.Lock()
	e.proc, e.pid, e.running = proc, proc.Pid, true
	size := e.size
	e.mu.Unlock()
	if size[0] > 0 && size[1] > 0 { // a resize that raced the start
		proc.Resize(size[0], size[1])
	}
	d.execEvent(e, "exec_start")
	return proc, nil
}

// execEnv is the container's environment, then the exec's -e values on
// top (a name given again replaces the earlier value).
func execEnv(base []string, hostname string, over []string) []string {
	var out []string
	idx := map[string]int{}
	add := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			return
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	if hostname != "" {
		add("HOSTNAME=" + hostname)
	}
	for _, kv := range base {
		add(kv)
	}
	for _, kv := range over {
		if !strings.Contains(kv, "=") {
			continue // docker drops a bare NAME whose value is not set
		}
		add(kv)
	}
	if _, ok := idx["PATH"]; !ok {
		add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return out
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ExecResize sets the exec's terminal size (POST /exec/{id}/resize).
func (d *Daemon) ExecResize(id string, h, w uint) error {
	e, err := d.GetExec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if !e.ended.IsZero() {
		e.mu.Unlock()
		// its terminal is gone: the client's state is stale (409, not 500)
		return errdefs.Conflict("exec %s is not running", id)
	}
	e.size = [2]uint16{uint16(h), uint16(w)}
	proc := e.proc
	e.mu.Unlock()
	if proc != nil {
		return proc.Resize(uint16(h), uint16(w))
	}
	return nil
}

package libcontainer

// The daemon's side of the shim: start one, talk to it over its socket.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
)

func bundleFile(bundle, name string) string { return filepath.Join(bundle, name) }

func socketPath(bundle string) string { return bundleFile(bundle, SocketFile) }

// maxSunPath leaves room in sockaddr_un.sun_path (108 bytes with its NUL).
const maxSunPath = 100

// withShortPath runs fn with a name for path that fits in sun_path: path
// itself, or /proc/self/fd/N/<base> through an open descriptor of its dir.
func withShortPath(path string, fn func(string) error) error {
	if len(path) <= maxSunPath {
		return fn(path)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
}

func listenUnix(path string) (ln net.Listener, err error) {
	os.Remove(path)
	err = withShortPath(path, func(p string) error {
		ln, err = net.Listen("unix", p)
		return err
	})
	if err == nil {
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		os.Chmod(path, 0o600)
	}
	return ln, err
}

func dialUnix(ctx context.Context, path string) (c net.Conn, err error) {
	err = withShortPath(path, func(p string) error {
		var d net.Dialer
		c, err = d.DialContext(ctx, "unix", p)
		return err
	})
	return c, err
}

// Shim is the daemon's handle on one container's shim. It holds no
// connection: every call dials the shim's socket, so a Shim made by
// ConnectShim after a daemon restart works like the first one.
type Shim struct {
	bundle string
	// Pid is PID 1 of the container as the host sees it.
	Pid int
}

// ErrShimGone means the shim is not running (the container has exited and
// its shim is gone, or it never started): use ReadExitStatus.
var ErrShimGone = errors.New("runtime: shim is not running")

// CreateShim starts a shim (its own session: it survives the daemon,
// even kill -9), hands it bundleDir and waits until it has made the
// container: cgroup, namespaces, init waiting for "go". Attach now, then
// call Start: that way no output is missed. Cancelling ctx before the shim
// reported kills it. After any error, Cleanup(bundleDir) removes what a
// half-made container left (cgroup, files). A daemon uses
// SpareShims.CreateShim, which finds the shim already started.
func CreateShim(ctx context.Context, bundleDir string) (*Shim, error) {
	var nothingSpare *SpareShims
	return nothingSpare.CreateShim(ctx, bundleDir)
}

// StartShim is CreateShim followed by Start: it returns PID 1's pid once
// the CMD runs, or the start error (a *StartError: 127 command not found,
// 126 not executable, 125 otherwise). The shim then lingers only until the
// daemon collects the exit status (or exits on its own right away).
func StartShim(ctx context.Context, bundleDir string) (initPid int, err error) {
	s, err := CreateShim(ctx, bundleDir)
	if err != nil {
		return 0, err
	}
	if err := s.Start(ctx); err != nil {
		return 0, err
	}
	return s.Pid, nil
}

// ConnectShim reconnects to the shim of a bundle (e.g. after a daemon
// restart). It fails with ErrShimGone when no shim answers.
func ConnectShim(bundleDir string) (*Shim, error) {
	bundleDir, err := filepath.Abs(bundleDir)
	if err != nil {
		return nil, err
	}
	s := &Shim{bundle: bundleDir}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := s.call(ctx, shimRequest{Op: "state"})
	if err != nil {
		return nil, err
	}
	s.Pid = r.Pid
	return s, nil
}

// State is what a shim says about its container.
type State struct {
	Pid     int
	Started bool        // Start was called
	Running bool        // started and not exited
	Exit    *ExitStatus // set once PID 1 has exited
}

// State asks the shim about its container.
func (s *Shim) State(ctx context.Context) (State, error) {
	r, err := s.call(ctx, shimRequest{Op: "state"})
	if err != nil {
		return State{}, err
	}
	return State{Pid: r.Pid, Started: r.Started, Running: r.Running, Exit: r.Status}, nil
}

// Start lets init go on: it builds the container's root and execs the CMD.
// The error is a *StartError when the exec failed (127/126/125); the
// container has then exited with that code.
func (s *Shim) Start(ctx context.Context) error {
	r, err := s.call(ctx, shimRequest{Op: "start"})
	if err != nil {
		return err
	}
	if r.Error != "" {
		return &StartError{Code: r.Code, Message: r.Error}
	}
	return nil
}

// Attach returns a stream of the container's stdio. With a Terminal it is
// raw both ways; otherwise what the shim writes is docker's stdcopy framing
// (8-byte header: stream 1 stdout / 2 stderr, 3 zero bytes, big-endian
// length) and what it reads is raw stdin. Output starts at the moment of
// attaching; the stream ends (EOF) when the container has exited and all
// its output was sent. Half-close the write side (CloseWrite, the conn is
// a *net.UnixConn) to end stdin: with Process.StdinOnce this closes the
// container's stdin.
func (s *Shim) Attach(ctx context.Context, stdin, stdout, stderr bool) (net.Conn, error) {
	c, _, err := s.request(ctx, shimRequest{Op: "attach", Stdin: stdin, Stdout: stdout, Stderr: stderr})
	return c, err
}

// Resize sets the terminal size (rows h, columns w); no-op without a Terminal.
func (s *Shim) Resize(h, w uint16) error {
	_, err := s.call(context.Background(), shimRequest{Op: "resize", Height: h, Width: w})
	return err
}

// Kill sends sig to PID 1. Note PID 1 of a namespace only gets the signals
// it handles, except SIGKILL (and SIGSTOP).
func (s *Shim) Kill(sig syscall.Signal) error {
	_, err := s.call(context.Background(), shimRequest{Op: "kill", Signal: int(sig)})
	return err
}

// Wait blocks until PID 1 has exited (and the output is in the log and
// sent to attachers) and returns its exit status. When the shim is already
// gone it returns the status the shim left behind.
func (s *Shim) Wait(ctx context.Context) (ExitStatus, error) {
	r, err := s.call(ctx, shimRequest{Op: "wait"})
	if err == nil && r.Status != nil {
		return *r.Status, nil
	}
	if ctx.Err() != nil {
		return ExitStatus{}, ctx.Err()
	}
	// the shim went away: it wrote exit.json before
	for i := 0; i < 100; i++ {
		st, ok, rerr := ReadExitStatus(s.bundle)
		if rerr != nil {
			return st, rerr
		}
		if ok {
			return st, nil
		}
		if !shimAlive(s.bundle) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err == nil {
		err = ErrShimGone
	}
	return ExitStatus{}, err
}

func (s *Shim) call(ctx context.Context, req shimRequest) (shimResponse, error) {
	c, r, err := s.request(ctx, req)
	if err != nil {
		return r, err
	}
	c.Close()
	if r.Error != "" && req.Op != "start" {
		return r, errors.New(r.Error)
	}
	return r, nil
}

// request sends req and reads the one-line answer, leaving the connection
// positioned just after it (so that attach can hand it on as a stream).
func (s *Shim) request(ctx context.Context, req shimRequest) (net.Conn, shimResponse, error) {
	var resp shimResponse
	c, err := dialUnix(ctx, socketPath(s.bundle))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, resp, ErrShimGone
		}
		return nil, resp, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		c.Close()
		return nil, resp, err
	}
	// read byte by byte: nothing of the stream after the line may be lost
	var line []byte
	var one [1]byte
	for {
		n, err := c.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			line = append(line, one[0])
			continue
		}
		if err != nil {
			c.Close()
			if ctx.Err() != nil {
				return nil, resp, ctx.Err()
			}
			return nil, resp, ErrShimGone
		}
	}
	c.SetDeadline(time.Time{})
	if err := json.Unmarshal(line, &resp); err != nil {
		c.Close()
		return nil, resp, fmt.Errorf("runtime: bad answer from shim: %q", line)
	}
	if resp.Error != "" && req.Op == "attach" {
		c.Close()
		return nil, resp, errors.New(resp.Error)
	}
	return c, resp, nil
}

// shimAlive reports whether the shim of bundle still runs (its pid file
// names a live process whose command line names this bundle).
func shimAlive(bundle string) bool {
	pid := readPidFile(bundleFile(bundle, ShimPidFile))
	return pid > 0 && processRuns(pid, bundle)
}

// processRuns reports whether pid is still the shim of bundle and not a
// zombie. A shim's command line is "minidocker shim" (fixed when it was
// started as a spare, before it knew a bundle); once claimed, its working
// directory is its bundle.
func processRuns(pid int, bundle string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00") // a zombie's is empty
	if len(args) < 2 || args[1] != roleShim {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return false
	}
	if cwd == bundle {
		return true
	}
	real, err := filepath.EvalSymlinks(bundle) // the kernel shows the resolved path
	return err == nil && cwd == real
}

func readPidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// Cleanup removes what is left of a container after its exit (or of a
// failed or abandoned start): a shim still running is told to kill PID 1
// (and is killed itself if it does not end), the cgroup is emptied and
// removed, and the runtime's files in the bundle (socket, pid files,
// exit.json, shim.log) are deleted. spec.json, the log and the daemon's
// own files stay: the bundle directory is the daemon's to remove. Mounts
// need no cleanup: they live in the container's mount namespace. Cleanup is
// idempotent.
func Cleanup(bundleDir string) error {
	bundleDir, err := filepath.Abs(bundleDir)
	if err != nil {
		return err
	}
	if shimAlive(bundleDir) {
		shimPid := readPidFile(bundleFile(bundleDir, ShimPidFile))
		s := &Shim{bundle: bundleDir}
		s.Kill(syscall.SIGKILL)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Wait(ctx)
		cancel()
		// the shim ends right after it answered: wait until it has
		waitShimEnd(shimPid, bundleDir)
	}
	var errs []error
	if spec, err := ReadSpec(bundleDir); err == nil && spec.Cgroup.Name != "" {
		cg, err := cgroups.Load(spec.Cgroup.Parent, spec.Cgroup.Name)
		if errors.Is(err, fs.ErrNotExist) && len(leftCgroups(spec.Cgroup)) > 0 {
			// a half-removed cgroup (the memory directory gone, another
			// still there): complete it, then remove all of it
			cg, err = cgroups.New(spec.Cgroup.Parent, spec.Cgroup.Name)
		}
		if err == nil {
			if err := cg.KillAll(); err != nil {
				errs = append(errs, err)
			}
			if err := cg.Destroy(); err != nil {
				errs = append(errs, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := unmountShareableShm(bundleDir); err != nil { // runopts_linux.go
		errs = append(errs, err)
	}
	for _, f := range []string{SocketFile, UsernsExecSocket, ShimPidFile, InitPidFile, ExitFile, ShimLogFile, SpecFile + ".tmp", ExitFile + ".tmp"} {
		if err := os.Remove(bundleFile(bundleDir, f)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitShimEnd waits until the shim pid of bundle has ended; after a second
// it kills it, after two it gives up. It waits on a pidfd, which becomes
// readable at the exit, rather than polling /proc by the clock: a poll
// with a sleep costs its period on every `run --rm`, more under load.
func waitShimEnd(pid int, bundle string) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // ESRCH: gone already
	}
	defer unix.Close(fd)
	if !processRuns(pid, bundle) {
		return // a zombie, or the pid now belongs to another process
	}
	if pidfdExited(fd, time.Second) {
		return
	}
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	pidfdExited(fd, time.Second)
}

// pidfdExited waits up to timeout for the process of a pidfd to exit.
func pidfdExited(fd int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == unix.EINTR { // the Go runtime's preemption signal
			continue
		}
		return err == nil && n > 0
	}
}

// leftCgroups lists the directories of cgroup c that still exist, in any
// hierarchy (cgroups.List knows the hierarchies).
func leftCgroups(c Cgroup) []string {
	names, err := cgroups.List(c.Parent)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if n == c.Name {
			out = append(out, n)
		}
	}
	return out
}

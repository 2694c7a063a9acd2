package libcontainer

// docker exec: a new process in exactly the namespaces of a container's
// PID 1 (ipc, uts, net, pid, mnt) and in its cgroup, started from the
// calling process on a locked thread (execns_linux.go). With a Terminal it
// gets a pty of its own; otherwise pipes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ExecIO is where an exec'd process's stdio goes. Nil Stdin gives it
// /dev/null; nil Stdout/Stderr discard. With Process.Terminal everything
// the terminal prints goes to Stdout, raw.
type ExecIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// ExecProcess is a running exec'd process.
type ExecProcess struct {
	// Pid is the process's pid as the host sees it.
	Pid int

	console *os.File
	copies  sync.WaitGroup
	done    chan struct{}
	code    int
	err     error
}

// Exec starts p in the namespaces (ipc, uts, net, pid, mnt) and the
// cgroup of the container whose PID 1 is initPid. p.Env is the complete
// environment (the daemon merges the container's and the exec's); p.Cwd ""
// means "/"; p.User is resolved in the container. Exec returns once the
// command runs, or a *StartError (127 not found, 126 not executable, 125
// otherwise) when it could not start it. The process is a child of the
// caller (the daemon), like docker's exec processes are of their shim.
func Exec(ctx context.Context, initPid int, p Process, stdio ExecIO) (*ExecProcess, error) {
	if len(p.Args) == 0 {
		return nil, &StartError{Code: 125, Message: "no command specified"}
	}
	return execWith(initPid, &p, stdio, func(child []*os.File) (int, func() (int, error), error) {
		proc, err := startInContainer(initPid, &p, child)
		if err != nil {
			return 0, nil, err
		}
		return proc.Pid, func() (int, error) { return waitChild(proc) }, nil
	})
}

// execWith is what both ways of exec share (Exec here, execThroughHelper
// in a user namespace): check that the container still runs, open the
// stdio, start the process (start gets the child's ends, returns its pid
// and how to wait for its exit code), then copy the stdio and reap it.
func execWith(initPid int, p *Process, stdio ExecIO, start func(child []*os.File) (int, func() (int, error), error)) (*ExecProcess, error) {
	if err := syscall.Kill(initPid, 0); err != nil {
		return nil, fmt.Errorf("runtime: container process %d is not running: %w", initPid, err)
	}
	e := &ExecProcess{done: make(chan struct{})}
	ends, err := e.openStdio(initPid, p, stdio.Stdin != nil)
	if err != nil {
		return nil, err
	}
	pid, wait, err := start(ends.child)
	ends.closeChild() // the process has its own copies
	if err != nil {
		ends.closeOurs()
		return nil, err
	}
	e.Pid = pid
	e.copyStdio(ends, stdio)
	go e.reap(wait)
	return e, nil
}

// execStdio holds both ends of an exec'd process's stdio: the child's
// (stdin, stdout, stderr, in that order) and ours.
type execStdio struct {
	child      []*os.File
	stdinW     *os.File // the stdin pipe's end we write
	outR, errR *os.File // nil errR: a terminal merges the two
}

func (x *execStdio) closeChild() {
	for _, f := range x.child {
		f.Close()
	}
	x.child = nil
}

func (x *execStdio) closeOurs() {
	for _, f := range []*os.File{x.stdinW, x.outR, x.errR} {
		if f != nil {
			f.Close()
		}
	}
}

// openStdio makes the process's stdio: a pty of the container's own
// devpts (Terminal: e.console is the master), or pipes, with /dev/null
// as stdin when the caller sends none.
func (e *ExecProcess) openStdio(initPid int, p *Process, withStdin bool) (x *execStdio, err error) {
	x = &execStdio{}
	defer func() {
		if err != nil {
			x.closeChild()
			x.closeOurs()
		}
	}()
	if p.Terminal {
		master, slave, err := openContainerPty(initPid)
		if err != nil {
			return x, err
		}
		if p.ConsoleHeight > 0 && p.ConsoleWidth > 0 {
			setWinsize(master, p.ConsoleHeight, p.ConsoleWidth)
		}
		e.console, x.outR = master, master
		x.child = []*os.File{slave, slave, slave}
		return x, nil
	}
	var in *os.File
	if withStdin {
		if in, x.stdinW, err = os.Pipe(); err != nil {
			return x, err
		}
	} else if in, err = os.Open(os.DevNull); err != nil {
		return x, err
	}
	x.child = append(x.child, in)
	r, w, err := os.Pipe()
	if err != nil {
		return x, err
	}
	x.outR, x.child = r, append(x.child, w)
	if r, w, err = os.Pipe(); err != nil {
		return x, err
	}
	x.errR, x.child = r, append(x.child, w)
	return x, nil
}

// copyStdio copies the process's output to the caller's writers and the
// caller's stdin to it. At the end of stdin a pipe is closed (the process
// reads EOF, as docker's exec does); a terminal stays open: a client
// that stops typing, or detaches, leaves the process running.
func (e *ExecProcess) copyStdio(x *execStdio, stdio ExecIO) {
	copyOut := func(r *os.File, w io.Writer) {
		defer e.copies.Done()
		if w == nil {
			w = io.Discard
		}
		io.Copy(w, r) // a pty ends with EIO
		r.Close()
	}
	e.copies.Add(1)
	go copyOut(x.outR, stdio.Stdout)
	if x.errR != nil {
		e.copies.Add(1)
		go copyOut(x.errR, stdio.Stderr)
	}
	if stdio.Stdin == nil {
		return
	}
	go func() {
		if e.console != nil {
			io.Copy(e.console, stdio.Stdin)
			return
		}
		io.Copy(x.stdinW, stdio.Stdin)
		x.stdinW.Close()
	}()
}

// reap waits for the process (waitExit: its exit code) and its output,
// and records the exit code.
func (e *ExecProcess) reap(waitExit func() (int, error)) {
	code, err := waitExit()
	e.copies.Wait()
	if e.console != nil {
		e.console.Close()
	}
	e.code, e.err = code, err
	close(e.done)
}

// waitChild waits for a child of this process and returns its exit code.
func waitChild(proc *os.Process) (int, error) {
	ps, err := proc.Wait()
	if err != nil {
		return 0, err
	}
	return exitCodeOf(ps), nil
}

func exitCodeOf(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
	return ps.ExitCode()
}

// Resize sets the exec's terminal size; no-op without a Terminal.
func (e *ExecProcess) Resize(h, w uint16) error {
	if e.console == nil {
		return nil
	}
	return setWinsize(e.console, h, w)
}

// Kill sends sig to the exec'd process.
func (e *ExecProcess) Kill(sig syscall.Signal) error {
	select {
	case <-e.done:
		return errors.New("runtime: exec process has exited")
	default:
	}
	return syscall.Kill(e.Pid, sig)
}

// Done is closed when the process has exited and its output is copied.
func (e *ExecProcess) Done() <-chan struct{} { return e.done }

// Wait waits for the process to exit and its output to be copied, and
// returns its exit code (signal n → 128+n).
func (e *ExecProcess) Wait(ctx context.Context) (int, error) {
	select {
	case <-e.done:
		return e.code, e.err
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// openContainerPty opens a terminal pair in the container's own devpts
// (its /dev/pts/ptmx), so that the exec'd process's terminal is a
// /dev/pts/N that exists inside the container (tty, ssh-style prompts and
// job control need its name). The slave is opened from the master with
// TIOCGPTPEER, never by a path. Every lookup goes through an os.Root on
// the container's root and the device must be devpts' ptmx (5:2);
// otherwise the host's ptmx is used, as before.
func openContainerPty(initPid int) (master, slave *os.File, err error) {
	root, err := os.OpenRoot(fmt.Sprintf("/proc/%d/root", initPid))
	if err != nil {
		return pty.Open()
	}
	defer root.Close()
	fi, err := root.Lstat("dev/pts/ptmx")
	if err != nil {
		return pty.Open()
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&os.ModeCharDevice == 0 || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		return pty.Open()
	}
	m, err := root.OpenFile("dev/pts/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return pty.Open()
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		m.Close()
		return pty.Open()
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		m.Close()
		return pty.Open()
	}
	return m, os.NewFile(fd, "pty-slave"), nil
}

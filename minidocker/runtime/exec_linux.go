package runtime

// docker exec: a new process in exactly the namespaces of a container's
// PID 1, in its cgroup. Go cannot setns(CLONE_NEWNS) in a process with
// several threads sharing one fs_struct, and setns(CLONE_NEWPID) only
// affects children, so the work is done by a small helper, this binary
// re-executed as "nsexec":
//
//  1. it moves itself into the container's cgroup (the exec'd process is
//     born inside it);
//  2. on its locked main goroutine: unshare(CLONE_FS), then setns into
//     ipc, uts, net, pid and, last, mnt of PID 1;
//  3. from that same thread it resolves user, PATH and cwd inside the
//     container and fork/execs the command, which so lands in the
//     container's PID namespace;
//  4. it reports the command's pid (or docker's 126/127 error) on fd 3 and
//     waits, then exits with the command's code (signal n → 128+n).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
)

const nsexecConfigEnv = "_MINIDOCKER_NSEXEC"

type nsexecConfig struct {
	InitPid int
	Cgroup  Cgroup
	Process Process
}

type nsexecReport struct {
	Pid   int    `json:",omitempty"`
	Error string `json:",omitempty"`
	Code  int    `json:",omitempty"`
}

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

	cmd     *exec.Cmd
	console *os.File
	copies  sync.WaitGroup
	stdinW  *os.File
	done    chan struct{}
	code    int
	err     error
}

// Exec starts p in the namespaces (ipc, uts, net, pid, mnt) of the
// container whose PID 1 is initPid, and in its cgroup cg (Parent and Name;
// Resources are ignored). p.Env is the complete environment (the daemon
// merges the container's and the exec's); p.Cwd "" means "/". Exec returns
// once the command runs, or a *StartError (127 not found, 126 not
// executable) when it could not be started. The exec'd process is a child
// of the calling process (through the helper), not of the shim.
func Exec(ctx context.Context, initPid int, cg Cgroup, p Process, stdio ExecIO) (*ExecProcess, error) {
	if len(p.Args) == 0 {
		return nil, &StartError{Code: 125, Message: "no command specified"}
	}
	if err := syscall.Kill(initPid, 0); err != nil {
		return nil, fmt.Errorf("runtime: container process %d is not running: %w", initPid, err)
	}
	cfg, err := json.Marshal(nsexecConfig{InitPid: initPid, Cgroup: Cgroup{Parent: cg.Parent, Name: cg.Name}, Process: p})
	if err != nil {
		return nil, err
	}
	e := &ExecProcess{done: make(chan struct{})}
	var closeAfter []*os.File
	defer func() {
		for _, f := range closeAfter {
			f.Close()
		}
	}()
	cmd := &exec.Cmd{
		Path: selfExe,
		Args: []string{os.Args[0], roleNsexec},
		Env:  []string{roleEnv + "=" + roleNsexec, nsexecConfigEnv + "=" + string(cfg), "GOMAXPROCS=1", "GOGC=off"},
		Dir:  "/",
	}
	var outR, errR *os.File
	if p.Terminal {
		master, slave, err := pty.Open()
		if err != nil {
			return nil, err
		}
		if p.ConsoleHeight > 0 && p.ConsoleWidth > 0 {
			pty.Setsize(master, &pty.Winsize{Rows: p.ConsoleHeight, Cols: p.ConsoleWidth})
		}
		e.console = master
		closeAfter = append(closeAfter, slave)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		outR = master
	} else {
		if stdio.Stdin != nil {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			closeAfter = append(closeAfter, r)
			cmd.Stdin, e.stdinW = r, w
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		closeAfter = append(closeAfter, w)
		cmd.Stdout, outR = w, r
		r, w, err = os.Pipe()
		if err != nil {
			return nil, err
		}
		closeAfter = append(closeAfter, w)
		cmd.Stderr, errR = w, r
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer syncR.Close()
	closeAfter = append(closeAfter, syncW)
	cmd.ExtraFiles = []*os.File{syncW}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("runtime: start exec helper: %w", err)
	}
	e.cmd = cmd
	for _, f := range closeAfter {
		f.Close()
	}
	closeAfter = nil

	var rep nsexecReport
	derr := json.NewDecoder(syncR).Decode(&rep)
	if derr != nil || rep.Error != "" {
		cmd.Wait()
		for _, f := range []*os.File{outR, errR, e.stdinW, e.console} {
			if f != nil {
				f.Close()
			}
		}
		if derr != nil {
			return nil, fmt.Errorf("runtime: exec helper failed: %v", cmd.ProcessState)
		}
		return nil, &StartError{Code: rep.Code, Message: rep.Error}
	}
	e.Pid = rep.Pid

	copyOut := func(r *os.File, w io.Writer) {
		defer e.copies.Done()
		if w == nil {
			w = io.Discard
		}
		io.Copy(w, r) // a pty ends with EIO
		r.Close()
	}
	e.copies.Add(1)
	go copyOut(outR, stdio.Stdout)
	if errR != nil {
		e.copies.Add(1)
		go copyOut(errR, stdio.Stderr)
	}
	if stdio.Stdin != nil {
		in := e.stdinW
		if e.console != nil {
			in = e.console
		}
		go func() {
			io.Copy(in, stdio.Stdin)
			if e.console != nil {
				e.console.Write([]byte{4})
			} else {
				e.stdinW.Close()
			}
		}()
	}
	go func() {
		err := cmd.Wait()
		e.copies.Wait()
		if e.console != nil {
			e.console.Close()
		}
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			e.code = exitCodeOf(ee.ProcessState)
		default:
			e.err = err
		}
		close(e.done)
	}()
	return e, nil
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
	return pty.Setsize(e.console, &pty.Winsize{Rows: h, Cols: w})
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

// runNsexec is the helper's side.
func runNsexec() {
	goruntime.LockOSThread() // never unlocked: this thread changes namespaces
	syscall.CloseOnExec(3)
	report := os.NewFile(3, "report")
	fail := func(se *StartError) {
		json.NewEncoder(report).Encode(nsexecReport{Error: se.Message, Code: se.Code})
		os.Exit(se.Code)
	}
	var cfg nsexecConfig
	if err := json.Unmarshal([]byte(os.Getenv(nsexecConfigEnv)), &cfg); err != nil {
		fail(startErr("exec: bad config: %v", err))
	}
	if cfg.Cgroup.Name != "" {
		cg, err := cgroups.Load(cfg.Cgroup.Parent, cfg.Cgroup.Name)
		if err == nil {
			err = cg.AddProcess(os.Getpid())
		}
		if err != nil {
			fail(startErr("exec: join cgroup: %v", err))
		}
	}
	if err := joinNamespaces(cfg.InitPid); err != nil {
		fail(startErr("exec: %v", err))
	}
	p := &cfg.Process
	path, argv, env, u, serr := prepareExec(p)
	if serr != nil {
		fail(serr)
	}
	groups := u.Groups
	if groups == nil {
		groups = []uint32{}
	}
	sys := &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: u.Uid, Gid: u.Gid, Groups: groups},
		Setsid:     true,
	}
	if p.Terminal {
		sys.Setctty, sys.Ctty = true, 0
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir:   cwdOf(p),
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   sys,
	})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) && cwdOf(p) != "/" {
			if _, serr := os.Stat(cwdOf(p)); serr != nil {
				fail(startErr("chdir to cwd (%q) set in config.json failed: no such file or directory", cwdOf(p)))
			}
		}
		fail(execError(p.Args[0], err))
	}
	json.NewEncoder(report).Encode(nsexecReport{Pid: pid})
	report.Close()
	os.Stdin.Close()
	os.Stdout.Close()
	os.Stderr.Close()
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		break
	}
	switch {
	case ws.Exited():
		os.Exit(ws.ExitStatus())
	case ws.Signaled():
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(1)
}

// joinNamespaces moves the calling (locked) thread into PID 1's ipc, uts,
// net, pid (for its children) and mount namespaces.
func joinNamespaces(initPid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	kinds := []struct {
		name string
		flag int
	}{{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET}, {"pid", unix.CLONE_NEWPID}, {"mnt", unix.CLONE_NEWNS}}
	fds := make([]int, len(kinds))
	// open all first: after joining mnt, /proc is the container's
	for i, k := range kinds {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", initPid, k.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s namespace of %d: %w", k.name, initPid, err)
		}
		fds[i] = fd
	}
	for i, k := range kinds {
		err := unix.Setns(fds[i], k.flag)
		unix.Close(fds[i])
		if err != nil {
			return fmt.Errorf("setns %s: %w", k.name, err)
		}
	}
	return unix.Chdir("/")
}

package libcontainer

// In-process exec, without cgo (chapter 03's exec-cp-commit.md, "exec"): a goroutine locks its OS
// thread (and never unlocks it, so Go discards the thread afterwards),
// unshares its fs
// attributes (CLONE_FS: threads share cwd/root, and setns(CLONE_NEWNS)
// refuses a shared one), joins PID 1's ipc, uts, net, pid and mnt
// namespaces, looks the command up in the container, and fork/execs it
// from that same thread: the child inherits the thread's namespaces and
// root, so it is born inside the container. Its cgroup it gets at the
// fork (v2: clone3's CLONE_INTO_CGROUP) or at its execve stop (ptrace:
// joinStopped), never through the thread: a daemon thread in the
// container's cgroup would list the daemon in cgroup.procs, where the
// shim's KillAll or an OOM kill would find it. The daemon's other
// threads never change; Go starts new threads from a clean template thread
// when a locked thread would otherwise be cloned.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/seccomp"
)

// cgroupTarget is how a new process joins the cgroup of initPid: on v2 a
// directory fd (for clone3's CLONE_INTO_CGROUP, and its cgroup.procs), on
// v1 the "tasks" files, one per hierarchy, a stopped child's pid is
// written to.
type cgroupTarget struct {
	v2fd    int // -1 if none
	v1Tasks []string
}

func (c *cgroupTarget) close() {
	if c.v2fd >= 0 {
		unix.Close(c.v2fd)
	}
}

// cgroupOf finds the cgroup directories of pid from /proc/<pid>/cgroup
// and the cgroup mounts in /proc/self/mountinfo.
func cgroupOf(pid int) (*cgroupTarget, error) {
	t := &cgroupTarget{v2fd: -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	type mnt struct{ root, point, opts string }
	var v1 []mnt
	var v2 *mnt
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 0 || len(fields) < sep+4 {
			continue
		}
		m := mnt{root: fields[3], point: fields[4], opts: fields[sep+3]}
		switch fields[sep+1] {
		case "cgroup":
			v1 = append(v1, m)
		case "cgroup2":
			if v2 == nil {
				v2 = &m
			}
		}
	}
	f.Close()
	inDir := func(m mnt, path string) string {
		rel, err := filepath.Rel(m.root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return ""
		}
		return filepath.Join(m.point, rel)
	}
	isV2 := cgroups.Detect() == cgroups.V2
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" {
			if isV2 && v2 != nil {
				if dir := inDir(*v2, parts[2]); dir != "" {
					fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
					if err != nil {
						return nil, err
					}
					t.v2fd = fd
				}
			}
			continue
		}
		if isV2 {
			continue
		}
		ctls := strings.Split(parts[1], ",")
		for _, m := range v1 {
			opts := "," + m.opts + ","
			all := true
			for _, c := range ctls {
				if !strings.Contains(opts, ","+c+",") {
					all = false
					break
				}
			}
			if all {
				if dir := inDir(m, parts[2]); dir != "" {
					t.v1Tasks = append(t.v1Tasks, filepath.Join(dir, "tasks"))
				}
				break
			}
		}
	}
	return t, nil
}

type forkResult struct { // the outcome of forkInContainer
	proc *os.Process
	err  error
}

// startInContainer starts p inside the container of initPid with the given
// stdio files (already opened in the caller); see the file comment.
func startInContainer(initPid int, p *Process, files []*os.File) (*os.Process, error) {
	cg, err := cgroupOf(initPid)
	if err != nil {
		return nil, startErr("exec: find the container's cgroup: %v", err)
	}
	defer cg.close()
	// open the namespaces before joining any: after mnt, /proc is another
	nsfds := make([]int, len(nsKinds))
	for i, k := range nsKinds {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", initPid, k.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, f := range nsfds[:i] {
				unix.Close(f)
			}
			return nil, startErr("exec: open %s namespace of %d: %v", k.name, initPid, err)
		}
		nsfds[i] = fd
	}
	defer func() {
		for _, f := range nsfds {
			unix.Close(f)
		}
	}()
	var r forkResult
	OnThrowawayThread(func() {
		r.proc, r.err = forkInContainer(cg, nsfds, p, files)
	})
	return r.proc, r.err
}

// OnThrowawayThread runs fn on a locked OS thread that is discarded
// afterwards (the goroutine ends without unlocking it), so fn may change
// the thread's namespaces, fs attributes, cgroup or capabilities. Use it
// instead of a bare `go func(){ runtime.LockOSThread(); … }()`: that one may
// start on the main thread, which Go never ends but wedges — the process
// then lives on with its main thread in another namespace (and
// /proc/self/ns, /proc/self/mountinfo describe that thread). It is
// never the main thread: Go never ends that one, and /proc/self shows its
// namespaces, so it must stay clean. When the goroutine happens to start
// on it, it keeps the main thread busy (locked, asleep) so that the work
// lands on another thread, then gives it back untouched.
func OnThrowawayThread(fn func()) {
	done := make(chan struct{})
	work := func() {
		runtime.LockOSThread() // never unlocked
		fn()
		close(done)
	}
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			work()
			return
		}
		go work()
		<-done
		runtime.UnlockOSThread()
	}()
	<-done
}

var nsKinds = []struct {
	name string
	flag int
}{{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET}, {"pid", unix.CLONE_NEWPID}, {"mnt", unix.CLONE_NEWNS}}

// openJoin opens, for writing, the files a child stopped at its execve
// is moved into cg with (joinStopped): v2 its cgroup.procs, v1 each
// hierarchy's tasks (the child is one thread then). They are opened
// before the thread enters the container's mount namespace, where these
// paths mean nothing, and while it is still host root: the kernel checks
// the opener's right to write them.
func (c *cgroupTarget) openJoin() (fds []int, err error) {
	open := func(dirfd int, path string) error {
		fd, err := unix.Openat(dirfd, path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			fds = append(fds, fd)
		}
		return err
	}
	if c.v2fd >= 0 {
		err = open(c.v2fd, "cgroup.procs")
	}
	for _, tasks := range c.v1Tasks {
		if err == nil {
			err = open(unix.AT_FDCWD, tasks)
		}
	}
	if err != nil {
		closeFds(fds)
		return nil, err
	}
	return fds, nil
}

// forkInContainer runs on a locked thread it is allowed to ruin: the
// thread enters the container's namespaces, takes on the process's user
// and confinement, and forks the child, which inherits all of it; the
// child is put in the container's cgroup at its fork or its execve stop.
func forkInContainer(cg *cgroupTarget, nsfds []int, p *Process, files []*os.File) (*os.Process, error) {
	joinFds, err := cg.openJoin()
	if err != nil {
		return nil, startErr("exec: join cgroup: %v", err)
	}
	defer closeFds(joinFds)
	last := lastCap() // before joining the container's mount namespace
	if err := enterNamespaces(nsfds); err != nil {
		return nil, err
	}
	x, err := prepareInside(p, files)
	if err != nil {
		return nil, err
	}
	traced := mustTraceExec(cg, p, x.filter != nil, x.user.Uid)
	// the child inherits this thread's capabilities, user, no_new_privs
	// and seccomp filter: confine the thread itself (security_linux.go)
	if err := confine(&p.Security, x.filter, last, func() error { return setCredentials(x.user) }); err != nil {
		return nil, startErr("exec: %v", err)
	}
	return startExecChild(p, cg, traced, joinFds, x.path, x.argv, x.env, files)
}

// execInside is what an exec needs once its thread is in the container's
// namespaces, for both ways in (forkInContainer, and forkInUserns in a
// user namespace): the command and user resolved in the container's own
// files, and the seccomp filter to confine the thread with.
type execInside struct {
	path      string
	argv, env []string
	user      execUser
	filter    []seccomp.Instruction
}

// prepareInside resolves p inside the container (prepareExec), gives a
// terminal to the user the command runs as, and compiles its filter.
func prepareInside(p *Process, files []*os.File) (execInside, error) {
	path, argv, env, u, serr := prepareExec(p)
	if serr != nil {
		return execInside{}, serr
	}
	if p.Terminal {
		if err := giveTerminal(int(files[0].Fd()), u.Uid); err != nil {
			return execInside{}, startErr("exec: %v", err)
		}
	}
	filter, err := seccompFilter(&p.Security)
	if err != nil {
		return execInside{}, startErr("exec: %v", err)
	}
	return execInside{path: path, argv: argv, env: env, user: u, filter: filter}, nil
}

// enterNamespaces moves this thread into the container's namespaces (in
// nsKinds' order) and its root directory. CLONE_FS is unshared first: the
// thread must not share its root and cwd with the daemon's other threads.
func enterNamespaces(nsfds []int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return startErr("exec: unshare(CLONE_FS): %v", err)
	}
	for i, k := range nsKinds {
		if err := unix.Setns(nsfds[i], k.flag); err != nil {
			return startErr("exec: setns %s: %v", k.name, err)
		}
	}
	if err := unix.Chdir("/"); err != nil {
		return startErr("exec: %v", err)
	}
	return nil
}

// mustTraceExec says whether the child must be stopped at its execve
// (ptrace) to be finished from outside (joinStopped) rather than placed by
// clone3(CLONE_INTO_CGROUP).
//   - On v1 always: there is no clone3 into a v1 cgroup.
//   - On v2, clone3 cannot be used when a seccomp filter will be on the
//     thread (docker's profile answers clone3 with ENOSYS), nor when the
//     thread becomes another user: the kernel checks the caller's right to
//     write cgroup.procs at the clone, and a uid other than 0 has none
//     (EACCES). cgroup.procs is then opened while the thread is still root.
//   - The container's rlimits are set on the child at that same stop,
//     before it runs: the daemon's own must not change, as all its threads
//     share them.
func mustTraceExec(cg *cgroupTarget, p *Process, filtered bool, uid uint32) bool {
	if cg.v2fd < 0 {
		return len(cg.v1Tasks) > 0 || len(p.Rlimits) > 0
	}
	return filtered || uid != 0 || len(p.Rlimits) > 0
}

// startExecChild forks and execs the process from the prepared thread and,
// when traced, finishes it at its execve stop.
func startExecChild(p *Process, cg *cgroupTarget, traced bool, joinFds []int, path string, argv, env []string, files []*os.File) (*os.Process, error) {
	var finish func(pid int) error
	if traced {
		finish = func(pid int) error { return joinStopped(pid, joinFds, p.Rlimits) }
	}
	return forkExecChild(p, execProcAttr(p, cg, traced), path, argv, env, files, finish)
}

// forkExecChild forks and execs the process with sys; finish, when not
// nil, completes a child stopped at its execve (sys.Ptrace) and lets it
// go. A child that could not be finished is killed: it never runs.
func forkExecChild(p *Process, sys *syscall.SysProcAttr, path string, argv, env []string, files []*os.File, finish func(pid int) error) (*os.Process, error) {
	cwd := cwdOf(p)
	if _, err := os.Stat(cwd); err != nil {
		return nil, startErr("chdir to cwd (%q) set in config.json failed: no such file or directory", cwd)
	}
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{Dir: cwd, Env: env, Files: files, Sys: sys})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, execError(p.Args[0], err)
	}
	if finish != nil {
		if err := finish(proc.Pid); err != nil {
			proc.Kill()
			proc.Wait()
			var se *StartError
			if errors.As(err, &se) {
				return nil, se
			}
			return nil, startErr("exec: %v", err)
		}
	}
	return proc, nil
}

// execProcAttr is how the exec'd child is forked: a session of its own,
// its terminal, and on v2 its cgroup — by clone3(CLONE_INTO_CGROUP), or,
// when a seccomp filter or another user is on the forking thread (see
// Exec), by stopping the child at its execve (ptrace) until it is moved
// there (joinStopped).
func execProcAttr(p *Process, cg *cgroupTarget, traced bool) *syscall.SysProcAttr {
	sys := &syscall.SysProcAttr{Setsid: true, Ptrace: traced}
	if p.Terminal {
		sys.Setctty, sys.Ctty = true, 0
	}
	if cg.v2fd >= 0 && !traced {
		sys.UseCgroupFD, sys.CgroupFD = true, cg.v2fd
	}
	return sys
}

// joinStopped moves a child that stopped at its execve (PTRACE_TRACEME)
// into the container's cgroups (joinFds: see openJoin) and sets its
// rlimits, then lets it go: it runs its first instruction inside the
// container's cgroups and limits. Must run on the thread that forked it
// (the tracer).
func joinStopped(pid int, joinFds []int, rlimits []Rlimit) error {
	if err := waitExecStop(pid); err != nil {
		return err
	}
	for _, fd := range joinFds {
		if _, err := unix.Write(fd, []byte(fmt.Sprint(pid))); err != nil {
			return fmt.Errorf("join cgroup: %w", err)
		}
	}
	if err := setChildRlimits(pid, rlimits); err != nil { // runopts_linux.go
		return err
	}
	return unix.PtraceDetach(pid)
}

// waitExecStop waits until the traced child pid stops at its execve.
func waitExecStop(pid int) error {
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return fmt.Errorf("wait for the exec stop: %w", err)
	}
	if !ws.Stopped() {
		return fmt.Errorf("the process ended before it ran (status %v)", ws)
	}
	return nil
}

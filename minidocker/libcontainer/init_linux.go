package libcontainer

// The container's init: the shim starts it (re-executing this binary as
// "init") in new mount, PID, UTS, IPC (and network) namespaces. It blocks
// on the sync socket (fd 3) until the shim sends the spec, then enters the
// container's cgroup if it is not there yet (shim.placeInit), builds the
// container's root and pivots into it, opens its terminal there and sends
// the master to the shim (fd 4, with a Terminal: console_linux.go). At
// "go" it execve's the CMD, which so becomes PID 1. The sync socket is
// close-on-exec: the shim reading EOF means the exec worked; a failure is
// sent back as a JSON StartError.
//
// As with runc's create and start, the spec comes when the shim has made
// the container and "go" only at the start: init builds the root while
// the daemon attaches and asks for the start, and what is left after "go"
// is the rlimits and the exec. A failure before "go" is kept and reported
// at "go", so a start still sees its error (and the shim its status).

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
)

const initSyncFd = 3

// capLast is the kernel's highest capability number.
var capLast = unix.CAP_LAST_CAP

// initConfig is what the shim sends init once it has made the
// container; "go" (initGo) follows at the start.
type initConfig struct {
	Spec Spec
	// JoinCgroup: init moves its own thread into Spec.Cgroup first
	// (cgroup v1: shim.placeInit says why).
	JoinCgroup bool `json:",omitempty"`
}

func runInit() {
	// capabilities are per thread: the one that drops them must exec
	runtime.LockOSThread()
	trace("init: main")
	syscall.CloseOnExec(initSyncFd)
	syscall.CloseOnExec(initConsoleFd) // there with a Terminal only: harmless otherwise
	var serr *StartError
	if len(os.Args) > 2 && os.Args[2] == spareInitArg {
		serr = waitAsSpare() // spareinit_linux.go: until claimed
	}
	sync := os.NewFile(initSyncFd, "sync")
	var cfg initConfig
	dec := json.NewDecoder(sync)
	if err := dec.Decode(&cfg); err != nil {
		os.Exit(1) // the shim went away before it sent the spec
	}
	trace("init: spec")
	if serr == nil && cfg.JoinCgroup {
		serr = joinOwnCgroup(cfg.Spec.Cgroup)
	}
	if serr == nil {
		serr = initContainer(&cfg.Spec)
	}
	if !awaitGo(io.MultiReader(dec.Buffered(), sync)) {
		os.Exit(1) // the shim went away before "go"
	}
	trace("init: go")
	if serr == nil {
		serr = execContainer(&cfg.Spec.Process)
	}
	json.NewEncoder(sync).Encode(serr)
	os.Exit(serr.Code)
}

func startErr(format string, a ...any) *StartError {
	return &StartError{Code: 125, Message: fmt.Sprintf(format, a...)}
}

// initGo is the shim's "go": the one byte after the spec.
const initGo = 'g'

// awaitGo waits for the shim's "go" (past the newline that ends the
// spec's JSON line); false: the shim went away.
func awaitGo(r io.Reader) bool {
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return false
		}
		if b[0] != '\n' {
			return b[0] == initGo
		}
	}
}

// joinOwnCgroup moves init's thread (locked: it will exec the CMD) into
// the container's cgroup, while the host's cgroup files are still in
// sight. A failure is init's start error: the CMD never runs outside.
func joinOwnCgroup(c Cgroup) *StartError {
	cg, err := cgroups.Load(c.Parent, c.Name)
	if err == nil {
		err = cg.AddThisThread()
	}
	if err != nil {
		return startErr("join cgroup: %v", err)
	}
	trace("init: in its cgroup")
	return nil
}

// initContainer builds the container around init, before "go": sysctls,
// root, terminal, names, lo.
func initContainer(s *Spec) *StartError {
	p := &s.Process
	if len(p.Args) == 0 {
		return startErr("no command specified")
	}
	capLast = lastCap() // while the host's /proc is still there
	// in the container's namespaces, before /proc/sys becomes read-only
	if err := writeSysctls(s.Sysctls); err != nil {
		return startErr("%v", err)
	}
	if err := setupRootfs(s); err != nil {
		return startErr("%v", err)
	}
	trace("init: rootfs ready")
	if p.Terminal {
		if err := setupConsole(p); err != nil {
			return startErr("%v", err)
		}
	}
	if s.Hostname != "" && !s.UTS.Host { // never the host's name
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return startErr("sethostname: %v", err)
		}
	}
	if s.Domainname != "" && !s.UTS.Host {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return startErr("setdomainname: %v", err)
		}
	}
	if s.Network.Mode == "none" || s.Network.Mode == "" {
		if err := loopbackUp(); err != nil {
			return startErr("bring up lo: %v", err)
		}
	}
	return nil
}

// execContainer is init's part after "go"; it returns only on failure.
// The rlimits come last: a low RLIMIT_NPROC must not stop the Go runtime
// from making a thread while init waits.
func execContainer(p *Process) *StartError {
	if err := setRlimits(p.Rlimits); err != nil {
		return startErr("%v", err)
	}
	return finishExec(p)
}

// finishExec does what init and nsexec share once they see the container's
// filesystem: user, environment, working directory, PATH lookup, execve.
func finishExec(p *Process) *StartError {
	path, argv, env, u, serr := prepareExec(p)
	if serr != nil {
		return serr
	}
	if p.Terminal {
		if err := giveTerminal(0, u.Uid); err != nil {
			return startErr("%v", err)
		}
	}
	if err := syscall.Chdir(cwdOf(p)); err != nil {
		return startErr("chdir to cwd (%q) set in config.json failed: %v", cwdOf(p), err)
	}
	filter, err := seccompFilter(&p.Security)
	if err != nil {
		return startErr("%v", err)
	}
	if err := confine(&p.Security, filter, capLast, func() error { return setCredentials(u) }); err != nil {
		return startErr("%v", err)
	}
	err = syscall.Exec(path, argv, env)
	return execError(p.Args[0], err)
}

func cwdOf(p *Process) string {
	if p.Cwd == "" {
		return "/"
	}
	return p.Cwd
}

// prepareExec resolves the user, completes the environment (HOME, PATH),
// makes the working directory and finds the executable, all as seen from
// the calling thread's root.
func prepareExec(p *Process) (path string, argv, env []string, u execUser, serr *StartError) {
	u, err := resolveUser(p.User, "/etc/passwd", "/etc/group")
	if err != nil {
		return "", nil, nil, u, &StartError{Code: 126, Message: err.Error()}
	}
	if u.Groups, err = addGroups(u.Groups, p.AdditionalGroups, "/etc/group"); err != nil { // runopts_linux.go
		return "", nil, nil, u, &StartError{Code: 126, Message: err.Error()}
	}
	env = append([]string(nil), p.Env...)
	if _, ok := envValue(env, "PATH"); !ok {
		env = append(env, "PATH="+defaultPath)
	}
	if _, ok := envValue(env, "HOME"); !ok {
		env = append(env, "HOME="+u.Home)
	}
	if p.Terminal {
		if _, ok := envValue(env, "TERM"); !ok {
			env = append(env, "TERM=xterm")
		}
	}
	cwd := cwdOf(p)
	if _, err := os.Stat(cwd); os.IsNotExist(err) {
		if err := os.MkdirAll(cwd, 0o755); err == nil && (u.Uid != 0 || u.Gid != 0) {
			os.Chown(cwd, int(u.Uid), int(u.Gid))
		}
	}
	path, serr = lookPath(p.Args[0], env)
	if serr != nil {
		return "", nil, nil, u, serr
	}
	return path, p.Args, env, u, nil
}

// setCredentials switches the calling thread (only it: raw system calls,
// not Go's all-threads syscall.Setuid) to u's user and groups. That thread
// then execs (init) or forks (exec) and is gone; the others never change.
func setCredentials(u execUser) error {
	groups := make([]int, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = int(g)
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.Gid), uintptr(u.Gid), uintptr(u.Gid)); e != 0 {
		return fmt.Errorf("setgid: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.Uid), uintptr(u.Uid), uintptr(u.Uid)); e != 0 {
		return fmt.Errorf("setuid: %w", e)
	}
	return nil
}

// loopbackUp sets IFF_UP on lo, with an ioctl (no netlink needed).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

package libcontainer

// The user-namespace helper ("minidocker userns-helper"): how exec works in
// a container with a user namespace (--userns-remap), without cgo.
//
// An exec must join the container's user namespace, and the kernel
// refuses setns(CLONE_NEWUSER) to a multithreaded process: every Go
// process, the daemon included (runc joins it in C, before its Go runtime
// starts). So a process is born in that user namespace instead, and stays:
//
//	shim ── clone(NEWUSER, maps) ──▶ userns-helper (root of the container's
//	  ▲                                │ user namespace, outside its PID
//	  │ parent of init                 │ namespace: `ps` inside never sees it)
//	  │                                │ clone(NEWNS|NEWPID|…|CLONE_PARENT)
//	  └──────────────────────────────  ▼
//	                                 init ── execve ──▶ CMD = PID 1
//
//   - The helper clones init with the other namespace flags and
//     CLONE_PARENT, so init is the shim's child as without a user
//     namespace: the shim reaps it and records its status as always.
//   - The helper then serves exec requests on <bundle>/userns-exec.sock,
//     which the shim made (host root's, mode 0600: only the daemon can
//     connect). The daemon sends the Process as one JSON line and the
//     stdio descriptors with it (SCM_RIGHTS). The helper, root of the
//     namespace that owns the container's mnt, pid, net, ipc and uts
//     namespaces, runs today's exec steps on a throwaway thread: setns
//     into those (not into the ones it was born in: a joined network
//     namespace belongs to the host), resolve the user, confine, fork.
//   - It cannot write the host's cgroup files (it is host uid 100000), so
//     the child stops at its execve (ptrace), the helper sends a pidfd of
//     it, the daemon (host root) moves it into the container's cgroup and
//     answers, and the helper lets it run (usernsexec_linux.go).
//   - Processes go between the helper and others as pidfds, never as
//     numbers: a pid is a number in one PID namespace, and the helper's
//     is not always the shim's and the daemon's (--pid container:…). The
//     receiver reads the pid in its own namespace from the pidfd's fdinfo.
//   - The exec'd process is the helper's child, so the helper waits for it
//     and sends its exit code on the same connection.
//   - The helper reads its control socket to the shim: the shim closes it
//     when PID 1 has exited, and a killed shim closes it too, so the
//     helper never outlives its container. A killed helper only ends
//     exec: the container runs on (init is not its child).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// UsernsExecSocket is the helper's socket in the bundle (user namespaces only).
const UsernsExecSocket = "userns-exec.sock"

// The helper's descriptors, as the shim starts it: 0-2 are init's stdio.
const (
	helperControlFd  = 3 // socket to the shim: init's pidfd, then EOF = the end
	helperListenerFd = 4 // the exec socket's listener
	helperInitFds    = 5 // init's own fds 3… (sync, console) start here
)

// helperReport is what the helper tells the shim once init is cloned:
// OK with init's pidfd (SCM_RIGHTS), or an Error. Never a pid number: the
// helper's are those of its PID namespace, which is another container's
// with --pid container:….
type helperReport struct {
	OK    bool   `json:",omitempty"`
	Error string `json:",omitempty"`
}

// startInitThroughHelper is startInit with a user namespace: cmd is init's
// command, flags and all; the helper is started in its place, in the new
// user namespace, and clones init. Init waits for "go" in its namespaces
// and cgroup when this returns, its root mounted (premountRootfs).
func (s *shim) startInitThroughHelper(cmd *exec.Cmd) error {
	ctl, ctlChild, err := socketPair("userns-helper")
	if err != nil {
		return err
	}
	defer ctlChild.Close()
	listener, err := s.execListenerFile()
	if err != nil {
		ctl.Close()
		return err
	}
	defer listener.Close()
	helper := helperCommand(cmd, ctlChild, listener, s.spec.UserNamespace)
	if joins := namespaceJoins(s.spec); len(joins) > 0 {
		err = startInNetns(helper, joins) // the helper, then init, inherit them
	} else {
		err = helper.Start()
	}
	if err != nil {
		ctl.Close()
		return fmt.Errorf("start the user namespace helper: %w", err)
	}
	s.helper = &usernsHelper{ctl: ctl, proc: helper.Process, reaped: make(chan struct{})}
	go func() { // reap it whenever it ends
		helper.Wait()
		close(s.helper.reaped)
	}()
	pid, err := readHelperReport(ctl)
	if err != nil {
		return err
	}
	proc, err := os.FindProcess(pid) // our child, through CLONE_PARENT
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	s.cmd, s.pid = &exec.Cmd{Process: proc}, pid
	trace("shim: init started by the userns helper")
	return s.premountRootfs()
}

// execListenerFile makes <bundle>/userns-exec.sock (root's, 0600) and
// returns its listening descriptor, for the helper to accept on.
func (s *shim) execListenerFile() (*os.File, error) {
	ln, err := listenUnix(bundleFile(s.bundle, UsernsExecSocket))
	if err != nil {
		return nil, fmt.Errorf("listen on the exec socket: %w", err)
	}
	defer ln.Close() // the file is a copy; the socket stays (no unlink)
	return ln.(*net.UnixListener).File()
}

// helperCommand is init's command turned into the helper's: the same
// binary, stdio and environment, cloned into the user namespace only;
// init's clone flags and its number of extra files go as arguments.
func helperCommand(init *exec.Cmd, ctl, listener *os.File, u *UserNamespace) *exec.Cmd {
	env := make([]string, 0, len(init.Env))
	for _, kv := range init.Env {
		if kv != roleEnv+"="+roleInit {
			env = append(env, kv)
		}
	}
	h := &exec.Cmd{
		Path:        init.Path,
		Args:        []string{init.Args[0], roleUsernsHelper, strconv.FormatUint(uint64(init.SysProcAttr.Cloneflags), 10), strconv.Itoa(len(init.ExtraFiles))},
		Env:         append(env, roleEnv+"="+roleUsernsHelper),
		Stdin:       init.Stdin,
		Stdout:      init.Stdout,
		Stderr:      init.Stderr,
		ExtraFiles:  append([]*os.File{ctl, listener}, init.ExtraFiles...),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	cloneIntoUserNamespace(h.SysProcAttr, u) // userns_linux.go
	return h
}

// readHelperReport reads init's pid (in the shim's PID namespace), or why
// the helper could not clone it.
func readHelperReport(ctl *os.File) (int, error) {
	in := fdLinesOfFile(ctl)
	defer in.closeFds()
	var r helperReport
	if err := in.next(&r); err != nil {
		return 0, fmt.Errorf("start init: no report from the user namespace helper: %v", err)
	}
	if r.Error != "" || !r.OK {
		return 0, fmt.Errorf("start init: %s", r.Error)
	}
	return in.pidOfFd()
}

// usernsHelper is the shim's hold on its helper.
type usernsHelper struct {
	ctl    *os.File // the helper ends when this closes
	proc   *os.Process
	reaped chan struct{}
}

// stopUsernsHelper ends the helper (PID 1 has exited, or the create
// failed; its exec'd processes died with the PID namespace) and reaps
// it: a helper the shim left unreaped would be a zombie for the init of
// its PID namespace to reap.
func (s *shim) stopUsernsHelper() {
	if s.helper == nil {
		return
	}
	s.helper.ctl.Close()
	s.helper.proc.Kill()
	select {
	case <-s.helper.reaped:
	case <-time.After(2 * time.Second): // SIGKILL is not refused; this is only a bound
	}
	os.Remove(bundleFile(s.bundle, UsernsExecSocket))
}

// runUsernsHelper is the helper's life: clone init, send its pidfd, then
// serve execs until the shim closes the control socket.
func runUsernsHelper() {
	shimGC() // one per container, as long-lived as the shim: the same memory rules (shimruntime_linux.go)
	// none of the helper's own descriptors may reach init, nor the CMD
	for fd := helperControlFd; fd <= helperListenerFd; fd++ {
		syscall.CloseOnExec(fd)
	}
	ctl := os.NewFile(helperControlFd, "control")
	pidfd := -1
	flags, err := strconv.ParseUint(os.Args[2], 10, 64)
	extra, err2 := strconv.Atoi(os.Args[3])
	if err = errors.Join(err, err2); err == nil {
		pidfd, err = cloneInit(uintptr(flags), extra)
	}
	if err != nil {
		json.NewEncoder(ctl).Encode(helperReport{Error: err.Error()})
		os.Exit(1)
	}
	if err := sendLine(int(ctl.Fd()), helperReport{OK: true}, pidfd); err != nil {
		os.Exit(1)
	}
	unix.Close(pidfd)
	if err := dropInitFds(); err != nil {
		os.Exit(1)
	}
	ln, err := net.FileListener(os.NewFile(helperListenerFd, "exec-listener"))
	if err != nil {
		os.Exit(1)
	}
	go serveHelperExecs(ln)
	trimMemory()             // start-up is over (trim_linux.go)
	io.Copy(io.Discard, ctl) // until the shim closes it, or dies
	os.Exit(0)
}

// cloneInit starts init with the container's other namespaces, as a
// child of the shim (CLONE_PARENT), with the helper's fds 0-2 and the n
// from 5 on as its 0-2 and 3…, and returns a pidfd of it. (Not every open
// descriptor from 5 on: the Go runtime of the helper opens files of its own.)
func cloneInit(flags uintptr, n int) (pidfd int, err error) {
	pidfd = -1
	var extra []*os.File
	for fd := helperInitFds; fd < helperInitFds+n; fd++ {
		syscall.CloseOnExec(fd) // its copy in init is made by dup2, without the flag
		extra = append(extra, os.NewFile(uintptr(fd), "init-fd"))
	}
	env := []string{roleEnv + "=" + roleInit}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, roleEnv+"=") {
			env = append(env, kv)
		}
	}
	proc, err := os.StartProcess("/proc/self/exe", []string{os.Args[0], roleInit}, &os.ProcAttr{
		Env:   env,
		Files: append([]*os.File{os.Stdin, os.Stdout, os.Stderr}, extra...),
		Sys:   &syscall.SysProcAttr{Setsid: true, Cloneflags: flags | unix.CLONE_PARENT, PidFD: &pidfd},
	})
	for _, f := range extra {
		f.Close()
	}
	if err != nil {
		return -1, err
	}
	proc.Release() // the shim's child, not ours
	if pidfd < 0 {
		return -1, errors.New("no pidfd for init (Linux 5.3+)")
	}
	return pidfd, nil
}

// dropInitFds points the helper's 0-2 at /dev/null: they are init's
// stdio, and the shim sees the end of init's output only once every copy
// of the pipes' write ends is closed.
func dropInitFds() error {
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(null)
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(null, fd, 0); err != nil {
			return err
		}
	}
	return nil
}

// helperExecRequest is the daemon's exec request: the first JSON line,
// sent with the process's stdin, stdout and stderr (SCM_RIGHTS).
type helperExecRequest struct {
	InitPid int
	Process Process
}

// helperExecReply is one JSON line of the helper's answers: Stopped, with
// the child's pidfd (it waits at its execve: move it into the cgroup),
// then Started or an Error (Code: 126, 127 or 125), then Exit.
type helperExecReply struct {
	Stopped bool   `json:",omitempty"`
	Started bool   `json:",omitempty"`
	Exit    *int   `json:",omitempty"`
	Error   string `json:",omitempty"`
	Code    int    `json:",omitempty"`
}

// helperExecAck is the daemon's answer to Stopped: the child is in the
// container's cgroup (or Error: it is not, kill it).
type helperExecAck struct {
	Joined bool   `json:",omitempty"`
	Error  string `json:",omitempty"`
}

// serveHelperExecs serves each connection as one exec. Once no exec has
// started for trimDelay, the helper trims what the execs touched: it is
// idle most of its life. Not after every exec: the next one would fault
// the binary back in (an exec took 9 ms here, 21 ms right after a trim).
func serveHelperExecs(ln net.Listener) {
	idle := time.AfterFunc(time.Hour, trimMemory)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		idle.Reset(trimDelay)
		go serveHelperExec(c.(*net.UnixConn))
	}
}

// serveHelperExec runs one exec request and reports it on c.
func serveHelperExec(c *net.UnixConn) {
	defer c.Close()
	in := fdLinesOfConn(c)
	defer in.closeFds()
	var req helperExecRequest
	err := in.next(&req)
	files := in.takeFiles("exec-stdio")
	if err == nil && len(files) != 3 {
		err = fmt.Errorf("expected 3 stdio descriptors, got %d", len(files))
	}
	if err != nil {
		closeAll(files)
		writeHelperReply(c, helperExecReply{Error: "exec: bad request: " + err.Error(), Code: 125})
		return
	}
	joinCgroup := func(pidfd int) error { return askCgroupJoin(c, in, pidfd) }
	var proc *os.Process
	OnThrowawayThread(func() { proc, err = forkInUserns(req.InitPid, &req.Process, files, joinCgroup) })
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		reply := helperExecReply{Error: err.Error(), Code: 125}
		var se *StartError
		if errors.As(err, &se) {
			reply.Error, reply.Code = se.Message, se.Code
		}
		writeHelperReply(c, reply)
		return
	}
	writeHelperReply(c, helperExecReply{Started: true})
	code, err := waitChild(proc)
	if err != nil {
		code = 255
	}
	writeHelperReply(c, helperExecReply{Exit: &code})
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func writeHelperReply(c net.Conn, r helperExecReply) error {
	b, _ := json.Marshal(r)
	_, err := c.Write(append(b, '\n'))
	return err
}

// askCgroupJoin sends the stopped child's pidfd to the daemon and waits
// until it has moved the child into the container's cgroup.
func askCgroupJoin(c *net.UnixConn, in *fdLines, pidfd int) error {
	b, _ := json.Marshal(helperExecReply{Stopped: true})
	if _, _, err := c.WriteMsgUnix(append(b, '\n'), unix.UnixRights(pidfd), nil); err != nil {
		return err
	}
	var ack helperExecAck
	if err := in.next(&ack); err != nil {
		return fmt.Errorf("the daemon went away before the process joined the cgroup")
	}
	if !ack.Joined {
		return fmt.Errorf("join cgroup: %s", ack.Error)
	}
	return nil
}

// forkInUserns is forkInContainer for the helper: this thread enters the
// container's namespaces (the user namespace it is in already), takes on
// the process's user and confinement and forks the child, stopped at its
// execve until the daemon put it into the cgroup (joinCgroup).
func forkInUserns(initPid int, p *Process, files []*os.File, joinCgroup func(pidfd int) error) (*os.Process, error) {
	if len(files) != 3 || len(p.Args) == 0 {
		return nil, startErr("exec: bad request")
	}
	last := lastCap() // before joining the container's mount namespace
	if err := enterNamespacesOf(initPid); err != nil {
		return nil, err
	}
	x, err := prepareInside(p, files) // execns_linux.go
	if err != nil {
		return nil, err
	}
	if err := confine(&p.Security, x.filter, last, func() error { return setCredentials(x.user) }); err != nil {
		return nil, startErr("exec: %v", err)
	}
	pidfd := -1
	sys := execProcAttr(p, &cgroupTarget{v2fd: -1}, true)
	sys.PidFD = &pidfd
	finish := func(pid int) error {
		defer unix.Close(pidfd)
		if err := waitExecStop(pid); err != nil {
			return err
		}
		if err := joinCgroup(pidfd); err != nil {
			return err
		}
		if err := setChildRlimits(pid, p.Rlimits); err != nil { // runopts_linux.go
			return err
		}
		return unix.PtraceDetach(pid)
	}
	return forkExecChild(p, sys, x.path, x.argv, x.env, files, finish)
}

// enterNamespacesOf moves this thread into the namespaces of initPid that
// it is not in yet: those init was cloned with. The others (a network
// namespace the daemon made, --ipc container:…) the helper was born in,
// and it could not join them again: the host's user namespace owns them.
func enterNamespacesOf(initPid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return startErr("exec: unshare(CLONE_FS): %v", err)
	}
	fds := make([]int, 0, len(nsKinds))
	defer func() { closeFds(fds) }()
	var flags []int
	for _, k := range nsKinds { // open them all first: after mnt, /proc is another
		theirs := fmt.Sprintf("/proc/%d/ns/%s", initPid, k.name)
		if sameFile(theirs, "/proc/thread-self/ns/"+k.name) {
			continue
		}
		fd, err := unix.Open(theirs, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return startErr("exec: open %s namespace of %d: %v", k.name, initPid, err)
		}
		fds, flags = append(fds, fd), append(flags, k.flag)
	}
	for i, fd := range fds {
		if err := unix.Setns(fd, flags[i]); err != nil {
			return startErr("exec: setns %s: %v", nsName(flags[i]), err)
		}
	}
	if err := unix.Chdir("/"); err != nil {
		return startErr("exec: %v", err)
	}
	return nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func nsName(flag int) string {
	for _, k := range nsKinds {
		if k.flag == flag {
			return k.name
		}
	}
	return strconv.Itoa(flag)
}

// sameFile reports whether a and b are the same inode (namespaces: the
// same namespace).
func sameFile(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// fdLines reads JSON lines from a unix socket and keeps the descriptors
// that come with them (SCM_RIGHTS), which a bufio.Reader would drop.
type fdLines struct {
	recv func(b, oob []byte) (n, oobn int, err error)
	buf  []byte
	fds  []int
}

func fdLinesOfConn(c *net.UnixConn) *fdLines {
	return &fdLines{recv: func(b, oob []byte) (int, int, error) {
		n, oobn, _, _, err := c.ReadMsgUnix(b, oob)
		return n, oobn, err
	}}
}

func fdLinesOfFile(f *os.File) *fdLines {
	return &fdLines{recv: func(b, oob []byte) (int, int, error) {
		for {
			n, oobn, _, _, err := unix.Recvmsg(int(f.Fd()), b, oob, unix.MSG_CMSG_CLOEXEC)
			if err != unix.EINTR {
				return n, oobn, err
			}
		}
	}}
}

// next reads the next line into v.
func (l *fdLines) next(v any) error {
	for {
		if i := bytes.IndexByte(l.buf, '\n'); i >= 0 {
			line := l.buf[:i]
			l.buf = l.buf[i+1:]
			return json.Unmarshal(line, v)
		}
		b, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4*4))
		n, oobn, err := l.recv(b, oob)
		l.keepRights(oob[:oobn])
		l.buf = append(l.buf, b[:n]...)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.EOF
		}
	}
}

func (l *fdLines) keepRights(oob []byte) {
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
		}
		l.fds = append(l.fds, fds...)
	}
}

// takeFiles hands over the descriptors received so far.
func (l *fdLines) takeFiles(name string) []*os.File {
	files := make([]*os.File, len(l.fds))
	for i, fd := range l.fds {
		files[i] = os.NewFile(uintptr(fd), name)
	}
	l.fds = nil
	return files
}

// pidOfFd takes the one pidfd received and returns the pid it stands
// for in our PID namespace.
func (l *fdLines) pidOfFd() (int, error) {
	files := l.takeFiles("pidfd")
	defer closeAll(files)
	if len(files) != 1 {
		return 0, fmt.Errorf("expected a pidfd, got %d descriptors", len(files))
	}
	return pidOfPidfd(int(files[0].Fd()))
}

func (l *fdLines) closeFds() {
	closeAll(l.takeFiles(""))
}

// pidOfPidfd reads the pid a pidfd refers to, as this process's PID
// namespace numbers it (the kernel translates; the sender's number would
// be of its own namespace).
func pidOfPidfd(fd int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return 0, fmt.Errorf("the process is gone or not in our PID namespace (pidfd pid %q)", strings.TrimSpace(v))
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("fd %d is not a pidfd", fd)
}

// sendLine sends v as one JSON line on the unix socket sock, with fd
// (SCM_RIGHTS) when it is not -1.
func sendLine(sock int, v any, fd int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	return unix.Sendmsg(sock, append(b, '\n'), oob, nil, 0)
}

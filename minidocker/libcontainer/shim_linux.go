package libcontainer

// The shim ("minidocker shim"), one per container, like containerd-shim
// or podman's conmon. The daemon starts it in a session of its own, so it
// (and the container) outlive the daemon, and ahead of need: it waits as
// a spare until the daemon sends it a bundle (spareshim_linux.go). It:
//
//   - creates the cgroup and starts init in new namespaces, inside the
//     cgroup before init gets its "go" (placeInit: v2, born there with
//     clone3's CLONE_INTO_CGROUP; v1, init moves its own thread);
//   - holds the container's stdio (pipes, or a pty), writes the json-file
//     log, and fans the output out to attachers;
//   - serves requests on <bundle>/shim.sock (start, attach, resize, kill,
//     wait, state), so a restarted daemon can reconnect;
//   - reaps PID 1, records the exit code (signal n → 128+n) and whether the
//     kernel OOM-killed it, writes exit.json atomically, answers the waiters,
//     and exits.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
)

// attachWriteTimeout is how long an attacher may block the output.
const attachWriteTimeout = 10 * time.Second

// trimDelay is how long after the start the shim trims its memory.
const trimDelay = 500 * time.Millisecond

// shimRequest is one request on the shim's socket: one JSON line.
type shimRequest struct {
	Op                    string // start, attach, resize, kill, wait, state
	Stdin, Stdout, Stderr bool   `json:",omitempty"`
	Height, Width         uint16 `json:",omitempty"`
	Signal                int    `json:",omitempty"`
}

// shimResponse is the JSON line the shim answers with.
type shimResponse struct {
	Error   string      `json:",omitempty"`
	Code    int         `json:",omitempty"` // StartError.Code
	Pid     int         `json:",omitempty"`
	Running bool        `json:",omitempty"`
	Started bool        `json:",omitempty"`
	Status  *ExitStatus `json:",omitempty"`
}

type shim struct {
	bundle string
	spec   *Spec
	cg     *cgroups.Cgroup
	log    *LogWriter
	logBuf *logBuffer // non-nil with --log-opt mode=non-blocking

	ln          net.Listener
	cmd         *exec.Cmd
	pid         int
	syncSock    *os.File
	consoleSock *os.File      // init sends the pty master on it (Terminal)
	helper      *usernsHelper // user namespace only: init's cloner, exec's server (usernshelper_linux.go)

	spareInit *spareInit // started ahead of need, until claimed (spareinit_linux.go)

	// cgJoin carries the result of moving init into the cgroup
	// (joinCgroup); cgJoinErr keeps it once awaitCgroup has read it.
	cgJoin       chan error
	cgJoinErr    error
	bornInCgroup bool // clone3's CLONE_INTO_CGROUP put init there (v2)

	// console is the pty master (Terminal): set, under mu, once init has
	// sent it; consoleReady is closed then, or when it will never come.
	console      *os.File
	consoleReady chan struct{}
	stdinW       *os.File // stdin pipe's write end (OpenStdin, no Terminal)
	outR         *os.File
	errR         *os.File
	copiers      sync.WaitGroup // output being copied to the log and attachers

	handlers    sync.WaitGroup // requests being answered
	mu          sync.Mutex
	started     bool
	startResult *shimResponse
	attachers   map[*attacher]struct{}
	stdinClosed bool

	exited chan struct{} // closed when status is final
	status ExitStatus
}

type attacher struct {
	conn           net.Conn
	stdout, stderr bool
	mu             sync.Mutex
}

// runShim is a shim's life: a spare until claimed (spareshim_linux.go),
// then the container's keeper until PID 1 has exited. The report (the
// container made, or why not) goes back on the control socket.
func runShim() {
	trace("shim: main")
	shimGC()
	report := os.NewFile(shimControlFd, "control")
	syscall.CloseOnExec(shimControlFd)
	spare := startSpareInit() // spareinit_linux.go
	warmJSON(&Spec{})
	bundle, claimed, err := awaitClaim(report)
	if !claimed {
		if spare != nil {
			spare.discard()
		}
		os.Exit(0) // the daemon went away, or let its spare go
	}
	s := &shim{bundle: bundle, attachers: map[*attacher]struct{}{}, exited: make(chan struct{}), consoleReady: make(chan struct{}), spareInit: spare}
	if err != nil {
		json.NewEncoder(report).Encode(shimResponse{Error: "shim: " + err.Error(), Code: 125})
		os.Exit(1)
	}
	if err := s.create(); err != nil {
		json.NewEncoder(report).Encode(shimResponse{Error: err.Error(), Code: 125})
		s.cleanupFailedCreate()
		os.Exit(1)
	}
	json.NewEncoder(report).Encode(shimResponse{Pid: s.pid})
	report.Close()
	s.run()
	os.Exit(0)
}

func (s *shim) cleanupFailedCreate() {
	s.awaitCgroup() // a move still under way would race the rmdir
	s.stopUsernsHelper()
	if s.spareInit != nil {
		s.spareInit.discard()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	if s.cg != nil {
		s.cg.KillAll()
		s.cg.Destroy()
	}
	os.Remove(socketPath(s.bundle))
}

// create makes the container up to init waiting for "go": the host side
// (directories, cgroup, log), init's stdio, then init itself in its new
// namespaces and cgroup, and the socket the daemon talks to.
func (s *shim) create() error {
	spec, err := ReadSpec(s.bundle)
	if err != nil {
		return err
	}
	s.spec = spec
	trace("shim: spec read")
	if err := s.prepareHost(); err != nil {
		return err
	}
	stdio, err := s.openStdio()
	if err != nil {
		return err
	}
	defer stdio.close()
	if err := s.claimOrStartInit(stdio); err != nil { // spareinit_linux.go
		return err
	}
	cfg := initConfig{Spec: *s.spec, JoinCgroup: s.placeInit()}
	// init builds the root while the daemon attaches and starts (init_linux.go)
	if err := json.NewEncoder(s.syncSock).Encode(cfg); err != nil {
		return fmt.Errorf("start init: send its spec: %w", err)
	}
	if s.ln, err = listenUnix(socketPath(s.bundle)); err != nil {
		return fmt.Errorf("listen on the shim socket: %w", err)
	}
	writeFileAtomic(bundleFile(s.bundle, InitPidFile), []byte(strconv.Itoa(s.pid)), 0o644)
	return nil
}

// prepareHost makes what the container needs on the host before init:
// the overlay's directories, the cgroup with its limits and device rules,
// the log file.
func (s *shim) prepareHost() error {
	spec := s.spec
	for _, d := range []string{spec.Rootfs.MergedDir, spec.Rootfs.UpperDir, spec.Rootfs.WorkDir} {
		if d != "" {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	if spec.Cgroup.Name != "" {
		cg, err := cgroups.New(spec.Cgroup.Parent, spec.Cgroup.Name)
		if err != nil {
			return err
		}
		s.cg = cg
		if err := cg.Set(spec.Cgroup.Resources); err != nil {
			return err
		}
		if spec.Cgroup.Devices != nil {
			if err := cg.SetDevices(spec.Cgroup.Devices); err != nil {
				return err
			}
		}
	}
	trace("shim: cgroup made")
	if spec.LogPath != "" {
		var err error
		if s.log, err = OpenRotatingLogWriter(spec.LogPath, spec.LogRotation); err != nil {
			return err
		}
		if err := s.log.SetAttrs(spec.LogAttrs); err != nil {
			return err
		}
		if spec.LogBufferSize > 0 {
			s.logBuf = newLogBuffer(s.log, spec.LogBufferSize)
		}
	}
	return nil
}

// initStdio is what init starts with: its stdin, stdout and stderr, and
// the child's ends of the sync and console sockets. The shim closes its
// copies once init runs.
type initStdio struct {
	stdin, stdout, stderr *os.File
	sync, console         *os.File
	closers               []*os.File
}

func (st *initStdio) close() {
	for _, f := range st.closers {
		f.Close()
	}
}

// keep records f as one of the child's ends, to close after the start.
func (st *initStdio) keep(f *os.File) *os.File {
	st.closers = append(st.closers, f)
	return f
}

// openStdio makes init's stdio and the sockets. With a Terminal, init
// opens the pty itself, inside the container (console_linux.go), and
// sends the master back on the console socket; until then its stdin is
// /dev/null and its output goes to the shim's log. Otherwise stdin is a
// pipe (OpenStdin) or /dev/null, and stdout and stderr are pipes the shim
// reads.
func (s *shim) openStdio() (st *initStdio, err error) {
	st = &initStdio{}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	p := &s.spec.Process
	if s.syncSock, st.sync, err = socketPair("sync"); err != nil {
		return st, err
	}
	st.keep(st.sync)
	if p.Terminal {
		if s.consoleSock, st.console, err = socketPair("console"); err != nil {
			return st, err
		}
		st.keep(st.console)
		if st.stdin, err = os.Open(os.DevNull); err != nil {
			return st, err
		}
		st.keep(st.stdin)
		st.stdout, st.stderr = os.Stderr, os.Stderr
		return st, nil
	}
	if p.OpenStdin {
		var r *os.File
		if r, s.stdinW, err = os.Pipe(); err != nil {
			return st, err
		}
		st.stdin = st.keep(r)
	} else if st.stdin, err = os.Open(os.DevNull); err != nil {
		return st, err
	} else {
		st.keep(st.stdin)
	}
	var w *os.File
	if s.outR, w, err = os.Pipe(); err != nil {
		return st, err
	}
	st.stdout = st.keep(w)
	if s.errR, w, err = os.Pipe(); err != nil {
		return st, err
	}
	st.stderr = st.keep(w)
	return st, nil
}

// socketPair is a connected pair of unix stream sockets: the shim's end,
// and the child's (fd 3, 4… of init).
func socketPair(name string) (mine, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name+"-child"), nil
}

// startInit starts "minidocker init" in the container's new namespaces,
// its own session, and its cgroup: born there with clone3's
// CLONE_INTO_CGROUP on cgroup v2, moved there before "go" on v1.
func (s *shim) startInit(stdio *initStdio) error {
	extra := []*os.File{stdio.sync} // fd 3
	if stdio.console != nil {
		extra = append(extra, stdio.console) // fd 4
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{os.Args[0], roleInit},
		Env:         []string{"GOMAXPROCS=1", "GOGC=off", roleEnv + "=" + roleInit, "_MINIDOCKER_TRACE=" + os.Getenv("_MINIDOCKER_TRACE")},
		Stdin:       stdio.stdin,
		Stdout:      stdio.stdout,
		Stderr:      stdio.stderr,
		ExtraFiles:  extra,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	var err error
	if cmd.SysProcAttr.Cloneflags, err = namespaceFlags(s.spec.Network); err != nil {
		return err
	}
	cmd.SysProcAttr.Cloneflags = withSharedNamespaces(cmd.SysProcAttr.Cloneflags, s.spec) // runopts_linux.go
	if s.spec.UserNamespace != nil {
		return s.startInitThroughHelper(cmd) // usernshelper_linux.go
	}
	if s.cg != nil {
		if fd, ok := s.cg.DirFD(); ok {
			defer unix.Close(fd)
			cmd.SysProcAttr.UseCgroupFD = true
			cmd.SysProcAttr.CgroupFD = fd
		}
	}
	if joins := namespaceJoins(s.spec); len(joins) > 0 {
		err = startInNetns(cmd, joins)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	trace("shim: init started")
	s.cmd = cmd
	s.pid = cmd.Process.Pid
	s.bornInCgroup = cmd.SysProcAttr.UseCgroupFD
	return nil
}

// placeInit sees that init is in the container's cgroup before its
// "go", by the cheapest way there is. Moving a whole process (a write to
// cgroup.procs) takes the kernel's thread-group lock for writing, and
// the first such write after a quiet while waits for an RCU grace
// period: 10-20 ms on the course VM, a third of a `run --rm`.
//   - Born there (v2, CLONE_INTO_CGROUP): nothing to do.
//   - cgroup v1: init moves its own thread, the one that will exec the
//     CMD (true: initConfig.JoinCgroup). A thread moving itself skips
//     that lock. Init's other threads stay behind until the exec ends
//     them, and they run nothing of the container's.
//   - Otherwise (a spare init on v2; in a user namespace init is no
//     root of the host's cgroup files): the shim moves it, in the
//     background (joinCgroup).
func (s *shim) placeInit() (initJoins bool) {
	switch {
	case s.cg == nil || s.bornInCgroup:
		return false
	case s.cg.Version() == cgroups.V1 && s.spec.UserNamespace == nil:
		return true
	default:
		s.joinCgroup(s.pid)
		return false
	}
}

// joinCgroup moves init (pid) into the container's cgroup in the
// background; start waits for the move before it sends "go", so init
// builds the root meanwhile but the CMD never runs outside the limits.
func (s *shim) joinCgroup(pid int) {
	done := make(chan error, 1)
	s.cgJoin = done
	go func() {
		err := s.cg.AddProcess(pid)
		if err != nil {
			err = fmt.Errorf("join cgroup: %w", err)
		}
		trace("shim: init in its cgroup")
		done <- err
	}()
}

// awaitCgroup waits for joinCgroup's move and returns its error (nil
// when there was no move).
func (s *shim) awaitCgroup() error {
	if s.cgJoin != nil {
		s.cgJoinErr = <-s.cgJoin
		s.cgJoin = nil
	}
	return s.cgJoinErr
}

// premountRootfs mounts a user-namespaced container's root, with its
// idmapped layers, in init's mount namespace (userns_linux.go): init,
// root of its namespace only, could not make idmapped mounts.
func (s *shim) premountRootfs() error {
	if err := mountIdmappedRootfs(s.pid, s.spec.Rootfs); err != nil {
		return err
	}
	s.spec.Rootfs.Premounted = true
	return nil
}

// namespaceFlags are the clone(2) flags of a container's init: a mount, PID,
// UTS and IPC namespace of its own always; a network namespace of its own
// in mode none (a "join" enters an existing one later, with setns, and
// "host" keeps the host's).
func namespaceFlags(n Network) (uintptr, error) {
	// exercise:begin 04-pivot-root
	flags := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	switch n.Mode {
	case "", "none":
		flags |= syscall.CLONE_NEWNET
	case "host":
	case "join":
		if n.NetnsPath == "" {
			return 0, errors.New("network mode join needs a NetnsPath")
		}
	default:
		return 0, fmt.Errorf("unknown network mode %q", n.Mode)
	}
	return flags, nil
	// exercise:end 04-pivot-root
}

// startInNetns starts cmd from a thread that has joined the network
// namespace of mode "join" (and the IPC and PID namespaces of another
// container: namespaceJoins): the child inherits the thread's namespaces
// (for PID: its children's). The thread is never unlocked, so Go throws it
// away instead of reusing it.
func startInNetns(cmd *exec.Cmd, joins []nsJoin) error {
	var err error
	OnThrowawayThread(func() {
		for _, j := range joins {
			if err = setnsPath(j.path, j.flag); err != nil {
				return
			}
		}
		err = cmd.Start()
	})
	return err
}

func (s *shim) run() {
	ln := s.ln
	go s.serve(ln)
	waitc := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := s.cmd.Process.Wait()
		waitc <- st
	}()
	if s.consoleSock == nil {
		s.startOutput(s.outR, "stdout", 1)
		s.startOutput(s.errR, "stderr", 2)
	}
	ps := <-waitc
	trace("shim: init exited")
	s.stopUsernsHelper()
	s.mu.Lock() // not while start is still reading init's answer
	s.syncSock.Close()
	if s.consoleSock != nil {
		s.consoleSock.Close()
		if s.console == nil { // init never sent it
			close(s.consoleReady)
		}
	}
	s.mu.Unlock()
	s.copiers.Wait()

	st := s.exitStatus(ps)
	if s.logBuf != nil {
		if n := s.logBuf.Close(); n > 0 {
			trace(fmt.Sprintf("shim: log buffer full, %d entries dropped", n))
		}
	}
	if s.log != nil {
		s.log.Close()
	}
	if b, err := json.Marshal(st); err == nil {
		writeFileAtomic(bundleFile(s.bundle, ExitFile), b, 0o644)
	}
	// attach streams end before Wait answers, like docker
	s.mu.Lock()
	s.status = st
	for a := range s.attachers {
		a.conn.Close()
	}
	s.attachers = nil
	s.mu.Unlock()
	// no new clients (they read exit.json); the ones connected, waiters
	// among them, get their answer now
	ln.Close()
	os.Remove(socketPath(s.bundle))
	close(s.exited)
	trace("shim: status written")
	if s.cg != nil {
		s.cg.KillAll()
		s.cg.Destroy()
	}
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	os.Remove(socketPath(s.bundle))
	os.Remove(bundleFile(s.bundle, ShimPidFile))
	trace("shim: done")
}

// exitStatus is what PID 1's end means for docker: its exit code (a
// signal n is 128+n), or the start error's code, and whether the kernel's
// OOM killer ended it.
func (s *shim) exitStatus(ps *os.ProcessState) ExitStatus {
	st := ExitStatus{FinishedAt: time.Now().UTC()}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			st.ExitCode = ws.ExitStatus()
		case ws.Signaled():
			st.ExitCode = 128 + int(ws.Signal())
		}
	}
	s.mu.Lock()
	if r := s.startResult; r != nil && r.Error != "" {
		st.ExitCode, st.Error = r.Code, r.Error
	}
	s.mu.Unlock()
	if s.cg != nil {
		if oom, err := s.cg.OOMKilled(); err == nil && oom {
			st.OOMKilled = true
		}
	}
	return st
}

// startOutput copies one output of the container (a pipe, or the pty
// master) to the log and the attachers until it ends: EOF, or EIO on a
// pty whose slave is gone.
func (s *shim) startOutput(r *os.File, stream string, streamByte byte) {
	s.copiers.Add(1)
	go func() {
		defer s.copiers.Done()
		ls := &logStream{w: s.log, stream: stream}
		if s.logBuf != nil {
			ls.w = s.logBuf
		}
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if s.log != nil {
					ls.Write(buf[:n])
				}
				s.broadcast(streamByte, buf[:n])
			}
			if err != nil {
				break
			}
		}
		if s.log != nil {
			ls.Flush()
		}
		r.Close()
	}()
}

func (s *shim) broadcast(stream byte, data []byte) {
	s.mu.Lock()
	as := make([]*attacher, 0, len(s.attachers))
	for a := range s.attachers {
		if (stream == 1 && a.stdout) || (stream == 2 && a.stderr) {
			as = append(as, a)
		}
	}
	s.mu.Unlock()
	for _, a := range as {
		// an attacher that stops reading must not stop the container (its
		// output would block): after attachWriteTimeout it is dropped
		a.conn.SetWriteDeadline(time.Now().Add(attachWriteTimeout))
		var err error
		if s.spec.Process.Terminal {
			_, err = a.conn.Write(data)
		} else {
			var hdr [8]byte
			hdr[0] = stream
			binary.BigEndian.PutUint32(hdr[4:], uint32(len(data)))
			_, err = (&net.Buffers{hdr[:], data}).WriteTo(a.conn)
		}
		if err != nil {
			s.mu.Lock()
			delete(s.attachers, a)
			s.mu.Unlock()
			a.conn.Close()
		}
	}
}

func (s *shim) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			s.handle(c)
		}()
	}
}

func (s *shim) handle(c net.Conn) {
	r := bufio.NewReader(c)
	line, err := r.ReadBytes('\n')
	if err != nil {
		c.Close()
		return
	}
	var req shimRequest
	if err := json.Unmarshal(line, &req); err != nil {
		writeResp(c, shimResponse{Error: "bad request"})
		c.Close()
		return
	}
	switch req.Op {
	case "attach":
		s.attach(c, r, req) // keeps c
		return
	case "start":
		writeResp(c, s.start())
		// once the container runs, drop the start-up pages; not sooner:
		// faulting them back in would slow the start itself
		time.AfterFunc(trimDelay, trimMemory)
	case "state":
		s.mu.Lock()
		resp := shimResponse{Pid: s.pid, Started: s.started}
		select {
		case <-s.exited:
			st := s.status
			resp.Status = &st
		default:
			resp.Running = s.started
		}
		s.mu.Unlock()
		writeResp(c, resp)
	case "wait":
		go func() { // notice a client that goes away
			io.Copy(io.Discard, r)
			c.Close()
		}()
		<-s.exited
		st := s.status
		writeResp(c, shimResponse{Status: &st})
	case "kill":
		select {
		case <-s.exited:
			writeResp(c, shimResponse{Error: "container is not running"})
		default:
			if err := syscall.Kill(s.pid, syscall.Signal(req.Signal)); err != nil {
				writeResp(c, shimResponse{Error: err.Error()})
			} else {
				writeResp(c, shimResponse{})
			}
		}
	case "resize":
		if err := s.resize(req.Height, req.Width); err != nil {
			writeResp(c, shimResponse{Error: err.Error()})
			break
		}
		writeResp(c, shimResponse{})
	default:
		writeResp(c, shimResponse{Error: "unknown op " + req.Op})
	}
	c.Close()
}

func writeResp(c net.Conn, r shimResponse) {
	b, _ := json.Marshal(r)
	c.Write(append(b, '\n'))
}

// resize sets the terminal's size (TIOCSWINSZ on the master: the kernel
// sends SIGWINCH to the terminal's foreground processes). Before init has
// sent the master, the size is kept for it; without a Terminal it is a
// no-op.
func (s *shim) resize(h, w uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.console == nil {
		s.spec.Process.ConsoleHeight, s.spec.Process.ConsoleWidth = h, w
		return nil
	}
	return setWinsize(s.console, h, w)
}

// start sends init its "go" and reports whether the exec worked. With a
// Terminal, init sends the pty master first (console_linux.go); the shim
// copies its output from then on.
func (s *shim) start() shimResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		if s.startResult != nil {
			return *s.startResult
		}
		return shimResponse{Pid: s.pid}
	}
	s.started = true
	trace("shim: start")
	res := &shimResponse{Pid: s.pid}
	s.startResult = res
	if err := s.awaitCgroup(); err != nil {
		res.Error, res.Code = "start container: "+err.Error(), 125
		return *res
	}
	if _, err := s.syncSock.Write([]byte{initGo}); err != nil {
		res.Error, res.Code = "start container: "+err.Error(), 125
		return *res
	}
	if s.consoleSock != nil {
		s.receiveConsole()
	}
	b, err := io.ReadAll(s.syncSock)
	if err != nil && len(b) == 0 {
		res.Error, res.Code = "start container: "+err.Error(), 125
		return *res
	}
	trace("shim: init exec'd")
	if len(b) > 0 {
		var se StartError
		if err := json.Unmarshal(b, &se); err != nil || se.Message == "" {
			se = StartError{Code: 125, Message: "container init failed: " + string(b)}
		}
		res.Error, res.Code = se.Message, se.Code
	}
	return *res
}

// receiveConsole takes the pty master init sends and starts copying the
// terminal's output. When init fails before, nothing comes: its error is
// on the sync socket. Called with mu held.
func (s *shim) receiveConsole() {
	master, err := recvFd(s.consoleSock, "pty-master")
	if err != nil {
		return
	}
	p := &s.spec.Process
	if p.ConsoleHeight > 0 && p.ConsoleWidth > 0 { // a resize that came before
		setWinsize(master, p.ConsoleHeight, p.ConsoleWidth)
	}
	s.console = master
	close(s.consoleReady)
	s.startOutput(master, "stdout", 1)
}

// attach adds an attacher: it gets the output from now on and, with
// Stdin, sends the container's stdin.
func (s *shim) attach(c net.Conn, r *bufio.Reader, req shimRequest) {
	a := &attacher{conn: c, stdout: req.Stdout, stderr: req.Stderr}
	s.mu.Lock()
	if s.attachers == nil { // already exited
		s.mu.Unlock()
		writeResp(c, shimResponse{})
		c.Close()
		return
	}
	s.attachers[a] = struct{}{}
	s.mu.Unlock()
	writeResp(c, shimResponse{})
	if req.Stdin && (s.spec.Process.Terminal || s.stdinW != nil) {
		go s.copyStdin(a, r)
	}
}

// copyStdin copies an attacher's stdin to the container until the
// attacher stops sending (it half-closed its stream, detached, or left).
// Then, as in docker: without a terminal and with StdinOnce, the
// container's stdin is closed (cat sees its EOF); in every other case it
// stays open and only this attachment ends. A terminal in particular is
// never closed by a client going away: the shell in it runs on, and
// `attach` gets it back.
func (s *shim) copyStdin(a *attacher, r io.Reader) {
	in := s.stdinW
	if s.spec.Process.Terminal {
		select {
		case <-s.consoleReady: // after the start
		case <-s.exited:
		}
		s.mu.Lock()
		in = s.console
		s.mu.Unlock()
	}
	if in != nil {
		io.Copy(in, r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spec.Process.Terminal || !s.spec.Process.StdinOnce {
		if _, ok := s.attachers[a]; ok {
			delete(s.attachers, a)
			a.conn.Close()
		}
		return
	}
	if !s.stdinClosed {
		s.stdinClosed = true
		s.stdinW.Close()
	}
}

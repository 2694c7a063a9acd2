package libcontainer

// Inits started ahead of need. Like the shim, init is this Go binary: its
// runtime start-up and package inits cost as much as the rest of a
// container's start. So a spare shim starts its init at once, before it
// is claimed: already cloned into new PID, UTS, IPC and network
// namespaces (the common case; its mount namespace is made on the claim),
// with /dev/null as stdio, blocked on its sync socket. When the claim's
// spec asks for exactly those namespaces (claimOrStartInit), the shim
// takes that init instead of starting one:
//
//  1. init gets into the container's cgroup before its "go" (placeInit:
//     on v1 it moves its own thread), so nothing the container runs
//     escapes its limits;
//  2. it sends init its stdio (and, with a terminal, the console socket)
//     over the sync socket (SCM_RIGHTS); init dup3()s them onto 0, 1, 2
//     (and 4). When the container joins a network namespace (the
//     bridge's, or another container's) the same message carries it, open:
//     init's thread setns()es into it, and that thread is the one that
//     will exec the CMD. (An fd, not a path: the bridge's netns was
//     bind-mounted after the spare's mount namespace was copied, so the
//     path shows init an empty file.)
//  3. "go" then brings the spec as it does for any init.
//
// Everything per container (hostname, rlimits, seccomp, capabilities, the
// root) is still done by init after "go", from the spec, exactly as for an
// init started on demand. A spec with other namespaces (a user namespace,
// --pid/--ipc/--uts host or container:, --net host) discards the spare
// init and starts one as before. A spare init dies with its spare shim:
// the shim kills it when it exits unclaimed, and a shim killed with -9
// closes the sync socket, whose EOF ends the init.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// spareInitArg marks an init started ahead of need (os.Args[2]).
const spareInitArg = "spare"

// spareInit is an init started before its container was known.
type spareInit struct {
	cmd  *exec.Cmd
	sync *os.File // the shim's end of init's sync socket
}

// spareInitFlags are the namespaces a spare init is born in: those of a
// container with nothing shared and network mode none, all but the mount
// namespace. A mount namespace is a copy of the host's mounts as they are
// when it is made, and host mounts made later do not reach the copy (the
// host's / here is not a shared mount): a spare born with one would not
// see the tmpfs of a --ipc shareable container's /dev/shm, a volume the
// daemon mounted, or a directory the admin mounted after the spare
// started. So init makes its mount namespace on the claim (waitAsSpare).
func spareInitFlags() uintptr {
	flags, _ := namespaceFlags(Network{Mode: "none"})
	return flags &^ unix.CLONE_NEWNS
}

// spareInitFits is the namespace flags a spec must ask for to take the
// spare: the spare's, plus the mount namespace it makes on the claim.
func spareInitFits() uintptr { return spareInitFlags() | unix.CLONE_NEWNS }

// startSpareInit starts an init that waits for its container (nil when
// it could not: the claim then starts one as before). Its fds 0-2 and 4
// are /dev/null placeholders that the claim replaces, so that the Go
// runtime can never take those numbers for a file of its own.
func startSpareInit() *spareInit {
	mine, child, err := socketPair("sync")
	if err != nil {
		return nil
	}
	defer child.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		mine.Close()
		return nil
	}
	defer null.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{os.Args[0], roleInit, spareInitArg},
		Env:        []string{"GOMAXPROCS=1", "GOGC=off", roleEnv + "=" + roleInit, "_MINIDOCKER_TRACE=" + os.Getenv("_MINIDOCKER_TRACE")},
		Stdin:      null,
		Stdout:     null,
		Stderr:     null,
		ExtraFiles: []*os.File{child, null}, // fd 3: sync; fd 4: the console socket's place
		SysProcAttr: &syscall.SysProcAttr{
			Setsid:     true,
			Cloneflags: spareInitFlags(),
		},
	}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil
	}
	return &spareInit{cmd: cmd, sync: mine}
}

// discard ends a spare init that will not be used, and reaps it.
func (si *spareInit) discard() {
	si.sync.Close()
	si.cmd.Process.Kill()
	go si.cmd.Wait()
}

// fitsSpareInit says whether spec's init may be the spare: new mount,
// PID, UTS, IPC and network namespaces, no user namespace, nothing
// shared. Joining a network namespace is the one exception init can
// still make on its own (setns of its thread, before anything else).
func fitsSpareInit(spec *Spec) bool {
	if spec.UserNamespace != nil || spec.IPC.Path != "" || spec.PID.Path != "" {
		return false
	}
	switch spec.Network.Mode {
	case "", "none", "join":
	default:
		return false
	}
	return withSharedNamespaces(spareInitFits(), spec) == spareInitFits()
}

// claimOrStartInit gives the container its init: the spare one when the
// spec's namespaces are the spare's, a new one otherwise (startInit).
func (s *shim) claimOrStartInit(stdio *initStdio) error {
	fits := s.spareFits()
	si := s.spareInit
	s.spareInit = nil
	if !fits {
		if si != nil {
			si.discard()
		}
		return s.startInit(stdio)
	}
	if err := s.claimSpareInit(si, stdio); err != nil {
		si.discard()
		return err
	}
	return nil
}

// spareFits says whether the claim takes the spare init: there is one,
// and the spec's namespaces are its own.
func (s *shim) spareFits() bool { return s.spareInit != nil && fitsSpareInit(s.spec) }

// claimSpareInit makes si the container's init with the claim message
// (spareClaimFds); placeInit then sees to its cgroup.
func (s *shim) claimSpareInit(si *spareInit, stdio *initStdio) error {
	pid := si.cmd.Process.Pid
	fds, nstdio, err := spareClaimFds(s.spec, stdio)
	if err != nil {
		return err
	}
	for _, fd := range fds[nstdio:] {
		defer unix.Close(fd)
	}
	if err := unix.Sendmsg(int(si.sync.Fd()), []byte{byte(nstdio)}, unix.UnixRights(fds...), nil, 0); err != nil {
		return fmt.Errorf("start init: send its stdio: %w", err)
	}
	s.syncSock.Close() // the pair openStdio made for an init started now
	s.syncSock = si.sync
	s.cmd, s.pid = si.cmd, pid
	trace("shim: spare init claimed")
	return nil
}

// spareClaimFds are the fds a claim sends: init's stdin, stdout and
// stderr, the console socket with a terminal (nstdio of them), then the
// network namespace to join, opened here, with network mode "join".
func spareClaimFds(spec *Spec, stdio *initStdio) (fds []int, nstdio int, err error) {
	fds = []int{int(stdio.stdin.Fd()), int(stdio.stdout.Fd()), int(stdio.stderr.Fd())}
	if stdio.console != nil {
		fds = append(fds, int(stdio.console.Fd()))
	}
	nstdio = len(fds)
	if spec.Network.Mode == "join" {
		ns, err := unix.Open(spec.Network.NetnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, 0, fmt.Errorf("open namespace: %w", err)
		}
		fds = append(fds, ns)
	}
	return fds, nstdio, nil
}

// waitAsSpare is a spare init's wait for its container. The claim's
// message (spareClaimFds) carries its stdio, which takes the places of
// the /dev/null placeholders, and maybe a network namespace, which this
// thread (locked: it will exec the CMD) enters; a failure there is
// init's start error, reported at "go". EOF instead means its shim went
// away unclaimed: init exits.
func waitAsSpare() *StartError {
	warmJSON(&initConfig{})
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(5*4))
	n, oobn, _, _, err := unix.Recvmsg(initSyncFd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil || n == 0 {
		os.Exit(1)
	}
	fds, err := rightsIn(oob[:oobn])
	nstdio := int(buf[0])
	if err != nil || nstdio < 3 || nstdio > 4 || len(fds)-nstdio > 1 {
		os.Exit(1)
	}
	places := []int{0, 1, 2, initConsoleFd}
	for i, fd := range fds[:nstdio] {
		flags := 0
		if places[i] == initConsoleFd {
			flags = unix.O_CLOEXEC // the shim's socket, not the CMD's
		}
		if unix.Dup3(fd, places[i], flags) != nil {
			os.Exit(1)
		}
		unix.Close(fd)
	}
	trace("init: claimed")
	// The mount namespace, copied now (spareInitFlags says why not at
	// birth). unshare gives only this thread its copy, with a root and
	// working directory of its own; it is the thread that builds the root
	// and execs the CMD, and the exec takes the namespace along.
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return startErr("new mount namespace: %v", err)
	}
	for _, ns := range fds[nstdio:] {
		defer unix.Close(ns)
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			return startErr("join the container's network namespace: %v", err)
		}
	}
	return nil
}

// rightsIn is the fds of a message's SCM_RIGHTS.
func rightsIn(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("no fds in the claim: %v", err)
	}
	return unix.ParseUnixRights(&msgs[0])
}

// warmJSON encodes and decodes a zero v once, while nobody waits: the
// first use of encoding/json on a type builds its field tables and faults
// the decoder's code in, which would otherwise be paid on the claim.
func warmJSON(v any) {
	if b, err := json.Marshal(v); err == nil {
		json.Unmarshal(b, v)
	}
}

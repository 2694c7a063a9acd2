package libcontainer

// The daemon's side of exec in a container with a user namespace: it asks
// the container's userns-helper (usernshelper_linux.go) over
// <bundle>/userns-exec.sock, and does the two things the helper, an
// unprivileged host uid, cannot: it opens the pty (and gives it to the
// container's root), and it moves the new process into the container's
// cgroup while the process waits at its execve.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Exec runs p in the shim's container (see the package-level Exec). A
// container in a user namespace of its own is asked through its
// userns-helper; any other is entered from this process.
func (s *Shim) Exec(ctx context.Context, p Process, stdio ExecIO) (*ExecProcess, error) {
	if sameFile(fmt.Sprintf("/proc/%d/ns/user", s.Pid), "/proc/self/ns/user") || len(p.Args) == 0 {
		return Exec(ctx, s.Pid, p, stdio)
	}
	return execThroughHelper(ctx, s.bundle, s.Pid, p, stdio)
}

// execThroughHelper is Exec for a container in a user namespace.
func execThroughHelper(ctx context.Context, bundle string, initPid int, p Process, stdio ExecIO) (*ExecProcess, error) {
	return execWith(initPid, &p, stdio, func(child []*os.File) (int, func() (int, error), error) {
		h, err := askHelper(ctx, bundle, initPid, &p, child)
		if err != nil {
			return 0, nil, err
		}
		return h.pid, h.waitExit, nil
	})
}

// helperExec is one exec the helper runs for us: its connection, on which
// the exit code comes.
type helperExec struct {
	conn *net.UnixConn
	in   *fdLines
	pid  int // in our PID namespace
}

// askHelper sends the request and the process's stdio, puts the stopped
// process into the container's cgroup and returns once it runs.
func askHelper(ctx context.Context, bundle string, initPid int, p *Process, child []*os.File) (*helperExec, error) {
	if p.Terminal {
		if err := giveTerminalToRemappedRoot(child[0], initPid); err != nil {
			return nil, err
		}
	}
	c, err := dialUnix(ctx, bundleFile(bundle, UsernsExecSocket))
	if err != nil {
		return nil, fmt.Errorf("exec in a user namespace: the container's userns-helper does not answer (%v)", err)
	}
	uc := c.(*net.UnixConn)
	h := &helperExec{conn: uc, in: fdLinesOfConn(uc)}
	if err := h.run(initPid, p, child); err != nil {
		h.in.closeFds()
		c.Close()
		return nil, err
	}
	return h, nil
}

// run is the conversation up to the start: request, pid, cgroup, started.
func (h *helperExec) run(initPid int, p *Process, files []*os.File) error {
	line, _ := json.Marshal(helperExecRequest{InitPid: initPid, Process: *p})
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	if _, _, err := h.conn.WriteMsgUnix(append(line, '\n'), unix.UnixRights(fds...), nil); err != nil {
		return fmt.Errorf("exec in a user namespace: send the request: %w", err)
	}
	r, err := h.reply()
	if err != nil {
		return err
	}
	if !r.Stopped {
		return fmt.Errorf("exec in a user namespace: unexpected answer from the userns-helper")
	}
	ack := helperExecAck{Joined: true}
	if h.pid, err = h.in.pidOfFd(); err == nil {
		err = moveIntoCgroupOf(h.pid, initPid)
	}
	if err != nil {
		ack = helperExecAck{Error: err.Error()}
	}
	b, _ := json.Marshal(ack)
	if _, err := h.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("exec in a user namespace: %w", err)
	}
	if r, err = h.reply(); err != nil {
		return err
	}
	if !r.Started {
		return fmt.Errorf("exec in a user namespace: unexpected answer from the userns-helper")
	}
	return nil
}

// reply reads the helper's next answer; an Error is a *StartError.
func (h *helperExec) reply() (helperExecReply, error) {
	var r helperExecReply
	if err := h.in.next(&r); err != nil {
		return r, fmt.Errorf("exec in a user namespace: no answer from the container's userns-helper (%v)", err)
	}
	if r.Error != "" {
		return r, &StartError{Code: r.Code, Message: r.Error}
	}
	return r, nil
}

// waitExit waits for the helper's report of the exit code.
func (h *helperExec) waitExit() (int, error) {
	defer h.conn.Close()
	defer h.in.closeFds()
	r, err := h.reply()
	if err != nil {
		return 0, err
	}
	if r.Exit == nil {
		return 0, errors.New("exec in a user namespace: no exit code from the userns-helper")
	}
	return *r.Exit, nil
}

// moveIntoCgroupOf moves pid (one thread, stopped at its execve) into
// the cgroup of initPid (openJoin: v2 its cgroup.procs, v1 each
// hierarchy's tasks).
func moveIntoCgroupOf(pid, initPid int) error {
	cg, err := cgroupOf(initPid)
	if err != nil {
		return fmt.Errorf("find the container's cgroup: %w", err)
	}
	defer cg.close()
	fds, err := cg.openJoin()
	if err != nil {
		return err
	}
	defer closeFds(fds)
	id := []byte(strconv.Itoa(pid))
	for _, fd := range fds {
		if _, err := unix.Write(fd, id); err != nil {
			return err
		}
	}
	return nil
}

// giveTerminalToRemappedRoot makes the pty slave (opened by us, host
// root, so owned by host uid 0) the container root's: the helper, root
// only inside, may change the owner of a file only when its owner and
// group exist in its namespace. The helper then gives it to the user.
func giveTerminalToRemappedRoot(slave *os.File, initPid int) error {
	uids, err := readIDMap(fmt.Sprintf("/proc/%d/uid_map", initPid))
	if err != nil {
		return err
	}
	gids, err := readIDMap(fmt.Sprintf("/proc/%d/gid_map", initPid))
	if err != nil {
		return err
	}
	ns := UserNamespace{UIDMap: uids, GIDMap: gids}
	var st unix.Stat_t
	if err := unix.Fstat(int(slave.Fd()), &st); err != nil {
		return err
	}
	gid := int(st.Gid) // devpts' tty group, when the namespace maps it
	if _, inside := ns.ContainerIDs(0, gid); inside == gid {
		gid = int(ns.RootGID())
	}
	if err := unix.Fchown(int(slave.Fd()), int(ns.RootUID()), gid); err != nil {
		return fmt.Errorf("give the terminal to the container's root: %w", err)
	}
	return nil
}

// readIDMap parses a /proc/<pid>/uid_map or gid_map.
func readIDMap(path string) ([]IDMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m []IDMap
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]uint64
		for i := range f {
			if v[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		m = append(m, IDMap{ContainerID: uint32(v[0]), HostID: uint32(v[1]), Size: uint32(v[2])})
	}
	return m, nil
}

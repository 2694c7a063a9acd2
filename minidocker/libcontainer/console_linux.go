package libcontainer

// The container's terminal, as runc makes it. With Process.Terminal, init
// opens the pty itself, once it stands in the container's root: the master
// comes from the container's own devpts instance (/dev/pts/ptmx, mounted
// with newinstance by setupDev), so PID 1's terminal is /dev/pts/0, a name
// that exists inside the container, and /dev/console is bound to it. Init
// keeps the slave as its stdin, stdout, stderr and controlling terminal,
// and hands the master to the shim over the console socket (fd 4) as
// SCM_RIGHTS ancillary data: the shim then holds the container's terminal,
// as it would hold pipes, and outlives the daemon with it.
//
// A pty made by the shim on the host's devpts (the easy way) would be a
// /dev/pts/N of the host: `tty` inside could not name it and printed
// /dev/console.

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const initConsoleFd = 4

// setupConsole makes init's terminal (see the file's comment). It runs
// after pivot_root, so /dev is the container's.
func setupConsole(p *Process) error {
	master, slave, err := openPtyPair("/dev/pts/ptmx")
	if err != nil {
		return err
	}
	defer master.Close()
	defer slave.Close()
	if p.ConsoleHeight > 0 && p.ConsoleWidth > 0 {
		if err := setWinsize(master, p.ConsoleHeight, p.ConsoleWidth); err != nil {
			return fmt.Errorf("set the terminal size: %w", err)
		}
	}
	if err := bindConsole(slave); err != nil {
		return err
	}
	if err := sendFd(initConsoleFd, master); err != nil {
		return fmt.Errorf("send the terminal to the shim: %w", err)
	}
	return takeTerminal(slave)
}

// openPtyPair opens a new terminal of the devpts whose ptmx is at path:
// the master, unlocked, and its slave, got from the master itself
// (TIOCGPTPEER) rather than by a path a mount could redirect.
func openPtyPair(ptmx string) (master, slave *os.File, err error) {
	fd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", ptmx, err)
	}
	master = os.NewFile(uintptr(fd), "pty-master")
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		master.Close()
		return nil, nil, fmt.Errorf("%s is not a devpts ptmx", ptmx)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		master.Close()
		return nil, nil, fmt.Errorf("unlock the pty: %w", err)
	}
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open the pty's slave: %w", errno)
	}
	return master, os.NewFile(sfd, "pty-slave"), nil
}

// bindConsole binds the slave on /dev/console (an empty file made for it
// in the container's /dev tmpfs), as docker's containers have it. The
// mount source is the descriptor's magic link: no path to look up.
func bindConsole(slave *os.File) error {
	fd, err := unix.Open("/dev/console", unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create /dev/console: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Mount(fdPath(slave), fmt.Sprintf("/proc/self/fd/%d", fd), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind the terminal on /dev/console: %w", err)
	}
	return nil
}

// takeTerminal makes slave init's controlling terminal (init leads a
// session of its own: the shim started it with setsid) and its stdin,
// stdout and stderr, which the CMD inherits.
func takeTerminal(slave *os.File) error {
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the terminal the controlling one: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("terminal as fd %d: %w", fd, err)
		}
	}
	return nil
}

// giveTerminal makes the process's user the owner of its terminal (the
// slave on fd, opened by root), as runc does: a CMD run with --user must
// be able to reopen and chmod its own /dev/pts/N. Only the user changes:
// the group stays devpts' tty group. Not a terminal, or one the user
// owns already: nothing to do.
func giveTerminal(fd int, uid uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat the terminal: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 136 || st.Uid == uid {
		return nil // 136: devpts slaves
	}
	if err := unix.Fchown(fd, int(uid), -1); err != nil {
		return fmt.Errorf("give the terminal to uid %d: %w", uid, err)
	}
	return nil
}

// sendFd sends f over the unix socket sock, with one byte of data (a
// message with only ancillary data is not delivered on a stream socket).
func sendFd(sock int, f *os.File) error {
	return unix.Sendmsg(sock, []byte{0}, unix.UnixRights(int(f.Fd())), nil, 0)
}

// recvFd receives the descriptor sendFd sent on sock (a blocking socket).
// errNoFd means the other end closed without sending one (init failed
// before).
func recvFd(sock *os.File, name string) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	for err == unix.EINTR {
		n, oobn, _, _, err = unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	}
	if err != nil {
		return nil, err
	}
	if n == 0 && oobn == 0 {
		return nil, errNoFd
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errNoFd
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errNoFd
	}
	return os.NewFile(uintptr(fds[0]), name), nil
}

var errNoFd = errors.New("no descriptor received")

// setWinsize sets the size of the terminal whose master (or slave) is f:
// TIOCSWINSZ, after which the kernel sends SIGWINCH to the terminal's
// foreground processes. It reaches the descriptor through SyscallConn,
// which holds it open for the call: a copier may close f at any moment
// (its process ended), and f.Fd() would race with that.
func setWinsize(f *os.File, h, w uint16) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := raw.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: h, Col: w})
	}); err != nil {
		return err // closed: the process has exited
	}
	return ierr
}

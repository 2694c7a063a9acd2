package libcontainer

// docker run --init: a small init as PID 1 (docker ships tini as
// /sbin/docker-init). The daemon bind-mounts this very binary at
// /sbin/docker-init and runs "/sbin/docker-init -- CMD…"; RunReexecEntrypoint
// knows the role by that name. It starts the CMD as its child, passes on
// every signal it gets (docker stop's SIGTERM reaches the CMD, which as
// PID 1 would have ignored it without a handler), reaps every orphan the
// kernel hands it (no zombies pile up), and exits with the CMD's status.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReaperPath is where the init of --init is mounted, and its name.
const ReaperPath = "/sbin/docker-init"

const reaperName = "docker-init"

// runReaper is PID 1 for --init; args are "--" and the command.
func runReaper(args []string) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintf(os.Stderr, "%s: no command given\n", reaperName)
		os.Exit(1)
	}
	if os.Getpid() != 1 {
		// not PID 1 (--pid host): orphans come to us all the same
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs) // before the child exists: no SIGCHLD is missed
	child, err := startReaped(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[FATAL %s] exec %s failed: %v\n", reaperName, args[0], err)
		os.Exit(execFailureCode(err))
	}
	for sig := range sigs {
		switch sig {
		case syscall.SIGCHLD:
			if code, done := reapAll(child.Pid); done {
				os.Exit(code)
			}
		case syscall.SIGURG:
			// Go's runtime preempts its own threads with SIGURG: not the
			// user's, so not passed on
		default:
			syscall.Kill(child.Pid, sig.(syscall.Signal))
		}
	}
}

// startReaped starts the command with init's stdio. On a terminal the
// child gets a process group of its own in the foreground, so ^C reaches
// it (once) rather than init.
func startReaped(args []string) (*os.Process, error) {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return nil, err
	}
	attr := &syscall.SysProcAttr{}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		attr.Foreground, attr.Ctty = true, 0
	}
	return os.StartProcess(path, args, &os.ProcAttr{
		Env: os.Environ(), Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Sys: attr,
	})
}

// reapAll waits for every child that has ended (orphans included); done
// is true, with the exit code docker gives, once the command itself has.
func reapAll(cmdPid int) (code int, done bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid != cmdPid {
			continue
		}
		done = true
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
}

// execFailureCode is the shell's code for a command that cannot run:
// 127 not found, 126 found but not runnable.
func execFailureCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}

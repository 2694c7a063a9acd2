package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The root tests need processes to put into cgroups: a sleeper, a memory
// hog, a forker. Rather than depending on sleep(1) or a shell (which the
// qemu initramfs may lack), the test binary re-executes itself with
// helperEnv set and becomes that helper.
const helperEnv = "MINIDOCKER_CGROUPS_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runHelper(mode)
		os.Exit(3) // helpers never return
	}
	os.Exit(m.Run())
}

// runHelper: every mode but "sleep" first waits for a line on stdin, the
// test's "go" after it has put the helper into its cgroup.
func runHelper(mode string) {
	if mode != "sleep" {
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			os.Exit(4)
		}
	}
	switch mode {
	case "sleep", "wait-sleep":
		fmt.Println("running")
		time.Sleep(time.Hour)
	case "alloc":
		// Touch 1 MiB at a time, up to 1 GiB; the OOM killer should stop it long before.
		var keep [][]byte
		for i := 0; i < 1024; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
		os.Exit(0)
	case "fork":
		forkUntilRefused()
	case "devices":
		runDeviceHelper() // devices_test.go
	case "join-thread":
		joinThreadHelper()
	case "spawn":
		for i := 0; i < 3; i++ {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"=sleep")
			if err := cmd.Start(); err != nil {
				fmt.Println("spawn:", err)
				os.Exit(5)
			}
			fmt.Println("child", cmd.Process.Pid)
		}
		fmt.Println("running")
		time.Sleep(time.Hour)
	}
	os.Exit(6)
}

// joinThreadEnv names the cgroup ("parent/name") a join-thread helper
// moves its own thread into.
const joinThreadEnv = "MINIDOCKER_CGROUPS_JOIN"

// joinThreadHelper moves its locked thread into the cgroup with
// AddThisThread and says which thread that was.
func joinThreadHelper() {
	runtime.LockOSThread()
	parent, name, _ := strings.Cut(os.Getenv(joinThreadEnv), "/")
	c, err := Load(parent, name)
	if err == nil {
		err = c.AddThisThread()
	}
	if err != nil {
		fmt.Println("join:", err)
		os.Exit(5)
	}
	fmt.Println("joined", syscall.Gettid())
	time.Sleep(time.Hour)
}

// forkUntilRefused forks plain children that exit at once and are not
// reaped, so each stays counted by the pids controller. Only raw system
// calls run between the forks: the Go runtime must not need a new thread
// while the cgroup is full, or it would abort. Children are reaped before
// anything is printed.
func forkUntilRefused() {
	runtime.LockOSThread()
	const tries = 50
	forked := 0
	var refused syscall.Errno
	for i := 0; i < tries; i++ {
		pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if errno != 0 {
			refused = errno
			break
		}
		if pid == 0 {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		forked++
	}
	for i := 0; i < forked; i++ {
		var ws syscall.WaitStatus
		syscall.Wait4(-1, &ws, 0, nil)
	}
	fmt.Printf("forked %d refused %d\n", forked, int(refused))
	os.Exit(0)
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	done  chan struct{}
	err   error
}

// startHelper starts a helper of the given mode. With cgFD >= 0 (v2) the
// helper is born inside that cgroup; otherwise the caller adds it.
func startHelper(t testing.TB, mode string, cgFD int) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	if cgFD >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgFD}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), done: make(chan struct{})}
	t.Cleanup(func() {
		h.cmd.Process.Kill()
		h.wait(10 * time.Second)
	})
	if mode != "sleep" {
		h.expect(t, "ready")
	}
	return h
}

func (h *helper) line(t testing.TB) string {
	t.Helper()
	s, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper output: %v (got %q)", err, s)
	}
	return strings.TrimSpace(s)
}

func (h *helper) expect(t testing.TB, want string) {
	t.Helper()
	if got := h.line(t); got != want {
		t.Fatalf("helper said %q, want %q", got, want)
	}
}

func (h *helper) start(t testing.TB) {
	t.Helper()
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
}

// wait reaps the helper once (further calls return the same result).
func (h *helper) wait(d time.Duration) (syscall.WaitStatus, bool) {
	select {
	case <-h.done:
	default:
		ch := make(chan error, 1)
		go func() { ch <- h.cmd.Wait() }()
		select {
		case h.err = <-ch:
			close(h.done)
		case <-time.After(d):
			return 0, false
		}
	}
	return h.cmd.ProcessState.Sys().(syscall.WaitStatus), true
}

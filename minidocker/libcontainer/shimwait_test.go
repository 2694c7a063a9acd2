package libcontainer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A shim that does not end after its last answer is killed by Cleanup's
// wait (a pidfd, no polling), and the wait returns once it is gone.
func TestWaitShimEndKillsAStuckShim(t *testing.T) {
	bundle := t.TempDir()
	// "sh shim", run in the bundle, runs the script ./shim: it looks like
	// a claimed shim (argv[1] "shim", the bundle its working directory),
	// and it never ends: it reads a pipe nobody writes to (no child
	// process left behind).
	if err := os.WriteFile(filepath.Join(bundle, roleShim), []byte("trap '' TERM\nread line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin, hold, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer hold.Close()
	cmd := exec.Command("/bin/sh", roleShim)
	cmd.Dir = bundle
	cmd.Stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	pid := cmd.Process.Pid
	// wait until sh has started (its cmdline is set at exec)
	for i := 0; i < 500 && !processRuns(pid, bundle); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !processRuns(pid, bundle) {
		t.Fatalf("the fake shim's cmdline is not a shim's: %q", readCmdline(pid))
	}
	waitShimEnd(pid, bundle)
	if processRuns(pid, bundle) {
		t.Fatalf("shim %d still runs after waitShimEnd", pid)
	}
	<-exited
	if ws := cmd.ProcessState.String(); !strings.Contains(ws, "killed") {
		t.Errorf("the stuck shim ended with %q, want killed", ws)
	}
}

// A pid that is not bundle's shim (reused, or another bundle's) is left alone.
func TestWaitShimEndLeavesOtherProcesses(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitShimEnd(cmd.Process.Pid, "/no/such/bundle")
	if err := unix.Kill(cmd.Process.Pid, 0); err != nil {
		t.Fatalf("waitShimEnd ended a process that is not a shim")
	}
}

func readCmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.ReplaceAll(string(b), "\x00", " ")
}

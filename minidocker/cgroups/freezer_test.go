package cgroups

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFreezeThaw: Freeze stops the cgroup's process (in the kernel's frozen
// state, D, on v1), a second Freeze changes nothing, Thaw lets it run again, and
// a frozen cgroup is still destroyed (its processes killed). On a v2
// machine (scripts/cgroup2-vm-test.sh) it is cgroup.freeze, on v1 the
// freezer controller.
func TestFreezeThaw(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "frozen")
	h := enter(t, c, "wait-sleep", false)
	h.start(t)
	h.expect(t, "running")
	pid := h.cmd.Process.Pid

	if frozen, err := c.Frozen(); err != nil || frozen {
		t.Fatalf("a new cgroup: Frozen() = %v, %v", frozen, err)
	}
	for i := 0; i < 2; i++ { // freezing a frozen cgroup is harmless
		if err := c.Freeze(); err != nil {
			t.Fatal(err)
		}
	}
	if frozen, err := c.Frozen(); err != nil || !frozen {
		t.Fatalf("after Freeze: Frozen() = %v, %v", frozen, err)
	}
	// v1's freezer leaves a task in the kernel's frozen state, which /proc
	// shows as D; v2 parks it in an interruptible wait (S), where only
	// cgroup.events (Frozen, above) tells it apart from a sleeper.
	if st := procState(t, pid); Detect() == V1 && st != "D" {
		t.Errorf("a frozen process is in state %q, want D", st)
	}
	if err := c.Thaw(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := c.Frozen(); err != nil || frozen {
		t.Fatalf("after Thaw: Frozen() = %v, %v", frozen, err)
	}
	if st := procState(t, pid); st == "D" {
		t.Errorf("a thawed process is still in state D")
	}

	if err := c.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatalf("Destroy of a frozen cgroup: %v", err)
	}
	if ws, ok := h.wait(5 * time.Second); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("helper after Destroy of the frozen cgroup: %v exited=%v", ws, ok)
	}
}

// procState is the one-letter state of pid in /proc/<pid>/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndex(s, ")")+1:])[0]
}

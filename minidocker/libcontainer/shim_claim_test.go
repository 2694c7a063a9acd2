package libcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A daemon killed while a claimed shim is still making the container (it
// never hears back) leaves a bundle that the next daemon's Cleanup must
// take whole: the shim is found and killed, so nothing keeps writing into
// the bundle while it is removed. Here the shim is held in the middle of
// its create by a log "file" that is a FIFO nobody reads.
func TestCleanupTakesAShimStillMakingItsContainer(t *testing.T) {
	spec, bundle := newSpec(t, "true")
	spec.LogPath = filepath.Join(bundle, "held.fifo")
	if err := syscall.Mkfifo(spec.LogPath, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	sp, err := startSpareShim()
	if err != nil {
		t.Fatal(err)
	}
	pid := sp.cmd.Process.Pid
	t.Cleanup(func() { sp.cmd.Process.Kill() })
	b, _ := json.Marshal(shimClaim{Bundle: bundle})
	if _, err := sp.ctl.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
	sp.ctl.Close() // the daemon is gone
	// the shim has its cgroup and now blocks opening the log
	cgroupDir := filepath.Join("/sys/fs/cgroup/pids", spec.Cgroup.Parent, spec.Cgroup.Name)
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil {
		cgroupDir = filepath.Join("/sys/fs/cgroup", spec.Cgroup.Parent, spec.Cgroup.Name) // v2
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(cgroupDir); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the claimed shim never made its cgroup")
		}
	}

	if err := Cleanup(bundle); err != nil {
		t.Errorf("Cleanup: %v", err)
	}
	select {
	case <-sp.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("the shim (pid %d) still runs after Cleanup: it would go on writing into the bundle", pid)
	}
	if _, err := os.Stat(cgroupDir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s after Cleanup: %v", cgroupDir, err)
	}
	if err := os.RemoveAll(bundle); err != nil {
		t.Errorf("removing the bundle: %v", err)
	}
}

package daemon_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

var (
	busyboxOnce sync.Once
	busyboxTar  string
	busyboxErr  error
)

// busybox is the offline busybox image archive: build/busybox.tar when
// `make busybox` made it, otherwise built once per test process.
func busybox(t testing.TB) string {
	t.Helper()
	busyboxOnce.Do(func() {
		p := filepath.Join(testutil.RepoRoot(), "build", "busybox.tar")
		if _, err := os.Stat(p); err == nil {
			busyboxTar = p
			return
		}
		dir, err := os.MkdirTemp("", "busybox-image")
		if err != nil {
			busyboxErr = err
			return
		}
		busyboxTar = filepath.Join(dir, "busybox.tar")
		cmd := exec.Command("go", "run", "./scripts/mkbusybox", "-o", busyboxTar)
		cmd.Dir = testutil.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			busyboxErr = err
			t.Logf("%s", out)
		}
	})
	if busyboxErr != nil {
		t.Fatal(busyboxErr)
	}
	return busyboxTar
}

// startDaemon starts an isolated daemon whose image store already holds
// busybox:latest. The image is loaded through image.Store.Load straight
// into the data root before the daemon starts (independent of the load
// endpoint).
func startDaemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t)
	s, err := image.Open(filepath.Join(d.DataRoot, "image"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.Load(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(func() {
		d.RemoveAllContainers()
		d.Stop()
		d.AssertNoLeaks()
	})
	return d
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustRun(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	return strings.TrimSpace(d.MustCLI(args...))
}

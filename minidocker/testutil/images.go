package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	busyboxOnce sync.Once
	busyboxPath string
	busyboxErr  error
)

// BusyboxTar is the offline busybox image archive (tag busybox:latest):
// $MINIDOCKER_BUSYBOX_TAR when the Makefile made it, else build/busybox.tar
// of the repository when an earlier `make busybox` or test run left one,
// else built once (go run ./scripts/mkbusybox, a few seconds) into
// build/busybox.tar — through a temporary name and a rename, so test
// processes running side by side never see half a file.
func BusyboxTar(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MINIDOCKER_BUSYBOX_TAR"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	busyboxOnce.Do(func() {
		out := filepath.Join(RepoRoot(), "build", "busybox.tar")
		if _, err := os.Stat(out); err == nil {
			busyboxPath = out
			return
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			busyboxErr = err
			return
		}
		tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
		defer os.Remove(tmp)
		cmd := exec.Command("go", "run", "./scripts/mkbusybox", "-o", tmp)
		cmd.Dir = RepoRoot()
		if b, err := cmd.CombinedOutput(); err != nil {
			busyboxErr = fmt.Errorf("building the busybox image (go run ./scripts/mkbusybox): %v\n%s", err, b)
			return
		}
		if err := os.Rename(tmp, out); err != nil {
			busyboxErr = err
			return
		}
		busyboxPath = out
	})
	if busyboxErr != nil {
		t.Fatal(busyboxErr)
	}
	return busyboxPath
}

// LoadBusybox loads the offline busybox image into this daemon as
// busybox:latest (`load -i`), and fails the test if that does not work.
// Loading an image that is already there is cheap and harmless.
func (d *Daemon) LoadBusybox() {
	d.t.Helper()
	tar := BusyboxTar(d.t)
	r := d.CLI("load", "-i", tar)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Loaded image") {
		d.t.Fatalf("minidocker load -i %s: exit %d\nstdout: %s\nstderr: %s", tar, r.Code, r.Stdout, r.Stderr)
	}
}

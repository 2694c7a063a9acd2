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
// $MINIDOCKER_BUSYBOX_TAR when the Makefile made it, otherwise built once
// per test process with scripts/mkbusybox (about a second) into a
// temporary directory.
func BusyboxTar(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MINIDOCKER_BUSYBOX_TAR"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	busyboxOnce.Do(func() {
		dir, err := os.MkdirTemp("", "minidocker-busybox")
		if err != nil {
			busyboxErr = err
			return
		}
		out := filepath.Join(dir, "busybox.tar")
		cmd := exec.Command("go", "run", "./scripts/mkbusybox", "-o", out)
		cmd.Dir = RepoRoot()
		if b, err := cmd.CombinedOutput(); err != nil {
			busyboxErr = fmt.Errorf("building the busybox image (go run ./scripts/mkbusybox): %v\n%s", err, b)
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

package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

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

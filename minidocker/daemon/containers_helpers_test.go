package daemon_test

import (
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

func mustRun(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	return strings.TrimSpace(d.MustCLI(args...))
}

package daemon_test

import (
	"strings"
	"testing"
)

func TestContainerRunRmEcho(t *testing.T) {
	d := startDaemon(t)
	r := d.CLI("run", "--rm", "--net", "none", "busybox", "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Fatalf("run: code %d stdout %q stderr %q\n%s", r.Code, r.Stdout, r.Stderr, d.Log())
	}
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("ps -aq after run --rm: %q", out)
	}
	_ = strings.TrimSpace
}

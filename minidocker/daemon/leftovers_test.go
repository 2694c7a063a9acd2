package daemon_test

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Issue 10, finding 8: after a daemon with --cgroup-parent stopped, an
// empty directory of that name stayed in every cgroup hierarchy (cpu,
// cpuacct, freezer, memory, pids). testutil's leak check forgives empty
// ones; the daemon itself must not leave them.
func TestDaemonStopRemovesItsCgroupParent(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "--rm", "--net", "none", "busybox", "true")
	d.Stop()
	var left []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/" + d.Cgroup, "/sys/fs/cgroup/" + d.Cgroup} {
		m, _ := filepath.Glob(pattern)
		left = append(left, m...)
	}
	if len(left) > 0 {
		t.Fatalf("cgroup directories left after the daemon stopped: %v", left)
	}
}

// Issue 10, finding 8: every `exec -ti` made the daemon log a recovered
// panic ("invalid Body.Read call. After hijacked…"): once the process had
// ended, the handler drained the client's side of the connection while the
// goroutine feeding stdin was still reading it.
func TestExecTTYLogsNoPanic(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--net", "none", "--name", "box", "busybox", "sleep", "300")
	for i := 0; i < 3; i++ {
		cmd := exec.Command(d.Bin, "-H", d.Host, "exec", "-ti", "box", "sh", "-c", "read line; echo got:$line")
		f, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("hello\r"))
		out, _ := io.ReadAll(f) // ends with EIO when the CLI exits
		cmd.Wait()
		f.Close()
		if !strings.Contains(string(out), "got:hello") {
			t.Fatalf("exec -ti printed %q", out)
		}
	}
	if log := d.Log(); strings.Contains(log, "panic") {
		t.Fatalf("the daemon logged a panic during exec -ti:\n%s", log)
	}
}

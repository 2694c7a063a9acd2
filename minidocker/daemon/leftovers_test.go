package daemon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/minidocker/minidocker/minidocker/testutil"
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

// A removal answers its client (here `run --rm`'s wait for "removed")
// before the container's host side is gone: the cgroup, the bundle and
// the shim's files go after the answer. Whoever asks next must still find
// nothing of it: ps, and a lookup of the removed ID, wait for that work,
// so a check of the host right after either sees it gone too.
func TestRemovedContainerIsGoneFromTheHostForTheNextCall(t *testing.T) {
	d := preload.StartDaemon(t)
	api := apiClient(d)
	for i := 0; i < 4; i++ {
		code, body := call(api, "POST", "/containers/create", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true,"NetworkMode":"none"}}`)
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var created struct{ Id string }
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		id := created.Id
		waited := make(chan string, 1)
		go func() {
			code, body := call(api, "POST", "/containers/"+id+"/wait?condition=removed", "")
			waited <- fmt.Sprint(code, " ", body)
		}()
		// the wait is taken before the start, as the CLI does
		testutil.Eventually(t, 10*time.Second, "the wait is registered", func() bool {
			return strings.Contains(d.Log(), "/containers/"+id+"/wait")
		})
		if code, body := call(api, "POST", "/containers/"+id+"/start", ""); code != 204 {
			t.Fatalf("start: %d %s", code, body)
		}
		if w := <-waited; !strings.HasPrefix(w, "200 ") {
			t.Fatalf("wait: %s", w)
		}
		asked := "ps"
		if i%2 == 0 {
			if code, body := call(api, "GET", "/containers/json?all=1", ""); code != 200 || strings.Contains(body, id) {
				t.Fatalf("ps after the removal: %d %s", code, body)
			}
		} else {
			asked = "inspect of the removed ID"
			if code, _ := call(api, "GET", "/containers/"+id+"/json", ""); code != 404 {
				t.Fatalf("inspect after the removal: %d, want 404", code)
			}
		}
		var left []string
		for _, pattern := range []string{"/sys/fs/cgroup/*/" + d.Cgroup + "/" + id, "/sys/fs/cgroup/" + d.Cgroup + "/" + id, filepath.Join(d.ExecRoot, "containers", id)} {
			m, _ := filepath.Glob(pattern)
			left = append(left, m...)
		}
		if len(left) > 0 {
			t.Fatalf("after %s answered, the removed container still has %v", asked, left)
		}
	}
}

package daemon_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// counterCmd counts in /n, about twenty times a second, for ever.
var counterCmd = []string{"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /n; usleep 50000; done"}

// readCounter reads the counter of counterCmd through /proc/<pid>/root,
// which needs no exec (an exec into a paused container is refused).
func readCounter(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "root", "n"))
	if err != nil {
		return -1
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// procState is the one-letter state of pid in /proc/<pid>/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndex(s, ")")+1:])[0]
}

// TestPauseFreezesAndUnpauseThaws: docker pause freezes every process of
// the container (its counter stops, the kernel reports it frozen), ps and
// inspect say so, exec is refused, and unpause lets it go on.
func TestPauseFreezesAndUnpauseThaws(t *testing.T) {
	d := preload.StartDaemon(t)
	id := mustDocker(t, d, append([]string{"run", "-d", "--name", "pz", "--net", "none", "busybox"}, counterCmd...)...)
	pid := d.ContainerPid("pz")
	testutil.Eventually(t, 10*time.Second, "the counter", func() bool { return readCounter(t, pid) > 2 })

	if out := mustDocker(t, d, "pause", "pz"); out != "pz" {
		t.Fatalf("pause printed %q", out)
	}
	cg, err := cgroups.Load(d.Cgroup, id)
	if err != nil {
		t.Fatal(err)
	}
	if frozen, err := cg.Frozen(); err != nil || !frozen {
		t.Fatalf("cgroup of a paused container: frozen %v, %v", frozen, err)
	}
	if st := procState(t, pid); st != "D" {
		t.Fatalf("PID 1 of a paused container is in state %q, want D (frozen)", st)
	}
	before := readCounter(t, pid)
	time.Sleep(300 * time.Millisecond) // six ticks of the counter, were it running
	if after := readCounter(t, pid); after != before {
		t.Fatalf("the counter went on while paused: %d → %d", before, after)
	}
	st := state(t, d, "pz")
	if st["Status"] != "paused" || st["Paused"] != true || st["Running"] != true {
		t.Fatalf("inspect of a paused container: %v", st)
	}
	if ps := mustDocker(t, d, "ps", "--format", "{{.Status}}|{{.State}}", "-f", "name=pz"); !strings.HasSuffix(ps, "(Paused)|paused") || !strings.HasPrefix(ps, "Up ") {
		t.Fatalf("ps of a paused container: %q", ps)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pause", "pz"}, "Container " + id + " is already paused"},
		{[]string{"exec", "pz", "true"}, "Container " + id + " is paused, unpause the container before exec"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			if r := d.Docker(c.args...); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("docker %v: exit %d, %q; want %q", c.args, r.Code, r.Stderr, c.want)
			}
		})
	}
	if code := apiStatus(t, d, "POST", "/containers/pz/pause"); code != 409 {
		t.Fatalf("pause of a paused container: HTTP %d, want 409", code)
	}

	mustDocker(t, d, "unpause", "pz")
	testutil.Eventually(t, 10*time.Second, "the counter after unpause", func() bool { return readCounter(t, pid) > before })
	if frozen, _ := cg.Frozen(); frozen {
		t.Fatal("the cgroup is still frozen after unpause")
	}
	if st := state(t, d, "pz"); st["Status"] != "running" || st["Paused"] != false {
		t.Fatalf("inspect after unpause: %v", st)
	}
	if r := d.Docker("unpause", "pz"); r.Code == 0 || !strings.Contains(r.Stderr, "Container "+id+" is not paused") {
		t.Fatalf("unpause of a running container: %d %q", r.Code, r.Stderr)
	}
	if code := apiStatus(t, d, "POST", "/containers/pz/unpause"); code != 500 {
		t.Fatalf("unpause of a running container: HTTP %d, want dockerd's 500", code)
	}
	mustDocker(t, d, "exec", "pz", "true")
}

// TestPausedContainerStopsKillsAndRemoves: stop, kill and rm -f of a
// paused container end it (the signal, then a thaw, as dockerd), and leave
// no cgroup; pause of a stopped or missing container is refused.
func TestPausedContainerStopsKillsAndRemoves(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, name := range []string{"st", "kl", "rmf"} {
		mustDocker(t, d, "run", "-d", "--name", name, "--net", "none", "busybox", "sleep", "600")
		mustDocker(t, d, "pause", name)
	}
	mustDocker(t, d, "stop", "-t", "1", "st")
	mustDocker(t, d, "kill", "kl")
	mustDocker(t, d, "rm", "-f", "rmf")
	for _, name := range []string{"st", "kl"} {
		st := state(t, d, name)
		if st["Status"] != "exited" || st["Paused"] != false || st["Running"] != false {
			t.Fatalf("%s after stop/kill while paused: %v", name, st)
		}
	}
	if left, _ := cgroups.List(d.Cgroup); len(left) != 0 {
		t.Fatalf("cgroups left behind: %v", left)
	}
	if r := d.Docker("pause", "st"); r.Code == 0 || !strings.Contains(r.Stderr, "is not running") {
		t.Fatalf("pause of a stopped container: %d %q", r.Code, r.Stderr)
	}
	if code := apiStatus(t, d, "POST", "/containers/st/pause"); code != 409 {
		t.Fatalf("pause of a stopped container: HTTP %d, want 409", code)
	}
	if r := d.Docker("pause", "nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, "No such container: nosuch") {
		t.Fatalf("pause of a missing container: %d %q", r.Code, r.Stderr)
	}
	if code := apiStatus(t, d, "POST", "/containers/nosuch/pause"); code != 404 {
		t.Fatalf("pause of a missing container: HTTP %d, want 404", code)
	}
}

// apiCall sends one Engine API request (a JSON body when body is not
// empty) and returns the status code and the answer.
func apiCall(t *testing.T, d *testutil.Daemon, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://x/v1.47"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// apiStatus is the status code of a request without a body.
func apiStatus(t *testing.T, d *testutil.Daemon, method, path string) int {
	t.Helper()
	code, _ := apiCall(t, d, method, path, "")
	return code
}

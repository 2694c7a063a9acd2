package daemon_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// pastEvents is `docker events --since since --until now` with the
// filters, one "Type Action" line per event through --format.
func pastEvents(t *testing.T, d *testutil.Daemon, since string, format string, filters ...string) []string {
	t.Helper()
	args := []string{"events", "--since", since, "--until", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10), "--format", format}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	r := d.Docker(args...)
	if r.Code != 0 {
		t.Fatalf("docker %v: exit %d\n%s", args, r.Code, r.Combined())
	}
	return strings.Split(strings.TrimSpace(r.Stdout), "\n")
}

// A container's life through the real docker CLI's `docker events`: the
// past replayed with --since/--until (a unix time and a duration), the
// filters selecting one container, and the die carrying the exit code.
func TestEventsReplayAContainersLife(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	if r := d.Docker("run", "--name", "evlife", "--net", "none", "busybox", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("run: exit %d\n%s", r.Code, r.Combined())
	}
	d.Docker("run", "--name", "other", "--net", "none", "busybox", "true")
	d.Docker("rename", "evlife", "evlife2")
	d.Docker("rm", "evlife2")

	got := pastEvents(t, d, since, "{{.Type}} {{.Action}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}", "container=evlife", "container=evlife2")
	want := []string{"container create", "container attach", "container start", "container die 3", "container rename", "container destroy"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events of evlife:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// a duration works as well, and event= selects the action
	if got := pastEvents(t, d, "10m", "{{.Actor.Attributes.name}}", "event=die"); strings.Join(got, " ") != "evlife other" {
		t.Fatalf("--since 10m --filter event=die: %q", got)
	}
	// pause and unpause, and a stop: its signal, the die, then the stop
	mustDocker(t, d, "run", "-d", "--name", "pz", "--net", "none", "busybox", "sleep", "600")
	mustDocker(t, d, "pause", "pz")
	mustDocker(t, d, "unpause", "pz")
	mustDocker(t, d, "stop", "-t", "0", "pz")
	got = pastEvents(t, d, since, "{{.Action}}{{with .Actor.Attributes.signal}} {{.}}{{end}}", "container=pz")
	if want := "create start pause unpause kill 15 kill 9 die stop"; strings.Join(got, " ") != want {
		t.Fatalf("events of pz: %q, want %q", strings.Join(got, " "), want)
	}
	// an image filter, and the legacy fields docker-py and old clients read
	lines := pastEvents(t, d, since, "{{json .}}", "image=busybox", "event=start", "container=other")
	var ev struct {
		Status, ID, From string
		Scope            string `json:"scope"`
		TimeNano         int64  `json:"timeNano"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.Status != "start" || ev.From != "busybox" || len(ev.ID) != 64 || ev.Scope != "local" || ev.TimeNano == 0 {
		t.Fatalf("start of other as JSON: %q", lines)
	}
}

// `docker events` streams: a container that exits while the client waits
// shows up at once, and the stream of a filter ends at --until.
func TestEventsStream(t *testing.T) {
	d := preload.StartDaemon(t)
	cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "events", "--filter", "type=container", "--filter", "event=die",
		"--until", strconv.FormatInt(time.Now().Add(2*time.Minute).Unix(), 10), "--format", "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// the subscription may not be in place before the CLI has its answer's
	// headers: run containers until one is seen
	deadline := time.After(60 * time.Second)
	for i := 0; ; i++ {
		d.Docker("run", "--rm", "--net", "none", "--name", fmt.Sprintf("streamed%d", i), "busybox", "sh", "-c", "exit 7")
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, "streamed") || !strings.HasSuffix(l, " 7") {
				t.Fatalf("streamed event %q", l)
			}
			return
		case <-time.After(2 * time.Second):
		case <-deadline:
			t.Fatal("no die event streamed")
		}
	}
}

// GET /events refuses what dockerd refuses: an unknown filter, a time
// that is not one, since after until.
func TestEventsBadQueries(t *testing.T) {
	d := preload.StartDaemon(t)
	c := d.HTTPClient()
	for query, want := range map[string]string{
		`filters={"colour":{"red":true}}`: "invalid filter 'colour'",
		`since=yesterday`:                 `failed to parse value as time or duration: \"yesterday\"`,
		`since=200&until=100`:             "`since` time (200) cannot be after `until` time (100)",
	} {
		t.Run(query, func(t *testing.T) {
			resp, err := c.Get("http://docker/events?" + strings.ReplaceAll(strings.ReplaceAll(query, "{", "%7B"), "}", "%7D"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
				t.Fatalf("%s: %d %s, want 400 %s", query, resp.StatusCode, body, want)
			}
		})
	}
}

// Images, networks and volumes have their events too, in docker's words:
// tag, push, pull, save, untag, load, import, delete; a network's create,
// connect and disconnect around a container's run, destroy; a volume's
// create, mount, unmount, destroy.
func TestEventsOfImagesNetworksAndVolumes(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	reg := startStressRegistry(t)
	archive := filepath.Join(t.TempDir(), "img.tar")
	mustDocker(t, d, "tag", "busybox", "evimg:v1")
	mustDocker(t, d, "tag", "busybox", reg+"/ev/busybox:v1")
	mustDocker(t, d, "push", reg+"/ev/busybox:v1")
	mustDocker(t, d, "rmi", reg+"/ev/busybox:v1")
	mustDocker(t, d, "pull", reg+"/ev/busybox:v1")
	mustDocker(t, d, "save", "-o", archive, "evimg:v1")
	mustDocker(t, d, "rmi", "evimg:v1")
	mustDocker(t, d, "load", "-i", archive)
	mustDocker(t, d, "import", archive, "evimported:v1")
	mustDocker(t, d, "rmi", "evimported:v1")
	got := strings.Join(pastEvents(t, d, since, "{{.Action}} {{.Actor.Attributes.name}}", "type=image"), "\n")
	want := regexp.MustCompile(`^tag evimg:v1
tag REG/ev/busybox:v1
push REG/ev/busybox:v1
untag REG/ev/busybox:v1
untag REG/ev/busybox@sha256:[0-9a-f]{64}
pull REG/ev/busybox:v1
save evimg:v1
untag evimg:v1
load evimg:v1
import evimported:v1
untag evimported:v1
delete sha256:[0-9a-f]{64}$`)
	if !want.MatchString(strings.ReplaceAll(got, reg, "REG")) {
		t.Fatalf("image events:\n%s", got)
	}

	mustDocker(t, d, "network", "create", "evnet")
	mustDocker(t, d, "volume", "create", "evvol")
	mustDocker(t, d, "run", "--rm", "--network", "evnet", "-v", "evvol:/data", "busybox", "true")
	mustDocker(t, d, "network", "rm", "evnet")
	mustDocker(t, d, "volume", "rm", "evvol")
	if got := pastEvents(t, d, since, "{{.Action}} {{.Actor.Attributes.name}}", "type=network", "network=evnet"); strings.Join(got, ", ") != "create evnet, connect evnet, disconnect evnet, destroy evnet" {
		t.Fatalf("network events: %q", got)
	}
	if got := pastEvents(t, d, since, "{{.Action}} {{.Actor.ID}}{{with .Actor.Attributes.destination}} {{.}}{{end}}", "volume=evvol"); strings.Join(got, ", ") != "create evvol, mount evvol /data, unmount evvol, destroy evvol" {
		t.Fatalf("volume events: %q", got)
	}
}

// Our CLI's events and system events: docker's line by default (time,
// type, action, ID, attributes sorted), --format, filters, and the end at
// an --until already past.
func TestEventsOurCLI(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	d.MustCLI("run", "--name", "mine", "--net", "none", "--label", "tier=db", "busybox", "true")
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	out := d.MustCLI("events", "--since", since, "--until", until, "--filter", "event=die")
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[-+Z][0-9:]* container die [0-9a-f]{64} \(exitCode=0, image=busybox, name=mine, tier=db\)\n$`)
	if !line.MatchString(out) {
		t.Fatalf("events --filter event=die:\n%q", out)
	}
	out = d.MustCLI("system", "events", "--since", since, "--until", until, "--filter", "label=tier=db", "--format", "{{.Action}}")
	if out != "create\nattach\nstart\ndie\n" {
		t.Fatalf("system events --filter label=tier=db --format:\n%q", out)
	}
}

// The events of the operations on a live container, as dockerd emits
// them: update, top, export, the two directions of cp (archive-path,
// extract-to-dir), a terminal's resize with its size, the exec triple
// (exec_create and exec_start name the command, exec_die its code), and
// a commit (the image's create and tag, then the container's commit
// naming the image). A container the kernel OOM-kills shows an oom before
// its die.
func TestEventsOfContainerOperations(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	mustDocker(t, d, "run", "-d", "-t", "--name", "ops", "--net", "none", "busybox", "sleep", "600")
	mustDocker(t, d, "update", "--cpu-shares", "512", "ops")
	mustDocker(t, d, "top", "ops")
	mustDocker(t, d, "export", "-o", filepath.Join(t.TempDir(), "ops.tar"), "ops")
	dir := t.TempDir()
	mustDocker(t, d, "cp", "ops:/etc/hostname", filepath.Join(dir, "hostname"))
	mustDocker(t, d, "cp", filepath.Join(dir, "hostname"), "ops:/tmp/")
	if code, body := apiPost(t, d, "/containers/ops/resize?h=30&w=100", ""); code != 200 {
		t.Fatalf("resize: %d %s", code, body)
	}
	if r := d.Docker("exec", "ops", "sh", "-c", "exit 4"); r.Code != 4 {
		t.Fatalf("exec: exit %d %s", r.Code, r.Combined())
	}
	id := strings.TrimSpace(mustDocker(t, d, "commit", "-m", "snap", "ops", "opsimg:v1"))
	got := pastEvents(t, d, since, "{{.Type}} {{.Action}}{{range $k, $v := .Actor.Attributes}}{{if or (eq $k \"height\") (eq $k \"width\") (eq $k \"exitCode\") (eq $k \"comment\") (eq $k \"imageRef\")}} {{$k}}={{$v}}{{end}}{{end}}", "type=container", "container=ops")
	want := []string{"container create", "container start", "container update", "container top", "container export",
		"container archive-path", "container extract-to-dir", "container resize height=30 width=100",
		"container exec_create: sh -c exit 4", "container exec_start: sh -c exit 4", "container exec_die exitCode=4",
		"container commit comment=snap imageRef=opsimg:v1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events of ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = pastEvents(t, d, since, "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}", "type=image", "event=create", "event=tag")
	if want := "create " + id + " " + id + "|tag " + id + " opsimg:v1"; strings.Join(got, "|") != want {
		t.Fatalf("image events of the commit: %q, want %q", got, want)
	}
	if got := pastEvents(t, d, since, "{{.Actor.Attributes.imageID}}", "event=commit"); len(got) != 1 || got[0] != id {
		t.Fatalf("commit's imageID: %q, want %s", got, id)
	}

	// over the memory limit: the kernel kills PID 1, and the events say so
	r := d.Docker("run", "--name", "hog", "--net", "none", "-m", "8m", "--memory-swap", "8m", "busybox",
		"sh", "-c", `a=$(head -c 64000000 /dev/zero | tr "\0" x); echo survived`)
	if r.Code != 137 {
		t.Fatalf("memory hog: exit %d %q", r.Code, r.Combined())
	}
	got = pastEvents(t, d, since, "{{.Action}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}", "container=hog")
	if want := "create attach start oom die 137"; strings.Join(got, " ") != want {
		t.Fatalf("events of hog: %q, want %q", strings.Join(got, " "), want)
	}
	if got := strings.TrimSpace(mustDocker(t, d, "inspect", "-f", "{{.State.OOMKilled}}", "hog")); got != "true" {
		t.Fatalf("State.OOMKilled %s", got)
	}
}

// A command that ends at once: each run's start (and network connect) is
// logged before its die (and disconnect), as in docker. The monitor that
// logs the exit used to start before the start's events were logged, so
// under load a die could come first.
func TestStartEventsComeBeforeTheExitsEvents(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	mustDocker(t, d, "network", "create", "evorder")
	const runs = 20
	for range runs {
		mustDocker(t, d, "run", "--rm", "--network", "evorder", "busybox", "true")
	}
	seen := map[string]string{} // container ID → its actions so far
	for _, line := range pastEvents(t, d, since, "{{.Type}} {{.Action}} {{.Actor.ID}}{{with .Actor.Attributes.container}} {{.}}{{end}}", "event=start", "event=die", "event=connect", "event=disconnect") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		id := f[2] // a container's own events
		if f[0] == "network" {
			if len(f) < 4 {
				continue
			}
			id = f[3] // a network event names its container in "container"
		}
		seen[id] += " " + f[1]
	}
	for id, actions := range seen {
		if actions != " connect start die disconnect" {
			t.Errorf("container %.12s: events%s, want connect start die disconnect", id, actions)
		}
	}
	if len(seen) != runs {
		t.Errorf("%d containers in the events, want %d: %v", len(seen), runs, seen)
	}
}

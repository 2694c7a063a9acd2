package daemon_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

func TestCommitThenRunTheNewImage(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "src")
	toolsRun(t, d, "exec", "src", "sh", "-c", "echo committed > /root/marker && rm /bin/vi && mkdir -p /opt/app && echo x > /opt/app/f")
	id := toolsRun(t, d, "commit", "-m", "a message", "-a", "someone", "-c", "ENV FOO bar baz", "-c", `CMD ["cat", "/root/marker"]`, "src", "committed:v1")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("commit printed %q", id)
	}
	// commit froze the container meanwhile (docker's --pause) and thawed it
	if out := toolsRun(t, d, "exec", "src", "echo", "thawed"); out != "thawed" {
		t.Errorf("exec after commit: %q", out)
	}
	if out := toolsRun(t, d, "run", "--rm", "--net", "none", "committed:v1"); out != "committed" {
		t.Errorf("the new image's CMD printed %q", out)
	}
	out := toolsRun(t, d, "run", "--rm", "--net", "none", "committed:v1", "sh", "-c", "echo $FOO; cat /opt/app/f; test -e /bin/vi || echo vi-gone")
	if out != "bar baz\nx\nvi-gone" {
		t.Errorf("the new image's contents: %q", out)
	}
	// the real docker CLI commits too; an untagged image prints its ID
	if r := d.Docker("commit", "src"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "sha256:") {
		t.Errorf("docker commit: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := d.CLI("commit", "nosuch", "x:y"); r.Code != 1 || !strings.Contains(r.Stderr, "No such container: nosuch") {
		t.Errorf("commit of a missing container: %d %q", r.Code, r.Stderr)
	}
	// the image as the store recorded it (read with the daemon stopped)
	toolsRun(t, d, "rm", "-f", "src")
	d.Stop()
	store, err := image.Open(filepath.Join(d.DataRoot, "image"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := store.Inspect("committed:v1")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := store.History("committed:v1")
	if err != nil || len(hist) < 2 || hist[0].Comment != "a message" || hist[0].CreatedBy != "sleep 1000" {
		t.Errorf("history: %v %+v", err, hist)
	}
	if img.ID != id || img.Comment != "a message" || img.Author != "someone" || len(img.RootFS.Layers) != 2 ||
		img.Config.Cmd[0] != "cat" || img.Parent == "" {
		t.Errorf("committed image: %+v", img)
	}
}

func TestTopListsTheContainersProcesses(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "top")
	pid1 := d.ContainerPid("top")
	toolsRun(t, d, "exec", "-d", "top", "sleep", "777")
	testutil.Eventually(t, 10e9, "exec'd sleep in top", func() bool { return strings.Contains(d.CLI("top", "top").Stdout, "sleep 777") })
	out := toolsRun(t, d, "top", "top")
	lines := strings.Split(out, "\n")
	if !regexp.MustCompile(`^UID +PID +PPID +C +STIME +TTY +TIME +CMD$`).MatchString(lines[0]) || len(lines) != 3 {
		t.Fatalf("top:\n%s", out)
	}
	if !strings.HasPrefix(lines[0], "UID                 PID                 ") {
		t.Errorf("top columns are not docker's 20-wide ones:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[1] != strconv.Itoa(pid1) || !strings.HasSuffix(lines[1], "sleep 1000") {
		t.Errorf("PID 1 line: %q (pid1 %d)", lines[1], pid1)
	}
	if r := d.Docker("top", "top", "-o", "pid,comm"); r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprint(pid1)) || strings.Count(r.Stdout, "\n") != 3 {
		t.Errorf("docker top -o pid,comm: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	toolsRun(t, d, "stop", "-t", "0", "top")
	if r := d.CLI("top", "top"); r.Code != 1 || !strings.Contains(r.Stderr, "is not running") {
		t.Errorf("top of a stopped container: %d %q", r.Code, r.Stderr)
	}
}

func TestStatsMemoryFromTheCgroup(t *testing.T) {
	d := preload.StartDaemon(t)
	id := toolsSleeper(t, d, "st", "--memory", "64m")
	resp, err := d.HTTPClient().Get("http://x/v1.51/containers/st/stats?stream=false&one-shot=true")
	if err != nil {
		t.Fatal(err)
	}
	var s container.StatsResponse
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil || s.ID != id || s.Name != "/st" {
		t.Fatalf("stats: %v %+v", err, s)
	}
	if s.MemoryStats.Usage == 0 || s.MemoryStats.Limit != 64<<20 || s.PidsStats.Current != 1 || s.CPUStats.SystemUsage == 0 {
		t.Errorf("stats: memory %+v pids %+v cpu %+v", s.MemoryStats, s.PidsStats, s.CPUStats)
	}
	for _, out := range []string{toolsRun(t, d, "stats", "--no-stream", "st"), d.Docker("stats", "--no-stream", "st").Stdout} {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !regexp.MustCompile(`^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$`).MatchString(lines[0]) ||
			!regexp.MustCompile(`^`+id[:12]+` +st +\d+\.\d\d% +[\d.]+[KM]iB / 64MiB +\d+\.\d\d% +0B / 0B +0B / 0B +1$`).MatchString(lines[1]) {
			t.Errorf("stats --no-stream:\n%s", out)
		}
	}
}

// TestCommitChangesExpandVariables: `docker commit --change` (and import's)
// expands $VAR in ENV, LABEL, WORKDIR, USER, EXPOSE and VOLUME against the
// variables set so far, as the same lines in a Dockerfile would; single
// quotes and CMD keep the text as it is.
func TestCommitChangesExpandVariables(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "envsrc")
	path := toolsRun(t, d, "exec", "envsrc", "sh", "-c", "echo $PATH")
	r := d.Docker("commit",
		"--change", "ENV PATH=/opt/x:$PATH APP=/srv",
		"--change", "ENV DATA=${APP}/data PORT=8080",
		"--change", "WORKDIR $DATA",
		"--change", "LABEL where=$APP kept='$APP'",
		"--change", "EXPOSE $PORT",
		"--change", "VOLUME [\"$DATA/v\"]",
		"--change", "CMD echo $APP",
		"envsrc", "expanded:v1")
	if r.Code != 0 {
		t.Fatalf("docker commit: %d %s", r.Code, r.Stderr)
	}
	got := toolsRun(t, d, "image", "inspect", "--format",
		"{{range .Config.Env}}{{println .}}{{end}}{{.Config.WorkingDir}} {{json .Config.Labels}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{json .Config.Cmd}}", "expanded:v1")
	want := "PATH=/opt/x:" + path + "\nAPP=/srv\nDATA=/srv/data\nPORT=8080\n" +
		`/srv/data {"kept":"$APP","where":"/srv"} {"8080/tcp":{}} {"/srv/data/v":{}} ["/bin/sh","-c","echo $APP"]`
	if got != want {
		t.Errorf("the committed config:\n%s\nwant:\n%s", got, want)
	}
	if out := toolsRun(t, d, "run", "--rm", "--net", "none", "expanded:v1"); out != "/srv" {
		t.Errorf("CMD echo $APP printed %q", out)
	}
}

package daemon_test

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestCreateRefusesBadEnvAndPlatform: POST /containers/create answers
// what dockerd answers for --volumes-from a missing container and a
// relative tmpfs target (400), an Env entry without a name (400; the docker
// CLI refuses those itself, so the request goes raw, as docker-py or
// dockerode would send it) and for a platform that is malformed (400) or
// not the image's (404, with dockerd's words, through the docker CLI).
// Nothing is left behind by any of them.
func TestCreateRefusesBadEnvAndPlatform(t *testing.T) {
	d := preload.StartDaemon(t)
	raw := []struct {
		query, body string
		code        int
		msg         string
	}{
		{"", `{"Image":"busybox","Env":["=x"]}`, http.StatusBadRequest, "invalid environment variable: =x"},
		{"", `{"Image":"busybox","Env":["A=1",""]}`, http.StatusBadRequest, "invalid environment variable: "},
		{"", `{"Image":"busybox","HostConfig":{"VolumesFrom":["nosuch"]}}`, http.StatusBadRequest, "No such container: nosuch"},
		{"", `{"Image":"busybox","HostConfig":{"Tmpfs":{"relative":""}}}`, http.StatusBadRequest, "it must be an absolute path"},
		{"?platform=linux///", `{"Image":"busybox"}`, http.StatusBadRequest, "invalid argument"},
		{"?platform=bogus", `{"Image":"busybox"}`, http.StatusBadRequest, "unknown operating system or architecture"},
		{"?platform=windows/amd64", `{"Image":"busybox"}`, http.StatusNotFound, "does not match the specified platform (windows/amd64)"},
	}
	for _, c := range raw {
		resp, err := d.HTTPClient().Post("http://minidocker/v1.44/containers/create"+c.query, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("create%s %s: %d %s, want %d and %q", c.query, c.body, resp.StatusCode, body, c.code, c.msg)
		}
	}
	// the platform the image was built for, in any of its spellings
	arch := mustRun(t, d, "image", "inspect", "--format", "{{.Architecture}}", "busybox")
	other := map[bool]string{true: "arm64", false: "amd64"}[arch == "amd64"]
	for _, ok := range []string{"linux", "linux/" + arch, "LINUX/" + arch, arch} {
		if r := d.Docker("create", "--pull", "never", "--platform", ok, "busybox", "true"); r.Code != 0 {
			t.Errorf("docker create --platform %s: %d %s", ok, r.Code, r.Stderr)
		}
	}
	mustRun(t, d, "container", "prune", "-f")
	r := d.Docker("create", "--pull", "never", "--platform", "linux/"+other, "busybox", "true")
	want := "image with reference busybox was found but its platform (linux/" + arch + ") does not match the specified platform (linux/" + other + ")"
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("docker create --platform linux/%s: %d %q, want %q", other, r.Code, r.Stderr, want)
	}
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("refused creates left containers: %q", out)
	}
}

// TestRunRmWhoseStartFailsEnds: `docker run --rm` waits until the
// container is removed; when the start fails before the process is made
// (here: joining the IPC namespace of a container that is not running),
// dockerd removes the container all the same, so the CLI reports the
// error and ends. (It hung forever: the record stayed "created".)
func TestRunRmWhoseStartFailsEnds(t *testing.T) {
	d := preload.StartDaemon(t)
	mustRun(t, d, "create", "--name", "donor", "--ipc", "shareable", "busybox", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.DockerCLI(t), "-H", d.Host, "run", "--rm", "--ipc", "container:donor", "busybox", "true")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("docker run --rm did not end after its start failed:\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(string(out), "is not running") {
		t.Errorf("docker run --rm --ipc container:donor: %v\n%s", err, out)
	}
	if r := d.Docker("ps", "-a", "--format", "{{.Names}}"); r.Stdout != "donor\n" {
		t.Errorf("the failed --rm container was kept: %q %s", r.Stdout, r.Stderr)
	}
}

// TestCreateOnTwoNetworks: docker CLI 28 sends every --network of a run in
// one create (two EndpointsConfig entries, API 1.44), and the container
// starts with an interface on each, its name resolved on both (the CLI
// gives --network-alias to the first network only, as docker does).
func TestCreateOnTwoNetworks(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, n := range []string{"left", "right"} {
		if r := d.Docker("network", "create", n); r.Code != 0 {
			t.Fatalf("network create %s: %s", n, r.Stderr)
		}
	}
	if r := d.Docker("run", "-d", "--name", "both", "--network", "left", "--network", "right", "--network-alias", "twice", "busybox", "sleep", "600"); r.Code != 0 {
		t.Fatalf("docker run on two networks: %d %s", r.Code, r.Stderr)
	}
	if r := d.Docker("exec", "both", "ls", "/sys/class/net"); r.Stdout != "eth0\neth1\nlo\n" {
		t.Errorf("interfaces: %q %s", r.Stdout, r.Stderr)
	}
	for _, q := range [][2]string{{"left", "both"}, {"right", "both"}, {"left", "twice"}} {
		if r := d.Docker("run", "--rm", "--network", q[0], "busybox", "nslookup", q[1]); r.Code != 0 {
			t.Errorf("%s on %s: %d %s%s", q[1], q[0], r.Code, r.Stdout, r.Stderr)
		}
	}
}

// TestLinkAliasResolvesOnAUserNetwork: on a user-defined network a --link
// alias is a DNS name that the embedded server answers for the linking
// container only, as docker's does (it was only an /etc/hosts line, which
// nslookup and other DNS clients do not read).
func TestLinkAliasResolvesOnAUserNetwork(t *testing.T) {
	d := preload.StartDaemon(t)
	if r := d.Docker("network", "create", "linked"); r.Code != 0 {
		t.Fatalf("network create: %s", r.Stderr)
	}
	if r := d.Docker("run", "-d", "--name", "target", "--network", "linked", "busybox", "sleep", "600"); r.Code != 0 {
		t.Fatalf("run target: %s", r.Stderr)
	}
	ip := strings.TrimSpace(d.Docker("inspect", "--format", "{{.NetworkSettings.Networks.linked.IPAddress}}", "target").Stdout)
	r := d.Docker("run", "--rm", "--network", "linked", "--link", "target:db", "busybox", "nslookup", "db")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Address: "+ip) {
		t.Errorf("nslookup db from the linking container: %d %s%s (want %s)", r.Code, r.Stdout, r.Stderr, ip)
	}
	if r := d.Docker("run", "--rm", "--network", "linked", "busybox", "nslookup", "db"); r.Code == 0 {
		t.Errorf("a container without the link resolves its alias:\n%s", r.Stdout)
	}
}

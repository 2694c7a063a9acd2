package daemon_test

// Tests of the run options of runopts.go, through the real docker CLI
// (and the raw API for the status codes): each asserts the effect inside
// the container, and that a refused option leaves no container behind.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// apiPost is one raw API call with a JSON body: the status and the answer.
func apiPost(t *testing.T, d *testutil.Daemon, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://minidocker/v1.47"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dockerOK runs the docker CLI and fails the test unless it exits 0.
func dockerOK(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	r := d.Docker(args...)
	if r.Code != 0 {
		t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, d.Log())
	}
	return r.Stdout
}

// refused runs a docker command that must fail with want in its error,
// and checks that no container was left behind.
func refused(t *testing.T, d *testutil.Daemon, want string, args ...string) {
	t.Helper()
	r := d.Docker(args...)
	code := 1 // docker create's
	if args[0] == "run" {
		code = 125
	}
	if r.Code != code || !strings.Contains(r.Stderr, want) {
		t.Fatalf("docker %s: exit %d, stderr %q; want %d and %q", strings.Join(args, " "), r.Code, r.Stderr, code, want)
	}
	if ps := dockerOK(t, d, "ps", "-aq"); ps != "" {
		t.Fatalf("docker %s was refused but left containers: %q", strings.Join(args, " "), ps)
	}
}

// TestLogRotationThroughDocker: --log-opt max-size/max-file rotate the
// json-file log as docker does (at most max-file files, none much over
// max-size), `logs` reads across the files in order, inspect says
// json-file, and bad options are refused with docker's words.
func TestLogRotationThroughDocker(t *testing.T) {
	d := preload.StartDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--net", "none", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
		"busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done"))
	if code := strings.TrimSpace(dockerOK(t, d, "wait", id)); code != "0" {
		t.Fatalf("exit %s", code)
	}
	logPath := filepath.Join(d.DataRoot, "containers", id, id+"-json.log")
	for _, name := range []string{logPath, logPath + ".1", logPath + ".2"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("rotated file missing: %v", err)
		}
		if fi.Size() > 1100 {
			t.Errorf("%s has %d bytes, max-size is 1k", filepath.Base(name), fi.Size())
		}
	}
	if _, err := os.Stat(logPath + ".3"); !os.IsNotExist(err) {
		t.Errorf("a fourth file with max-file=3: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(dockerOK(t, d, "logs", id)), "\n")
	if len(lines) >= 300 || len(lines) < 20 || lines[len(lines)-1] != "line 299" {
		t.Fatalf("logs: %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	first := 300 - len(lines)
	for i, l := range lines {
		if l != fmt.Sprintf("line %d", first+i) {
			t.Fatalf("logs line %d is %q: the rotated files are not read in order", i, l)
		}
	}
	if got := dockerOK(t, d, "logs", "--tail", "20", id); got != strings.Join(lines[len(lines)-20:], "\n")+"\n" {
		t.Errorf("logs --tail 20 (across files):\n%s", got)
	}
	if got := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}", id)); got != `json-file {"max-file":"3","max-size":"1k"}` {
		t.Errorf("inspect LogConfig: %q", got)
	}
	dockerOK(t, d, "rm", id)
	// no --log-opt: inspect still names the driver (docker-py relies on it)
	id = strings.TrimSpace(dockerOK(t, d, "create", "--net", "none", "busybox", "true"))
	if got := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.HostConfig.LogConfig.Type}}", id)); got != "json-file" {
		t.Errorf("default LogConfig.Type %q", got)
	}
	dockerOK(t, d, "rm", id)

	for opt, want := range map[string]string{
		"max-size=abc":  "invalid size: 'abc'",
		"max-size=0":    "max-size must be a positive number",
		"max-file=0":    "max-file cannot be less than 1",
		"max-file=x":    `strconv.Atoi: parsing "x": invalid syntax`,
		"foo=bar":       "unknown log opt 'foo' for json-file log driver",
		"compress=true": "compress cannot be true when max-file is less than 2 or max-size is not set",
		"labels=a":      "minidocker does not support the log option labels yet",
	} {
		refused(t, d, want, "run", "--net", "none", "--log-opt", opt, "busybox", "true")
	}
	refused(t, d, "minidocker does not support the log option compress=true yet",
		"create", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--log-opt", "compress=true", "busybox", "true")
	refused(t, d, `minidocker does not support HostConfig.LogConfig.Type "syslog" yet`, "create", "--log-driver", "syslog", "busybox", "true")
	code, body := apiPost(t, d, "/containers/create", `{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"-1"}}}}`)
	if code != 400 || !strings.Contains(body, "invalid size: '-1'") {
		t.Fatalf("API: %d %s", code, body)
	}
}

// waitFor is testutil.Eventually with the daemon's log on failure.
func waitFor(t *testing.T, d *testutil.Daemon, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, what, cond)
}

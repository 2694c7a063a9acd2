package daemon_test

// Tests of the run options of runopts.go, through the real docker CLI
// (and the raw API for the status codes): each asserts the effect inside
// the container, and that a refused option leaves no container behind.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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
	var msg struct{ Message string }
	if resp.StatusCode >= 400 && json.Unmarshal(b, &msg) == nil {
		return resp.StatusCode, msg.Message // the error's text, unescaped
	}
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
	} {
		t.Run(opt, func(t *testing.T) {
			refused(t, d, want, "run", "--net", "none", "--log-opt", opt, "busybox", "true")
		})
	}
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

// limitLine is the "Max open files" row of /proc/self/limits: soft, hard.
var limitLine = regexp.MustCompile(`(?m)^Max open files\s+(\S+)\s+(\S+)`)

// TestUlimitShmSysctl: --ulimit reaches PID 1 and exec'd processes (root
// or not), --shm-size sizes /dev/shm (64m by default), --sysctl writes
// the container's own namespaces and not the host's; bad values are
// refused with docker's (or runc's) words and leave nothing.
func TestUlimitShmSysctl(t *testing.T) {
	d := preload.StartDaemon(t)
	// this machine's hard RLIMIT_NOFILE is 20000 and raising it needs
	// CAP_SYS_RESOURCE: the limits stay under it
	out := dockerOK(t, d, "run", "--rm", "--net", "none", "--ulimit", "nofile=1000:2000", "--ulimit", "nproc=500:600",
		"busybox", "sh", "-c", "cat /proc/self/limits; ulimit -n")
	if m := limitLine.FindStringSubmatch(out); m == nil || m[1] != "1000" || m[2] != "2000" || !strings.HasSuffix(out, "\n1000\n") {
		t.Fatalf("PID 1's limits:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^Max processes\s+500\s+600`).MatchString(out) {
		t.Fatalf("nproc:\n%s", out)
	}
	dockerOK(t, d, "run", "-d", "--name", "lim", "--net", "none", "--ulimit", "nofile=1000:2000", "busybox", "sleep", "300")
	for _, user := range []string{"root", "nobody"} {
		out = dockerOK(t, d, "exec", "-u", user, "lim", "cat", "/proc/self/limits")
		if m := limitLine.FindStringSubmatch(out); m == nil || m[1] != "1000" || m[2] != "2000" {
			t.Fatalf("exec -u %s limits:\n%s", user, out)
		}
	}
	dockerOK(t, d, "rm", "-f", "lim")

	// /dev/shm: docker's 64m unless --shm-size says otherwise
	if out = dockerOK(t, d, "run", "--rm", "--net", "none", "--shm-size", "16m", "busybox", "df", "-k", "/dev/shm"); !regexp.MustCompile(`\n\S+\s+16384\s`).MatchString(out) {
		t.Fatalf("df /dev/shm with --shm-size 16m:\n%s", out)
	}
	id := strings.TrimSpace(dockerOK(t, d, "create", "--net", "none", "busybox", "df", "-k", "/dev/shm"))
	if got := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.HostConfig.ShmSize}}", id)); got != "67108864" {
		t.Errorf("inspect ShmSize %q", got)
	}
	if out = dockerOK(t, d, "start", "-a", id); !regexp.MustCompile(`\n\S+\s+65536\s`).MatchString(out) {
		t.Fatalf("default /dev/shm:\n%s", out)
	}
	dockerOK(t, d, "rm", id)

	// sysctls in the container's own network and IPC namespaces
	hostShmmax, _ := os.ReadFile("/proc/sys/kernel/shmmax")
	hostSomaxconn, _ := os.ReadFile("/proc/sys/net/core/somaxconn")
	out = dockerOK(t, d, "run", "--rm", "--sysctl", "net.core.somaxconn=1234", "--sysctl", "kernel.shmmax=123456789",
		"--sysctl", "fs.mqueue.msg_max=20", "busybox", "cat",
		"/proc/sys/net/core/somaxconn", "/proc/sys/kernel/shmmax", "/proc/sys/fs/mqueue/msg_max")
	if out != "1234\n123456789\n20\n" {
		t.Fatalf("sysctls inside: %q", out)
	}
	if b, _ := os.ReadFile("/proc/sys/kernel/shmmax"); string(b) != string(hostShmmax) {
		t.Errorf("the host's kernel.shmmax changed: %q", b)
	}
	if b, _ := os.ReadFile("/proc/sys/net/core/somaxconn"); string(b) != string(hostSomaxconn) {
		t.Errorf("the host's net.core.somaxconn changed: %q", b)
	}

	refused(t, d, `sysctl "net.core.somaxconn" is not allowed in the hosts network namespace`,
		"run", "--net", "host", "--sysctl", "net.core.somaxconn=1", "busybox", "true")
	for body, want := range map[string]string{
		`"Sysctls":{"kernel.panic":"1"}`:                   `sysctl "kernel.panic" is not in a separate kernel namespace`,
		`"Sysctls":{"kernel.hostname":"x"}`:                `sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field`,
		`"ShmSize":-1`:                                     "SHM size can not be less than 0",
		`"IpcMode":"host","Sysctls":{"kernel.shmmax":"1"}`: `sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace`,
		`"Ulimits":[{"Name":"bogus","Soft":1,"Hard":1}]`:   "invalid ulimit name bogus",
		`"Ulimits":[{"Name":"nofile","Soft":3,"Hard":2}]`:  "ulimit soft limit must be less than or equal to hard limit: 3 > 2",
	} {
		t.Run(want, func(t *testing.T) {
			code, resp := apiPost(t, d, "/containers/create", `{"Image":"busybox","HostConfig":{`+body+`}}`)
			if code != 400 || !strings.Contains(resp, want) {
				t.Errorf("%s: %d %s, want 400 and %s", body, code, resp, want)
			}
		})
	}
	if ps := dockerOK(t, d, "ps", "-aq"); ps != "" {
		t.Fatalf("refused creates left containers: %q", ps)
	}
}

package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// toolsRun runs the CLI and fails unless it exits 0; it returns stdout
// without the final newline.
func toolsRun(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	r := d.CLI(args...)
	if r.Code != 0 {
		t.Fatalf("minidocker %s: exit %d\nstdout: %s\nstderr: %s\ndaemon log:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, tail(d.Log(), 3000))
	}
	return strings.TrimSuffix(r.Stdout, "\n")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// toolsSleeper starts a detached busybox container that sleeps.
func toolsSleeper(t *testing.T, d *testutil.Daemon, name string, extra ...string) string {
	t.Helper()
	args := append([]string{"run", "-d", "--name", name, "--net", "none"}, extra...)
	return toolsRun(t, d, append(args, "busybox", "sleep", "1000")...)
}

func TestExecJoinsPID1NamespacesAndCgroup(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "ns")
	pid1 := d.ContainerPid("ns")
	for _, ns := range []string{"ipc", "uts", "net", "pid", "mnt"} {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid1, ns))
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		if want == host {
			t.Fatalf("PID 1's %s namespace is the host's (%s)", ns, host)
		}
		got := toolsRun(t, d, "exec", "ns", "readlink", "/proc/self/ns/"+ns)
		if got != want {
			t.Errorf("exec'd process in %s namespace %s, PID 1 in %s", ns, got, want)
		}
	}
	want, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid1))
	if got := toolsRun(t, d, "exec", "ns", "cat", "/proc/self/cgroup"); got != strings.TrimSuffix(string(want), "\n") {
		t.Errorf("exec'd process cgroups:\n%s\nPID 1's:\n%s", got, want)
	}
	// in the container's PID namespace: it sees PID 1 = sleep and itself
	if got := toolsRun(t, d, "exec", "ns", "cat", "/proc/1/cmdline"); got != "sleep\x001000\x00" {
		t.Errorf("PID 1 seen from exec: %q", got)
	}
}

func TestExecExitCodesAndOptions(t *testing.T) {
	d := preload.StartDaemon(t)
	id := toolsSleeper(t, d, "ex", "-e", "FROM_RUN=1", "-w", "/etc")
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"exec", "ex", "sh", "-c", "exit 3"}, 3, ""},
		{[]string{"exec", "ex", "sh", "-c", "kill -9 $$"}, 137, ""},
		{[]string{"exec", "ex", "nosuch"}, 127, `OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown` + "\r\n"},
		{[]string{"exec", "ex", "/etc/passwd"}, 126, ""},
		{[]string{"exec", "ex", "sh", "-c", "echo $FROM_RUN $(pwd) $HOSTNAME"}, 0, "1 /etc " + id[:12] + "\n"},
		{[]string{"exec", "-e", "A=b c", "-w", "/tmp", "-u", "nobody", "ex", "sh", "-c", "echo $A $(pwd) $(id -u)"}, 0, "b c /tmp 65534\n"},
		{[]string{"exec", "-u", "nouser", "ex", "true"}, 126, ""},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := d.CLI(c.args...)
			if r.Code != c.code || (c.stdout != "" && r.Stdout != c.stdout) {
				t.Errorf("%v: exit %d (want %d), stdout %q (want %q), stderr %q", c.args, r.Code, c.code, r.Stdout, c.stdout, r.Stderr)
			}
		})
	}
	// -i: stdin reaches the process and its end closes it
	if r := d.CLIInput("to exec stdin\n", "exec", "-i", "ex", "cat"); r.Code != 0 || r.Stdout != "to exec stdin\n" {
		t.Errorf("exec -i cat: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// stdout and stderr stay apart
	if r := d.CLI("exec", "ex", "sh", "-c", "echo out; echo err >&2"); r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("exec streams: %q %q", r.Stdout, r.Stderr)
	}
	// -d returns at once; the process runs on
	toolsRun(t, d, "exec", "-d", "ex", "sh", "-c", "sleep 0.2; touch /tmp/detached")
	testutil.Eventually(t, 10*time.Second, "exec -d effect", func() bool { return d.CLI("exec", "ex", "test", "-e", "/tmp/detached").Code == 0 })
}

func TestExecInStoppedContainer(t *testing.T) {
	d := preload.StartDaemon(t)
	id := toolsRun(t, d, "create", "--name", "stopped", "--net", "none", "busybox", "sleep", "1000")
	for _, r := range []testutil.Result{d.CLI("exec", "stopped", "true"), d.Docker("exec", "stopped", "true")} {
		if r.Code != 1 || r.Stderr != "Error response from daemon: Container "+id+" is not running\n" {
			t.Errorf("exec in a created container: %d %q", r.Code, r.Stderr)
		}
	}
	if r := d.CLI("exec", "nosuchcontainer", "true"); r.Code != 1 || !strings.Contains(r.Stderr, "No such container: nosuchcontainer") {
		t.Errorf("exec in a missing container: %d %q", r.Code, r.Stderr)
	}
	// the raw API: 409 with docker's body
	resp, err := d.HTTPClient().Post("http://x/v1.41/containers/stopped/exec", "application/json", strings.NewReader(`{"Cmd":["true"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 409 || string(body) != `{"message":"Container `+id+` is not running"}`+"\n" {
		t.Errorf("POST exec on a created container: %d %s", resp.StatusCode, body)
	}
}

func TestExecDockerCLI(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "dk")
	if r := d.Docker("exec", "dk", "echo", "x"); r.Code != 0 || r.Stdout != "x\n" {
		t.Errorf("docker exec echo: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := d.Docker("exec", "dk", "sh", "-c", "echo e >&2; exit 42"); r.Code != 42 || r.Stderr != "e\n" {
		t.Errorf("docker exec exit 42: %d %q", r.Code, r.Stderr)
	}
	if r := d.Docker("exec", "dk", "nosuch"); r.Code != 127 {
		t.Errorf("docker exec nosuch: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "exec", "-i", "dk", "cat")
	cmd.Stdin = strings.NewReader("to exec stdin\n")
	out, err := cmd.Output()
	if err != nil || string(out) != "to exec stdin\n" {
		t.Errorf("docker exec -i cat: %v %q", err, out)
	}
}

// TestExecTTY runs `exec -ti` on a real pseudo-terminal, through our CLI
// and docker's: the process gets a terminal of the container's own devpts
// of the caller's size, and its exit code comes back.
func TestExecTTY(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "tty")
	for _, bin := range []string{d.Bin, testutil.DockerCLI(t)} {
		cmd := exec.Command(bin, "-H", d.Host, "exec", "-ti", "tty", "sh", "-c", "stty size; tty; read line; echo got:$line; exit 5")
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+d.Dir+"/docker-config")
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 101})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("hello\r"))
		var out bytes.Buffer
		io.Copy(&out, f) // ends with EIO when the CLI exits
		err = cmd.Wait()
		f.Close()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		s := out.String()
		if code != 5 || !strings.Contains(s, "33 101") || !strings.Contains(s, "got:hello") || !strings.Contains(s, "/dev/pts/") {
			t.Errorf("%s exec -ti: exit %d, output %q", bin, code, s)
		}
	}
}

// TestExecWireProtocol speaks the Engine API by hand, the three requests
// the docker CLI sends for `docker exec`: create, start (101 UPGRADED, one
// stdcopy frame, then EOF), inspect.
func TestExecWireProtocol(t *testing.T) {
	d := preload.StartDaemon(t)
	cid := toolsSleeper(t, d, "wire")
	resp, err := d.HTTPClient().Post("http://x/v1.41/containers/wire/exec", "application/json",
		strings.NewReader(`{"AttachStdout":true,"AttachStderr":true,"Cmd":["echo","x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ Id string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 || len(created.Id) != 64 {
		t.Fatalf("create: %d %+v", resp.StatusCode, created)
	}
	conn, err := net.Dial("unix", d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"Detach":false,"Tty":false}`
	fmt.Fprintf(conn, "POST /v1.41/exec/%s/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", created.Id, len(body), body)
	conn.(*net.UnixConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	head, stream, _ := strings.Cut(string(all), "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 101 UPGRADED\r\n") || !strings.Contains(head, "Content-Type: application/vnd.docker.multiplexed-stream") ||
		!strings.Contains(head, "Upgrade: tcp") {
		t.Errorf("start answered:\n%s", head)
	}
	if stream != "\x01\x00\x00\x00\x00\x00\x00\x02x\n" {
		t.Errorf("stream %q", stream)
	}
	resp, err = d.HTTPClient().Get("http://x/v1.41/exec/" + created.Id + "/json")
	if err != nil {
		t.Fatal(err)
	}
	var ins struct {
		ID, ContainerID string
		Running         bool
		ExitCode        *int
		Pid             int
		ProcessConfig   struct {
			Entrypoint string   `json:"entrypoint"`
			Arguments  []string `json:"arguments"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&ins)
	resp.Body.Close()
	if ins.ID != created.Id || ins.ContainerID != cid || ins.Running || ins.ExitCode == nil || *ins.ExitCode != 0 || ins.Pid <= 0 ||
		ins.ProcessConfig.Entrypoint != "echo" || len(ins.ProcessConfig.Arguments) != 1 {
		t.Errorf("exec json: %+v", ins)
	}
	// a second start is refused
	resp, err = d.HTTPClient().Post("http://x/v1.41/exec/"+created.Id+"/start", "application/json", strings.NewReader(`{"Detach":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Errorf("second start: %d", resp.StatusCode)
	}
	if resp, err := d.HTTPClient().Get("http://x/v1.41/exec/nosuch/json"); err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown exec: %v %v", err, resp.StatusCode)
	}
}

package daemon_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

func TestContainerRunRmEcho(t *testing.T) {
	d := preload.StartDaemon(t)
	r := d.CLI("run", "--rm", "--net", "none", "busybox", "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Fatalf("run: code %d stdout %q stderr %q\n%s", r.Code, r.Stdout, r.Stderr, d.Log())
	}
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("ps -aq after run --rm: %q", out)
	}
}

func state(t *testing.T, d *testutil.Daemon, name string) map[string]any {
	return d.Inspect(name)["State"].(map[string]any)
}

func TestContainerLifecycle(t *testing.T) {
	d := preload.StartDaemon(t)
	id := mustRun(t, d, "run", "-d", "--name", "web", "--net", "none", "-e", "GREETING=hello", "busybox",
		// the trap comes first: once the log shows hello, a stop finds it set
		"sh", "-c", "trap 'exit 143' TERM; echo $GREETING; echo oops >&2; while true; do sleep 0.1; done")
	if len(id) != 64 {
		t.Fatalf("run -d printed %q", id)
	}
	ps := d.MustCLI("ps")
	if !strings.HasPrefix(ps, "CONTAINER ID   IMAGE     COMMAND                  CREATED") || !strings.Contains(ps, id[:12]) ||
		!regexp.MustCompile(`Up (Less than a second|\d+ seconds?)`).MatchString(ps) || !strings.Contains(ps, " web\n") {
		t.Fatalf("ps:\n%s", ps)
	}
	testutil.Eventually(t, 10*time.Second, "logs", func() bool { return d.CLI("logs", "web").Stdout == "hello\n" })
	if r := d.CLI("logs", "web"); r.Stderr != "oops\n" {
		t.Fatalf("logs stderr %q", r.Stderr)
	}
	if r := d.CLI("logs", "-t", "--tail", "1", "web"); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z (hello|oops)\n$`).MatchString(r.Combined()) {
		t.Fatalf("logs -t --tail 1: %q", r.Combined())
	}
	if out := mustRun(t, d, "inspect", "-f", "{{.State.Status}} {{.Name}} {{json .Config.Cmd}}", "web"); out != `running /web ["sh","-c","trap 'exit 143' TERM; echo $GREETING; echo oops >&2; while true; do sleep 0.1; done"]` {
		t.Fatalf("inspect -f: %q", out)
	}
	st := state(t, d, "web")
	if st["Status"] != "running" || st["Running"] != true || st["Pid"].(float64) <= 0 {
		t.Fatalf("state %v", st)
	}
	// rm of a running container is refused, with docker's words
	r := d.CLI("rm", "web")
	if r.Code == 0 || !strings.Contains(r.Stderr, `cannot remove container "/web": container is running: stop the container before removing or force remove`) {
		t.Fatalf("rm running: %d %q", r.Code, r.Stderr)
	}
	// name conflict
	r = d.CLI("run", "-d", "--name", "web", "--net", "none", "busybox", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, `Conflict. The container name "/web" is already in use by container "`+id+`". You have to remove (or rename) that container to be able to reuse that name.`) {
		t.Fatalf("conflict: %d %q", r.Code, r.Stderr)
	}
	start := time.Now()
	if out := mustRun(t, d, "stop", "web"); out != "web" {
		t.Fatalf("stop printed %q", out)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("stop of a TERM-handling container took %s", time.Since(start))
	}
	st = state(t, d, "web")
	if st["Status"] != "exited" || st["ExitCode"].(float64) != 143 {
		t.Fatalf("after stop: %v", st)
	}
	if ps := d.MustCLI("ps", "-a"); !regexp.MustCompile(`Exited \(143\) (Less than a second|\d+ seconds?) ago`).MatchString(ps) {
		t.Fatalf("ps -a:\n%s", ps)
	}
	if out := mustRun(t, d, "wait", "web"); out != "143" {
		t.Fatalf("wait: %q", out)
	}
	mustRun(t, d, "start", "web")
	if !state(t, d, "web")["Running"].(bool) {
		t.Fatal("not running after start")
	}
	mustRun(t, d, "restart", "-t", "1", "web")
	mustRun(t, d, "kill", "web")
	if out := mustRun(t, d, "wait", "web"); out != "137" {
		t.Fatalf("wait after kill: %q", out)
	}
	// start -a attaches before it starts: output and exit code come back
	mustRun(t, d, "create", "--name", "once", "--net", "none", "busybox", "sh", "-c", "echo again; exit 5")
	for i := 0; i < 2; i++ {
		if r := d.CLI("start", "-a", "once"); r.Code != 5 || r.Stdout != "again\n" {
			t.Fatalf("start -a: %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
	}
	if r := d.CLI("logs", "--since", "1h", "once"); r.Stdout != "again\nagain\n" {
		t.Fatalf("logs --since 1h: %q", r.Stdout)
	}
	if r := d.CLI("logs", "--since", "2999-01-01T00:00:00Z", "once"); r.Stdout != "" {
		t.Fatalf("logs --since the future: %q", r.Stdout)
	}
	r = d.CLI("attach", "once")
	if r.Code == 0 || !strings.Contains(r.Stderr, "You cannot attach to a stopped container, start it first") {
		t.Fatalf("attach stopped: %d %q", r.Code, r.Stderr)
	}
	mustRun(t, d, "rename", "web", "web2")
	if d.Inspect("web2")["Name"] != "/web2" {
		t.Fatal("rename")
	}
	if out := mustRun(t, d, "rm", "web2"); out != "web2" {
		t.Fatalf("rm printed %q", out)
	}
	r = d.CLI("rm", "web2")
	if r.Code != 1 || !strings.Contains(r.Stderr, "No such container: web2") {
		t.Fatalf("rm missing: %d %q", r.Code, r.Stderr)
	}
}

func TestContainerBadInput(t *testing.T) {
	d := preload.StartDaemon(t)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--rm", "--net", "none", "busybox", "nosuchcmd"}, 127, `exec: "nosuchcmd": executable file not found in $PATH`},
		{[]string{"run", "--rm", "--net", "none", "busybox", "/etc/passwd"}, 126, `permission denied`},
		{[]string{"run", "--rm", "--net", "none", "-m", "4m", "busybox", "true"}, 125, "Minimum memory limit allowed is 6MB"},
		{[]string{"run", "--rm", "--net", "none", "--cpus", "1000", "busybox", "true"}, 125, "Range of CPUs is from 0.01 to"},
		{[]string{"run", "--rm", "--net", "none", "-v", "/tmp:relative", "busybox", "true"}, 125, "mount path must be absolute"},
		{[]string{"run", "--rm", "--net", "none", "-v", "a:b:c:d", "busybox", "true"}, 125, "invalid"},
		{[]string{"run", "--net", "none", "--restart", "sometimes", "busybox", "true"}, 125, "invalid restart policy: unknown policy 'sometimes'"},
		{[]string{"stop", "nosuch"}, 1, "No such container: nosuch"},
		{[]string{"run", "--rm", "--net", "none", "127.0.0.1:1/nosuchimage"}, 125, "Unable to find image '127.0.0.1:1/nosuchimage:latest' locally"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := d.CLI(c.args...)
			if r.Code != c.code || !strings.Contains(r.Stderr, c.msg) {
				t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, r.Code, c.code, r.Stderr, c.msg)
			}
		})
	}
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("bad input left containers: %q", out)
	}
	// a failed start without --rm keeps the record, "Created", with the code
	r := d.CLI("run", "--name", "bad", "--net", "none", "busybox", "nosuchcmd")
	if r.Code != 127 {
		t.Fatalf("run nosuchcmd: %d %q", r.Code, r.Stderr)
	}
	st := state(t, d, "bad")
	if st["ExitCode"].(float64) != 127 || st["Running"] != false {
		t.Fatalf("state after failed start: %v", st)
	}
	if es, _ := os.ReadDir(filepath.Join(d.ExecRoot, "containers")); len(es) > 0 {
		t.Fatalf("failed start left a bundle: %v", es)
	}
}

func TestContainerVolumesAndConfig(t *testing.T) {
	d := preload.StartDaemon(t)
	host := filepath.Join(d.Dir, "hostdata", "sub") // missing: created like docker
	envFile := filepath.Join(d.Dir, "env")
	os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\n"), 0o644)
	out := mustRun(t, d, "run", "--rm", "--net", "none", "-v", host+":/data", "-w", "/data", "-u", "1000:1000",
		"--env-file", envFile, "-e", "MYSQL_ROOT_PASSWORD=secret", "--hostname", "box", "busybox",
		"sh", "-c", "pwd; id -u; echo $MYSQL_ROOT_PASSWORD $FROM_FILE; hostname; echo kept > /tmp/x && echo data > /data/f 2>&1 || echo denied")
	if out != "/data\n1000\nsecret yes\nbox\ndenied" {
		t.Fatalf("output %q", out)
	}
	os.Chmod(host, 0o777)
	mustRun(t, d, "run", "--rm", "--net", "none", "-v", host+":/data", "busybox", "sh", "-c", "echo persisted > /data/f")
	if b, _ := os.ReadFile(filepath.Join(host, "f")); string(b) != "persisted\n" {
		t.Fatalf("host file %q", b)
	}
	r := d.CLI("run", "--rm", "--net", "none", "-v", host+":/data:ro", "busybox", "sh", "-c", "echo x > /data/g")
	if r.Code == 0 {
		t.Fatal("write to a :ro volume worked")
	}
	if out := mustRun(t, d, "run", "--rm", "--net", "none", "--entrypoint", "echo", "busybox", "a", "b"); out != "a b" {
		t.Fatalf("entrypoint: %q", out)
	}
	if out := mustRun(t, d, "run", "--rm", "--net", "none", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--pids-limit", "50", "busybox", "echo", "limited"); out != "limited" {
		t.Fatalf("limits: %q", out)
	}
	// stdin through -i
	r = d.CLIInput("line one\nline two\n", "run", "--rm", "-i", "--net", "none", "busybox", "cat")
	if r.Code != 0 || r.Stdout != "line one\nline two\n" {
		t.Fatalf("run -i: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// exit code propagates
	if r := d.CLI("run", "--rm", "--net", "none", "busybox", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("exit code %d", r.Code)
	}
	// over the memory limit: the kernel kills it, 137 and OOMKilled
	r = d.CLI("run", "--name", "oom", "--net", "none", "-m", "16m", "--memory-swap", "16m", "busybox",
		"sh", "-c", `a=$(head -c 64000000 /dev/zero | tr "\0" x); echo survived`)
	if r.Code != 137 || strings.Contains(r.Stdout, "survived") {
		t.Fatalf("over the limit: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if st := state(t, d, "oom"); st["OOMKilled"] != true || st["ExitCode"].(float64) != 137 {
		t.Fatalf("oom state: %v", st)
	}
}

func TestContainerRestartPolicies(t *testing.T) {
	d := preload.StartDaemon(t)
	mustRun(t, d, "run", "-d", "--name", "flaky", "--net", "none", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1")
	testutil.Eventually(t, 20*time.Second, "two restarts then exited", func() bool {
		in := d.Inspect("flaky")
		st := in["State"].(map[string]any)
		return in["RestartCount"].(float64) == 2 && st["Status"] == "exited"
	})
	mustRun(t, d, "run", "-d", "--name", "always", "--net", "none", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 0")
	testutil.Eventually(t, 20*time.Second, "always restarts", func() bool { return d.Inspect("always")["RestartCount"].(float64) >= 2 })
	mustRun(t, d, "stop", "-t", "1", "always")
	n := d.Inspect("always")["RestartCount"].(float64)
	if st := state(t, d, "always"); st["Running"] != false || st["Restarting"] != false {
		t.Fatalf("after stop: %v", st)
	}
	time.Sleep(600 * time.Millisecond) // a restart would happen within the back-off
	if d.Inspect("always")["RestartCount"].(float64) != n || state(t, d, "always")["Running"] != false {
		t.Fatal("a stopped always-container was restarted")
	}
	mustRun(t, d, "run", "-d", "--name", "ok", "--net", "none", "--restart", "on-failure", "busybox", "true")
	testutil.Eventually(t, 10*time.Second, "exited", func() bool { return state(t, d, "ok")["Status"] == "exited" })
	if d.Inspect("ok")["RestartCount"].(float64) != 0 {
		t.Fatal("on-failure restarted a success")
	}
}

func TestContainerSurvivesDaemonKill9(t *testing.T) {
	d := preload.StartDaemon(t)
	mustRun(t, d, "run", "-d", "--name", "keep", "--net", "none", "busybox", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
	mustRun(t, d, "run", "-d", "--name", "short", "--net", "none", "busybox", "sh", "-c", "sleep 1; exit 7")
	pid := state(t, d, "keep")["Pid"].(float64)
	d.Kill9()
	time.Sleep(1500 * time.Millisecond) // "short" ends while the daemon is away
	d.Start()
	st := state(t, d, "keep")
	if st["Running"] != true || st["Pid"].(float64) != pid {
		t.Fatalf("after restart: %v (pid was %v)", st, pid)
	}
	testutil.Eventually(t, 10*time.Second, "short's exit recorded", func() bool {
		st := state(t, d, "short")
		return st["Status"] == "exited" && st["ExitCode"].(float64) == 7
	})
	if !strings.Contains(d.MustCLI("ps"), "keep") {
		t.Fatal("ps lost the container")
	}
	if out := mustRun(t, d, "exec", "keep", "echo", "inside"); out != "inside" {
		t.Fatalf("exec after the daemon's restart: %q", out)
	}
	// logs -f works on the reconnected container and ends when it stops
	cmd := exec.Command(d.Bin, "-H", d.Host, "logs", "-f", "--tail", "1", "keep")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mustRun(t, d, "stop", "-t", "1", "keep")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("logs -f did not end when the container stopped")
	}
	if !strings.Contains(out.String(), "tick") {
		t.Fatalf("logs -f: %q", out.String())
	}
	if st := state(t, d, "keep"); st["ExitCode"].(float64) != 137 {
		t.Fatalf("stop of a TERM-ignoring PID 1: %v", st)
	}
	mustRun(t, d, "rm", "keep", "short")
}

func TestContainerDockerCLI(t *testing.T) {
	d := preload.StartDaemon(t)
	// the default network (bridge) as docker run sends it, and none
	for _, args := range [][]string{{"run", "--rm", "busybox", "echo", "hi"}, {"run", "--rm", "--net", "none", "busybox", "echo", "hi"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := d.Docker(args...)
			if r.Code != 0 || r.Stdout != "hi\n" {
				t.Fatalf("docker %v: %d %q %q", args, r.Code, r.Stdout, r.Stderr)
			}
		})
	}
	var r testutil.Result
	r = d.Docker("run", "-d", "--name", "dk", "--net", "none", "busybox", "sh", "-c", "echo from-docker; sleep 100")
	if r.Code != 0 {
		t.Fatalf("docker run -d: %q", r.Stderr)
	}
	if r := d.Docker("ps"); !strings.Contains(r.Stdout, "dk") || !strings.Contains(r.Stdout, "Up ") {
		t.Fatalf("docker ps: %q %q", r.Stdout, r.Stderr)
	}
	testutil.Eventually(t, 10*time.Second, "docker logs", func() bool { return d.Docker("logs", "dk").Stdout == "from-docker\n" })
	if r := d.Docker("inspect", "dk"); r.Code != 0 || !strings.Contains(r.Stdout, `"Name": "/dk"`) {
		t.Fatalf("docker inspect: %q", r.Combined())
	}
	if r := d.Docker("stop", "-t", "1", "dk"); r.Code != 0 {
		t.Fatalf("docker stop: %q", r.Stderr)
	}
	if r := d.Docker("rm", "dk"); r.Code != 0 || r.Stdout != "dk\n" {
		t.Fatalf("docker rm: %q", r.Combined())
	}
	r = d.Docker("run", "--rm", "--net", "none", "busybox", "nosuchcmd")
	if r.Code != 127 || !strings.Contains(r.Stderr, "executable file not found") {
		t.Fatalf("docker run nosuchcmd: %d %q", r.Code, r.Stderr)
	}
	if r := d.Docker("rm", "nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, "No such container: nosuch") {
		t.Fatalf("docker rm nosuch: %q", r.Stderr)
	}
}

// runInPty runs bin args in a pseudo-terminal, types input and returns
// what the terminal showed and the exit code.
func runInPty(t *testing.T, input []string, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MINIDOCKER_HOST=", "DOCKER_HOST=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := func(s string) bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(out.String(), s) }
	testutil.Eventually(t, 20*time.Second, "a shell prompt", func() bool { return seen("# ") })
	for _, in := range input {
		if want, ok := strings.CutPrefix(in, "WAIT:"); ok {
			testutil.Eventually(t, 20*time.Second, want, func() bool { return seen(want) })
			continue
		}
		if in == "RESIZE" {
			// the window changes: the kernel sends SIGWINCH to the CLI,
			// which passes the new size on; ask until the shell sees it
			pty.Setsize(f, &pty.Winsize{Rows: 40, Cols: 120})
			testutil.Eventually(t, 20*time.Second, "the new size inside", func() bool {
				io.WriteString(f, "stty size\r")
				time.Sleep(100 * time.Millisecond)
				return seen("40 120")
			})
			continue
		}
		io.WriteString(f, in)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("interactive session did not end; output %q", out.String())
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return out.String(), cmd.ProcessState.ExitCode()
}

func TestContainerInteractiveTTY(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, bin := range []string{d.Bin, testutil.DockerCLI(t)} {
		out, code := runInPty(t, []string{"stty size; tty; echo $((6*7))\r", "WAIT:42", "RESIZE", "\x04"}, bin, "-H", d.Host, "run", "--rm", "-ti", "--net", "none", "busybox", "sh")
		if code != 0 || !strings.Contains(out, "30 100") || !strings.Contains(out, "42") {
			t.Fatalf("%s run -ti: exit %d, output %q", filepath.Base(bin), code, out)
		}
	}
}

func TestContainerRunRmCyclesLeaveNothing(t *testing.T) {
	d := preload.StartDaemon(t)
	n := 200 // the figure; -short runs 50
	if testing.Short() {
		n = 50
	}
	vol := filepath.Join(d.Dir, "vol")
	start := time.Now()
	for i := 0; i < n; i++ {
		var args []string
		switch i % 4 {
		case 0:
			args = []string{"run", "--rm", "--net", "none", "busybox", "true"}
		case 1:
			args = []string{"run", "--rm", "--net", "none", "-v", vol + ":/v", "busybox", "sh", "-c", "echo x >> /v/f"}
		case 2:
			args = []string{"run", "--rm", "--net", "none", "--memory", "32m", "busybox", "true"}
		case 3:
			id := mustRun(t, d, "run", "-d", "--net", "none", "busybox", "sleep", "100")
			if i%8 == 3 {
				mustRun(t, d, "exec", id, "true")
				mustRun(t, d, "stop", "-t", "0", id)
				mustRun(t, d, "rm", id)
			} else {
				mustRun(t, d, "rm", "-f", id)
			}
			continue
		}
		if r := d.CLI(args...); r.Code != 0 {
			t.Fatalf("cycle %d: %v: %d %q", i, args, r.Code, r.Stderr)
		}
	}
	t.Logf("%d cycles in %s (%s each)", n, time.Since(start), time.Since(start)/time.Duration(n))
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
	for _, dir := range []string{filepath.Join(d.DataRoot, "containers"), filepath.Join(d.ExecRoot, "containers")} {
		// removed directories are deleted in the background: poll
		testutil.Eventually(t, 20*time.Second, dir+" to be empty", func() bool {
			es, _ := os.ReadDir(dir)
			return len(es) == 0
		})
	}
}

func TestContainerHundredAtOnce(t *testing.T) {
	d := preload.StartDaemon(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := d.CLI("run", "-d", "--name", fmt.Sprintf("c%d", i), "--net", "none", "busybox", "sleep", "1000"); r.Code != 0 {
				errs <- r.Stderr
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	start := time.Now()
	ps := d.MustCLI("ps", "-q")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("ps of %d containers took %s", n, took)
	}
	if got := len(strings.Fields(ps)); got != n {
		t.Fatalf("ps shows %d containers", got)
	}
	if r := d.CLI(append([]string{"rm", "-f"}, strings.Fields(ps)...)...); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
}

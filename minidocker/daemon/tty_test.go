package daemon_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// ptySession is a client (our CLI or docker's) running on a pseudo-terminal,
// as a user at a keyboard would run it.
type ptySession struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	f    *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// startPty runs bin -H <daemon> args on a new pseudo-terminal.
func startPty(t *testing.T, d *testutil.Daemon, bin string, args ...string) *ptySession {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "MINIDOCKER_HOST=", "DOCKER_HOST=", "DOCKER_CONFIG="+filepath.Join(d.Dir, "docker-config"))
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, name: filepath.Base(bin) + " " + strings.Join(args, " "), cmd: cmd, f: f, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil { // EIO once the client has exited
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		f.Close()
	})
	return s
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the terminal has shown want.
func (s *ptySession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.output(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %q never showed; the terminal shows %q", s.name, want, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *ptySession) send(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.f, keys); err != nil {
		s.t.Fatalf("%s: typing %q: %v", s.name, keys, err)
	}
}

// exit waits for the client to end and returns its exit code.
func (s *ptySession) exit() int {
	s.t.Helper()
	wait := make(chan error, 1)
	go func() { wait <- s.cmd.Wait() }()
	select {
	case <-wait:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-wait
		s.t.Fatalf("%s did not exit; the terminal shows %q", s.name, s.output())
	}
	select { // the rest of its output
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	return s.cmd.ProcessState.ExitCode()
}

func clients(t *testing.T, d *testutil.Daemon) []string {
	return []string{d.Bin, testutil.DockerCLI(t)}
}

func isRunning(t *testing.T, d *testutil.Daemon, name string) bool {
	t.Helper()
	return strings.TrimSpace(d.MustCLI("inspect", "-f", "{{.State.Running}}", name)) == "true"
}

// Issue 10, finding 6: `run -t` gave PID 1 a pty of the host's devpts,
// which the container cannot name, so `tty` printed /dev/console. Docker
// gives it /dev/pts/0 of the container's own devpts, with /dev/console
// bound to that same terminal; an exec -t gets the next one.
func TestTTYIsTheContainersOwnPts(t *testing.T) {
	d := preload.StartDaemon(t)
	for i, bin := range clients(t, d) {
		name := fmt.Sprintf("tty%d", i)
		s := startPty(t, d, bin, "run", "-ti", "--name", name, "--net", "none", "busybox", "sh")
		s.expect("# ")
		s.send("echo T=$(tty) C=$(stat -c %t:%T /dev/console) P=$(stat -c %t:%T /dev/pts/0) S=$(stty size)\r")
		s.expect("S=30 100")
		if out := s.output(); !strings.Contains(out, "T=/dev/pts/0 C=88:0 P=88:0 ") {
			t.Errorf("%s: PID 1's terminal is not the container's /dev/pts/0 bound on /dev/console: %q", s.name, out)
		}
		e := startPty(t, d, bin, "exec", "-ti", name, "tty")
		e.expect("/dev/pts/")
		if code := e.exit(); code != 0 || !strings.Contains(e.output(), "/dev/pts/1") {
			t.Errorf("%s: exit %d, the exec's terminal is not /dev/pts/1: %q", e.name, code, e.output())
		}
		// another user owns its terminal (the group stays tty), as with runc
		u := startPty(t, d, bin, "exec", "-t", "-u", "1000", name, "sh", "-c", "stat -c E=%u:%g $(tty)")
		if code := u.exit(); code != 0 || !strings.Contains(u.output(), "E=1000:5") {
			t.Errorf("%s: exit %d, the terminal is not the user's: %q", u.name, code, u.output())
		}
		s.send("exit 3\r")
		if code := s.exit(); code != 3 {
			t.Errorf("%s: exit %d, want 3", s.name, code)
		}
	}
	u := startPty(t, d, d.Bin, "run", "--rm", "-t", "-u", "1000", "--net", "none", "busybox", "sh", "-c", "stat -c R=%u:%g $(tty)")
	if code := u.exit(); code != 0 || !strings.Contains(u.output(), "R=1000:5") {
		t.Errorf("%s: exit %d, PID 1's terminal is not its user's: %q", u.name, code, u.output())
	}
}

// shellsIn counts the busybox shells running in container name.
func shellsIn(t *testing.T, d *testutil.Daemon, name string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(d.MustCLI("exec", name, "ps"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "sh" {
			n++
		}
	}
	return n
}

// Issue 10, finding 5: Ctrl-P Ctrl-Q made the container exit instead of
// detaching (the keys were not watched, and the client closing its stdin
// closed the terminal). Through our CLI and docker's: run -ti, detach,
// the shell still runs; attach gets it back; --detach-keys replaces the
// default; exec -ti detaches too and its shell runs on.
func TestDetachKeys(t *testing.T) {
	d := preload.StartDaemon(t)
	for i, bin := range clients(t, d) {
		name := fmt.Sprintf("dk%d", i)
		run := startPty(t, d, bin, "run", "-ti", "--name", name, "--net", "none", "busybox", "sh")
		run.expect("# ")
		run.send("\x10\x11")
		if code := run.exit(); code != 0 || !isRunning(t, d, name) {
			t.Fatalf("%s: exit %d after ctrl-p ctrl-q, running %v; want exit 0 and a running container", run.name, code, isRunning(t, d, name))
		}

		// attach, with keys of its own: ctrl-p ctrl-q are keys like others
		att := startPty(t, d, bin, "attach", "--detach-keys", "ctrl-x,x", name)
		att.send("echo back-$((1+1))\r")
		att.expect("back-2")
		att.send("\x10\x11\x15echo still-$((3+3))\r") // ^U drops what ^P recalled
		att.expect("still-6")
		att.send("\x18x")
		if code := att.exit(); code != 1 || !strings.Contains(att.output(), "read escape sequence") || !isRunning(t, d, name) {
			t.Fatalf("%s: exit %d, running %v, terminal %q; want docker's exit 1 and \"read escape sequence\"", att.name, code, isRunning(t, d, name), att.output())
		}

		ex := startPty(t, d, bin, "exec", "-ti", name, "sh")
		ex.expect("# ")
		ex.send("\x10\x11")
		if code := ex.exit(); code != 1 || !strings.Contains(ex.output(), "read escape sequence") {
			t.Errorf("%s: exit %d, terminal %q; want exit 1 and \"read escape sequence\"", ex.name, code, ex.output())
		}
		if n := shellsIn(t, d, name); n != 2 {
			t.Errorf("%s: %d shells in the container after the exec detached, want 2 (PID 1 and the exec's)", ex.name, n)
		}

		// and the default keys again, then the shell ends the container
		att = startPty(t, d, bin, "attach", name)
		att.send("echo again-$((2+3))\r")
		att.expect("again-5")
		att.send("exit 4\r")
		if code := att.exit(); code != 4 {
			t.Errorf("%s: exit %d, want the shell's 4", att.name, code)
		}
	}
	// detaching drains the client's hijacked connection: no recovered
	// panic either (issue 10, finding 8)
	if log := d.Log(); strings.Contains(log, "panic") {
		t.Errorf("the daemon logged a panic:\n%s", log)
	}
}

// A bad detach sequence is refused in docker's words, before anything is
// made: by our CLI, and by the daemon for the docker CLI (28 leaves the
// check to the daemon) and a raw API client.
func TestDetachKeysRefused(t *testing.T) {
	d := preload.StartDaemon(t)
	r := d.CLI("run", "--detach-keys", "ctrl-foo", "-ti", "--net", "none", "busybox", "sh")
	if r.Code != 125 || !strings.Contains(r.Stderr, "invalid detach keys (ctrl-foo): Unknown character: 'ctrl-foo'") {
		t.Errorf("run --detach-keys ctrl-foo: %d %q", r.Code, r.Stderr)
	}
	if ps := d.MustCLI("ps", "-aq"); ps != "" {
		t.Errorf("a refused run left a container: %q", ps)
	}
	d.MustCLI("run", "-d", "-ti", "--name", "keys", "--net", "none", "busybox", "sh")
	for _, args := range [][]string{{"attach", "--detach-keys", "ctrl-foo", "keys"}, {"exec", "--detach-keys", "ctrl-foo", "keys", "true"}} {
		if r := d.CLI(args...); r.Code != 1 || !strings.Contains(r.Stderr, "invalid detach keys (ctrl-foo): Unknown character: 'ctrl-foo'") {
			t.Errorf("minidocker %v: %d %q", args, r.Code, r.Stderr)
		}
	}
	// docker's client only shows the status of a refused upgrade (so it
	// does with dockerd); the message is checked on the raw API below
	if r := d.Docker("attach", "--no-stdin", "--detach-keys", "ctrl-foo", "keys"); r.Code == 0 || !strings.Contains(r.Stderr, "received 400") {
		t.Errorf("docker attach --detach-keys ctrl-foo: %d %q", r.Code, r.Stderr)
	}
	if r := d.Docker("exec", "--detach-keys", "ctrl-foo", "keys", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "Invalid escape keys (ctrl-foo) provided") {
		t.Errorf("docker exec --detach-keys ctrl-foo: %d %q", r.Code, r.Stderr)
	}
	resp, err := d.HTTPClient().Post("http://x/v1.41/containers/keys/attach?stream=1&stdin=1&detachKeys=ctrl-foo", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(body) != `{"message":"Invalid detach keys (ctrl-foo) provided"}`+"\n" {
		t.Errorf("attach?detachKeys=ctrl-foo: %d %s", resp.StatusCode, body)
	}
	if !isRunning(t, d, "keys") {
		t.Error("a refused attach disturbed the container")
	}
}

// rawAttach attaches to container id over the Engine API by hand, as a
// raw client (docker-py, curl) does: no detach keys of its own.
func rawAttach(t *testing.T, d *testutil.Daemon, id string) *net.UnixConn {
	t.Helper()
	c, err := net.Dial("unix", d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v1.41/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", id)
	var head []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := c.Read(one); err != nil {
			t.Fatalf("attach answered %q: %v", head, err)
		}
		head = append(head, one[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) {
		t.Fatalf("attach answered %q", head)
	}
	return c.(*net.UnixConn)
}

// readUntil reads c until it has shown want.
func readUntil(t *testing.T, c net.Conn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	var got []byte
	buf := make([]byte, 1024)
	for !bytes.Contains(got, []byte(want)) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("%q never came: %v; read %q", want, err, got)
		}
	}
}

// Issue 10, finding 5, the daemon's side: a client's stdin ending must not
// close a tty container's terminal, even with StdinOnce (what docker run
// -ti sets); it ends that attachment only. And a client that sends the
// detach keys as they are (no CLI to catch them) is detached by the
// daemon.
func TestTTYSurvivesItsClients(t *testing.T) {
	d := preload.StartDaemon(t)
	resp, err := d.HTTPClient().Post("http://x/v1.41/containers/create?name=half", "application/json", strings.NewReader(
		`{"Image":"busybox","Cmd":["sh"],"Tty":true,"OpenStdin":true,"StdinOnce":true,"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"HostConfig":{"NetworkMode":"none"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	c := rawAttach(t, d, "half")
	d.MustCLI("start", "half")
	io.WriteString(c, "echo one-$((2*3))\n")
	readUntil(t, c, "one-6")
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); err != nil { // the daemon ends this attachment
		t.Fatalf("after the half-close: %v", err)
	}
	if !isRunning(t, d, "half") {
		t.Fatal("the client's half-close ended the tty container")
	}

	c = rawAttach(t, d, "half")
	io.WriteString(c, "echo two-$((3*3))\n")
	readUntil(t, c, "two-9")
	io.WriteString(c, "\x10\x11echo lost\n")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	out, err := io.ReadAll(c) // detached: the daemon closes, the client did not
	if err != nil || strings.Contains(string(out), "lost") {
		t.Fatalf("after ctrl-p ctrl-q: %v %q", err, out)
	}
	if !isRunning(t, d, "half") {
		t.Fatal("the detach keys ended the tty container")
	}
	c = rawAttach(t, d, "half")
	io.WriteString(c, "exit 6\n")
	io.ReadAll(c)
	if code := strings.TrimSpace(d.MustCLI("wait", "half")); code != "6" {
		t.Errorf("exit code %s, want 6", code)
	}
}

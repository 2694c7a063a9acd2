package libcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSleeper creates and starts a container whose PID 1 sleeps.
func startSleeper(t *testing.T, mod func(*Spec)) *testContainer {
	t.Helper()
	spec, bundle := newSpec(t, "sleep", "1000")
	if mod != nil {
		mod(spec)
	}
	c := create(t, spec, bundle)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// execOut runs args in c and returns stdout, stderr and the exit code.
func execOut(t *testing.T, c *testContainer, p Process) (string, string, int, error) {
	t.Helper()
	if p.Env == nil {
		p.Env = c.spec.Process.Env
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := Exec(ctx, c.shim.Pid, p, ExecIO{Stdout: &out, Stderr: &errb})
	if err != nil {
		return "", "", 0, err
	}
	code, err := e.Wait(ctx)
	return out.String(), errb.String(), code, err
}

var nsNames = []string{"ipc", "mnt", "net", "pid", "uts"}

func hostNamespaces(t *testing.T) string {
	var s []string
	for _, n := range nsNames {
		l, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, l)
	}
	// (not mountinfo: other tests on the machine mount things meanwhile)
	root, _ := os.Readlink("/proc/self/root")
	return strings.Join(s, " ") + " root=" + root
}

func TestNamespacesAndExec(t *testing.T) {
	before := hostNamespaces(t)
	defer func() {
		if after := hostNamespaces(t); after != before {
			t.Errorf("exec changed the caller's namespaces or mounts")
		}
	}()
	c := startSleeper(t, nil)
	// many at once: none may leave a daemon thread inside the container
	errc := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			out, _, code, err := execOut(t, c, Process{Args: []string{"echo", "x"}})
			if err == nil && (code != 0 || out != "x\n") {
				err = fmt.Errorf("exec echo x: %d %q", code, out)
			}
			errc <- err
		}()
	}
	for i := 0; i < 20; i++ {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	script := ""
	for _, n := range nsNames {
		script += "readlink /proc/self/ns/" + n + "; "
	}
	out, errs, code, err := execOut(t, c, Process{Args: []string{"sh", "-c", script + "echo $$; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 {
		t.Errorf("exec exit code = %d, want 3 (stderr %q)", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(nsNames)+1 {
		t.Fatalf("exec output %q", out)
	}
	for i, n := range nsNames {
		pid1, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", c.shim.Pid, n))
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.Readlink("/proc/self/ns/" + n)
		if pid1 == host {
			t.Errorf("%s namespace of PID 1 is the host's (%s)", n, host)
		}
		if lines[i] != pid1 {
			t.Errorf("exec's %s namespace = %s, PID 1's = %s", n, lines[i], pid1)
		}
	}
	if pid, _ := strconv.Atoi(lines[len(lines)-1]); pid <= 1 || pid > 50 {
		t.Errorf("exec'd shell's pid inside = %s, want a small pid of the container's namespace", lines[len(lines)-1])
	}
	// ps inside sees PID 1 and the exec, nothing of the host
	out, _, _, err = execOut(t, c, Process{Args: []string{"ps", "-o", "pid,comm"}})
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out)
	if len(fields) != 6 || fields[2] != "1" || fields[3] != "sleep" || fields[5] != "ps" {
		t.Errorf("ps in exec = %q", out)
	}
	// a user and a working directory
	out, _, _, err = execOut(t, c, Process{Args: []string{"sh", "-c", "id; pwd"}, User: "user", Cwd: "/home/user/work"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "uid=1000(user) gid=1000(user) groups=10(wheel),1000(user)\n/home/user/work\n"; out != want {
		t.Errorf("id; pwd as user = %q, want %q", out, want)
	}
	// docker's errors
	_, _, _, err = execOut(t, c, Process{Args: []string{"nosuchcmd"}})
	var se *StartError
	if !errors.As(err, &se) || se.Code != 127 || se.Message != `exec: "nosuchcmd": executable file not found in $PATH` {
		t.Errorf("exec nosuchcmd: %v", err)
	}
	_, _, _, err = execOut(t, c, Process{Args: []string{"/etc/notexec"}})
	if !errors.As(err, &se) || se.Code != 126 || !strings.Contains(se.Message, "permission denied") {
		t.Errorf("exec /etc/notexec: %v", err)
	}
	// the exec'd process is in the container's cgroup
	out, _, _, _ = execOut(t, c, Process{Args: []string{"cat", "/proc/self/cgroup"}})
	if !strings.Contains(out, c.spec.Cgroup.Parent+"/"+c.spec.Cgroup.Name) {
		t.Errorf("exec's cgroups: %q", out)
	}
	// stdin
	var o bytes.Buffer
	e, err := Exec(context.Background(), c.shim.Pid, Process{Args: []string{"cat"}, Env: c.spec.Process.Env}, ExecIO{Stdin: strings.NewReader("to exec stdin\n"), Stdout: &o})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := e.Wait(context.Background()); err != nil || code != 0 || o.String() != "to exec stdin\n" {
		t.Errorf("exec -i cat: %d %v %q", code, err, o.String())
	}
	if err := c.shim.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := c.wait(); st.ExitCode != 137 {
		t.Errorf("killed: exit %d, want 137", st.ExitCode)
	}
}

func TestHostInvisibleAndNetworkNone(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "host-marker")
	os.WriteFile(marker, []byte("x"), 0o644)
	spec, bundle := newSpec(t, "sh", "-c", "test -e "+marker+" && echo visible || echo invisible; ls /; ip -o link | cut -d' ' -f2,3; touch /newfile; cat /proc/1/cmdline")
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 {
		t.Fatalf("exit %d %q %q", st.ExitCode, out, errs)
	}
	if !strings.HasPrefix(out, "invisible\n") {
		t.Errorf("the host's file is visible: %q", out)
	}
	if strings.Contains(out, "work") && strings.Contains(out, "\nwork\n") {
		t.Errorf("/ shows host dirs: %q", out)
	}
	if !strings.Contains(out, "lo: <LOOPBACK,UP,LOWER_UP>") || strings.Count(out, ": <") != 1 {
		t.Errorf("network none: want only lo, up: %q", out)
	}
	// written to the upper dir, not the image layer
	if _, err := os.Stat(filepath.Join(spec.Rootfs.UpperDir, "newfile")); err != nil {
		t.Errorf("new file not in upperdir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(spec.Rootfs.LowerDirs[0], "newfile")); err == nil {
		t.Errorf("new file written into the image layer")
	}
}

func TestStartErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nosuchcmd"}, 127, `exec: "nosuchcmd": executable file not found in $PATH`},
		{[]string{"/nosuch"}, 127, `exec: "/nosuch": stat /nosuch: no such file or directory`},
		{[]string{"/etc/notexec"}, 126, `exec: "/etc/notexec": permission denied`},
		{[]string{"/etc"}, 126, `exec: "/etc": permission denied`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			spec, bundle := newSpec(t, tc.args...)
			c := create(t, spec, bundle)
			err := c.start()
			var se *StartError
			if !errors.As(err, &se) || se.Code != tc.code || se.Message != tc.msg {
				t.Errorf("%v: got %v, want %d %q", tc.args, err, tc.code, tc.msg)
				return
			}
			if st := c.wait(); st.ExitCode != tc.code || st.Error != tc.msg {
				t.Errorf("%v: exit status %+v", tc.args, st)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "exit 7")
	if _, _, st := run(t, spec, bundle); st.ExitCode != 7 || st.OOMKilled {
		t.Errorf("exit 7: %+v", st)
	}
	spec, bundle = newSpec(t, "sh", "-c", "kill -TERM $$; sleep 5")
	// PID 1 has no handler: SIGTERM from itself is ignored too
	spec.Process.Args = []string{"sh", "-c", "trap 'exit 143' TERM; kill -TERM $$; sleep 5"}
	if _, _, st := run(t, spec, bundle); st.ExitCode != 143 {
		t.Errorf("TERM: %+v", st)
	}
}

func TestTerminal(t *testing.T) {
	spec, bundle := newSpec(t, "sh")
	spec.Process.Terminal = true
	spec.Process.OpenStdin = true
	spec.Process.StdinOnce = true
	spec.Process.ConsoleHeight, spec.Process.ConsoleWidth = 24, 80
	c := create(t, spec, bundle)
	conn, err := c.shim.Attach(context.Background(), true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	outc := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn)
		outc <- string(b)
	}()
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "stty size; [ -t 0 ] && echo is-a-tty; echo T=$(tty) C=$(stat -c %%t:%%T /dev/console)\n")
	waitFor(t, c, "24 80")
	if err := c.shim.Resize(30, 100); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "stty size; echo $((6*7)); exit 5\n")
	st := c.wait()
	out := <-outc
	if st.ExitCode != 5 {
		t.Errorf("exit %d", st.ExitCode)
	}
	// the terminal is the container's own /dev/pts/0, bound on /dev/console
	for _, want := range []string{"24 80\r\n", "is-a-tty\r\n", "T=/dev/pts/0 C=88:0\r\n", "30 100\r\n", "42\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q: %q", want, out)
		}
	}
	// the log has the terminal's output as stdout
	log, _ := os.ReadFile(spec.LogPath)
	if !strings.Contains(string(log), `{"log":"42\r\n","stream":"stdout","time":"`) {
		t.Errorf("log: %s", log)
	}
}

// Issue 10, finding 5: a client that stops sending stdin (it half-closed
// its stream, or detached) must not close the container's terminal, even
// with StdinOnce (docker run -ti sets it): that attachment ends, the shell
// runs on, and the next attach gets it.
func TestTerminalOutlivesItsAttacher(t *testing.T) {
	spec, bundle := newSpec(t, "sh")
	spec.Process.Terminal, spec.Process.OpenStdin, spec.Process.StdinOnce = true, true, true
	c := create(t, spec, bundle)
	first, err := c.shim.Attach(context.Background(), true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(first, "echo one-$((1+1))\n")
	waitFor(t, c, "one-2")
	first.(*net.UnixConn).CloseWrite()
	first.SetReadDeadline(time.Now().Add(20 * time.Second))
	if out, err := io.ReadAll(first); err != nil { // ends: the shim closed this attachment
		t.Fatalf("first attachment: %v %q", err, out)
	}
	if st, err := c.shim.State(context.Background()); err != nil || !st.Running {
		t.Fatalf("the shell did not outlive its attacher: %+v %v", st, err)
	}
	second, err := c.shim.Attach(context.Background(), true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	fmt.Fprintf(second, "echo two-$((2+2)); exit 3\n")
	out, _ := io.ReadAll(second)
	if st := c.wait(); st.ExitCode != 3 || !strings.Contains(string(out), "two-4") {
		t.Errorf("second attachment: %+v %q", st, out)
	}
}

// waitFor waits until the container's log holds s (no sleeps as sync).
func waitFor(t *testing.T, c *testContainer, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errFound := errors.New("found")
	err := ReadLog(ctx, c.spec.LogPath, LogOptions{Tail: -1, Follow: true}, func(e LogEntry) error {
		if strings.Contains(string(e.Log), s) {
			return errFound
		}
		return nil
	})
	if err != errFound {
		t.Fatalf("%q never showed up in the log: %v", s, err)
	}
}

func TestStdinOnceAndAttachers(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "cat; echo done >&2")
	spec.Process.OpenStdin = true
	spec.Process.StdinOnce = true
	c := create(t, spec, bundle)
	a1, err := c.shim.Attach(context.Background(), true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := c.shim.Attach(context.Background(), false, true, false)
	if err != nil {
		t.Fatal(err)
	}
	a2.(*net.UnixConn).CloseWrite() // like docker's CLI without -i
	var o1, e1, o2, e2 bytes.Buffer
	d1, d2 := make(chan error), make(chan error)
	go func() { d1 <- demux(a1, &o1, &e1) }()
	go func() { d2 <- demux(a2, &o2, &e2) }()
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(a1, "line one\nline two\n")
	a1.(*net.UnixConn).CloseWrite()
	st := c.wait()
	<-d1
	<-d2
	if st.ExitCode != 0 || o1.String() != "line one\nline two\n" || e1.String() != "done\n" {
		t.Errorf("attacher 1: %+v %q %q", st, o1.String(), e1.String())
	}
	if o2.String() != "line one\nline two\n" || e2.Len() != 0 {
		t.Errorf("attacher 2 (stdout only): %q %q", o2.String(), e2.String())
	}
}

func TestBindMounts(t *testing.T) {
	ro, rw := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ro, "f"), []byte("hello\n"), 0o644)
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n"), 0o644)
	spec, bundle := newSpec(t, "sh", "-c", "cat /data/f; touch /data/x && echo ro-writable; echo y > /rw/new/y; cat /etc/hosts; grep -c ' /data ' /proc/mounts")
	spec.Mounts = []Mount{
		{Source: ro, Destination: "/data", ReadOnly: true},
		{Source: rw, Destination: "/rw/new"},
		{Source: hosts, Destination: "/etc/hosts", ReadOnly: true},
	}
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 {
		t.Fatalf("exit %d %q %q", st.ExitCode, out, errs)
	}
	if want := "hello\n127.0.0.1\tlocalhost\n1\n"; out != want {
		t.Errorf("out %q, want %q", out, want)
	}
	if !strings.Contains(errs, "Read-only file system") {
		t.Errorf("stderr %q", errs)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "y")); err != nil || string(b) != "y\n" {
		t.Errorf("rw bind: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil {
		t.Errorf("ro bind was written")
	}
}

func TestOOMKill(t *testing.T) {
	spec, bundle := newSpec(t, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	spec.Cgroup.Resources.Memory = 16 << 20
	spec.Cgroup.Resources.MemorySwap = 16 << 20
	_, _, st := run(t, spec, bundle)
	if st.ExitCode != 137 || !st.OOMKilled {
		t.Errorf("over the memory limit: %+v, want 137 and OOMKilled", st)
	}
}

func TestJSONLogFile(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", `echo out1; echo out2; printf "tab\there <tag> & \"quoted\" back\\\\slash caf\303\251 bad\377byte\n"; head -c 17000 /dev/zero | tr "\0" x; echo; printf "no trailing newline"`)
	out, _, st := run(t, spec, bundle)
	if st.ExitCode != 0 {
		t.Fatal(st)
	}
	fixture, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(string(fixture)), "\n") {
		if strings.Contains(l, `"stream":"stdout"`) {
			want = append(want, l[:strings.LastIndex(l, `"time":`)])
		}
	}
	got, _ := os.ReadFile(spec.LogPath)
	var gotl []string
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		gotl = append(gotl, l[:strings.LastIndex(l, `"time":`)])
	}
	if strings.Join(gotl, "\n") != strings.Join(want, "\n") {
		t.Errorf("log differs from docker's:\n got %.300q\nwant %.300q", gotl, want)
	}
	if !strings.HasSuffix(out, "no trailing newline") {
		t.Errorf("attach output end %q", out[len(out)-30:])
	}
}

// TestShimSurvivesDaemon starts the container from a separate "daemon"
// process, kills that with SIGKILL, and reconnects.
func TestShimSurvivesDaemon(t *testing.T) {
	spec, bundle := newSpec(t, "sleep", "1000")
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Cleanup(bundle) })
	daemon := exec.Command("/proc/self/exe", "-test.run=^$")
	daemon.Env = append(os.Environ(), testDaemonEnv+"="+bundle)
	// its own process group, which gets the SIGKILL: what a Ctrl-C or a
	// service manager does to a daemon and everything in its group
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := daemon.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		daemon.Process.Kill()
		daemon.Wait()
		t.Fatalf("fake daemon: %v", err)
	}
	syscall.Kill(-daemon.Process.Pid, syscall.SIGKILL)
	daemon.Wait()

	s, err := ConnectShim(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid != pid {
		t.Errorf("reconnected shim says pid %d, daemon was told %d", s.Pid, pid)
	}
	state, err := s.State(context.Background())
	if err != nil || !state.Running {
		t.Fatalf("state after the daemon died: %+v %v", state, err)
	}
	c := &testContainer{t: t, bundle: bundle, spec: spec, shim: s}
	if out, _, code, err := execOut(t, c, Process{Args: []string{"echo", "still here"}}); err != nil || code != 0 || out != "still here\n" {
		t.Errorf("exec after reconnect: %q %d %v", out, code, err)
	}
	if err := s.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := c.wait(); st.ExitCode != 137 {
		t.Errorf("exit %+v", st)
	}
	// the shim is gone; the status stays readable
	if _, err := ConnectShim(bundle); !errors.Is(err, ErrShimGone) {
		t.Errorf("ConnectShim after exit: %v", err)
	}
	if st, ok, err := ReadExitStatus(bundle); !ok || err != nil || st.ExitCode != 137 {
		t.Errorf("ReadExitStatus: %+v %v %v", st, ok, err)
	}
}

const testDaemonEnv = "RTTEST_DAEMON_BUNDLE"

// runTestDaemon is the fake daemon of TestShimSurvivesDaemon.
func runTestDaemon(bundle string) {
	pid, err := StartShim(context.Background(), bundle)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(pid)
	select {}
}

func TestCleanupLeavesNothing(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "sleep 1000 & sleep 1000")
	c := create(t, spec, bundle)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	shimPid := readPidFile(filepath.Join(bundle, ShimPidFile))
	initPid := c.shim.Pid
	// abandoned while running: Cleanup must stop everything
	if err := Cleanup(bundle); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(bundle); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
	for _, pid := range []int{shimPid, initPid} {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil && !strings.Contains(string(st), ") Z ") { // a zombie is ours to reap (CreateShim does)
			t.Errorf("process %d still there: %s", pid, st)
		}
	}
	for _, ctl := range []string{"memory", "pids", "cpu"} {
		d := filepath.Join("/sys/fs/cgroup", ctl, spec.Cgroup.Parent, spec.Cgroup.Name)
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left", d)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), spec.Rootfs.MergedDir) {
		t.Errorf("mount left on %s", spec.Rootfs.MergedDir)
	}
	ents, _ := os.ReadDir(bundle)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) > 2 {
		t.Errorf("bundle holds %v, want only spec.json and the log", names)
	}
}

package daemon_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// TestUsernsRemapExec: exec in a remapped container, through both CLIs,
// is root of the container's user namespace (id -u is 0, the host sees
// the remapped uid), in the container's cgroup and PID namespace, with
// --user, --workdir, --env, -t and docker's exit codes; a healthcheck (an
// exec) turns healthy. The helper that serves it is not in the
// container's `ps`, and nothing is left after rm.
func TestUsernsRemapExec(t *testing.T) {
	d, root := startRemappedDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s", "busybox", "sleep", "300"))
	initPid := d.ContainerPid(id)

	for _, cli := range []func(...string) testutil.Result{d.CLI, d.Docker} {
		r := cli("exec", "-e", "FOO=bar", "-w", "/tmp", id, "sh", "-c", `id -u; echo $FOO; pwd; ps -o args`)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "0\nbar\n/tmp\n") || strings.Contains(r.Stdout, "userns-helper") || !strings.Contains(r.Stdout, "sleep 300") {
			t.Errorf("exec: exit %d, %q %q; want root, the env, the workdir and the container's processes only", r.Code, r.Stdout, r.Stderr)
		}
		if r := cli("exec", "-u", "1000:1000", "-t", id, "sh", "-c", "id -u; id -g; stat -c %u $(tty); tty"); r.Code != 0 || !regexp.MustCompile(`^1000\r\n1000\r\n1000\r\n/dev/pts/\d+\r\n$`).MatchString(r.Stdout) {
			t.Errorf("exec -u 1000 -t: exit %d, %q %q; want uid and gid 1000 on a /dev/pts terminal of its own", r.Code, r.Stdout, r.Stderr)
		}
		if r := cli("exec", id, "sh", "-c", "exit 7"); r.Code != 7 {
			t.Errorf("exec exit 7: got %d (%s)", r.Code, r.Combined())
		}
		if r := cli("exec", id, "nosuchcommand"); r.Code != 127 || !strings.Contains(r.Combined(), "executable file not found") {
			t.Errorf("exec of a missing command: exit %d, %q; want 127", r.Code, r.Combined())
		}
	}

	// the process itself, seen from the host
	dockerOK(t, d, "exec", "-d", id, "sleep", "4242")
	pid := waitForProcess(t, "sleep\x004242\x00")
	if uid := statusField(t, pid, "Uid:"); uid != strconv.Itoa(root) {
		t.Errorf("the exec'd process runs as host uid %s, want the remapped root %d", uid, root)
	}
	for _, f := range []string{"ns/pid", "ns/user", "ns/mnt", "ns/net", "cgroup"} {
		if a, b := procLink(t, pid, f), procLink(t, initPid, f); a != b {
			t.Errorf("exec'd process %s %q, PID 1 %q: want the same", f, a, b)
		}
	}

	// --privileged: every capability, of the container's user namespace
	hostCaps := statusField(t, os.Getpid(), "CapBnd:")
	if out := dockerOK(t, d, "exec", "--privileged", id, "sh", "-c", "grep CapEff /proc/self/status"); !strings.HasSuffix(out, hostCaps+"\n") {
		t.Errorf("exec --privileged: %q, want CapEff %s", out, hostCaps)
	}

	dockerOK(t, d, "exec", id, "touch", "/tmp/ok")
	testutil.Eventually(t, 30*time.Second, "healthy", func() bool { return healthStatus(t, d, id) == "healthy" })

	dockerOK(t, d, "rm", "-f", id)
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("exec'd process %d survived rm -f", pid)
	}
	d.Stop()
	d.AssertNoLeaks()
}

// TestUsernsRemapExecSurvivesFaults: the helper belongs to the shim, so
// exec works after a kill -9 of the daemon; a killed helper makes exec
// fail clearly while the container runs on; rm leaves nothing.
func TestUsernsRemapExecSurvivesFaults(t *testing.T) {
	d, _ := startRemappedDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "busybox", "sleep", "300"))
	d.Kill9()
	d.Start()
	if out := dockerOK(t, d, "exec", id, "id", "-u"); out != "0\n" {
		t.Errorf("exec after the daemon's kill -9: %q, want 0", out)
	}

	helper := helperOf(t, d.ContainerPid(id))
	if err := syscall.Kill(helper, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && syscall.Kill(helper, 0) == nil; i++ {
		time.Sleep(10 * time.Millisecond) // the shim reaps it
	}
	r := d.Docker("exec", id, "true")
	if r.Code == 0 || !strings.Contains(r.Combined(), "userns-helper does not answer") {
		t.Errorf("exec with its helper killed: exit %d, %q; want a clear error", r.Code, r.Combined())
	}
	if st := d.MustCLI("inspect", "-f", "{{.State.Status}}", id); st != "running\n" {
		t.Errorf("the container is %q after its helper died, want running", st)
	}
	dockerOK(t, d, "rm", "-f", id)
	d.Stop()
	d.AssertNoLeaks()
}

// helperOf is the userns-helper next to PID 1: the shim's other child.
func helperOf(t *testing.T, initPid int) int {
	t.Helper()
	shim := ppidOf(t, initPid)
	for _, p := range allPids() {
		if p != initPid && ppidOf(t, p) == shim {
			if cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline")); strings.Contains(string(cmd), "userns-helper") {
				return p
			}
		}
	}
	t.Fatalf("no userns-helper next to PID 1 (%d)", initPid)
	return 0
}

func allPids() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if p, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

func ppidOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// waitForProcess finds (bounded) the one process whose command line is cmdline.
func waitForProcess(t *testing.T, cmdline string) int {
	t.Helper()
	for i := 0; i < 500; i++ {
		for _, p := range allPids() {
			if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline")); string(b) == cmdline {
				return p
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no process %q", cmdline)
	return 0
}

func statusField(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == name {
			return f[1]
		}
	}
	return ""
}

// procLink is /proc/<pid>/<name>: a namespace link's target, or the
// cgroup file's text.
func procLink(t *testing.T, pid int, name string) string {
	t.Helper()
	path := filepath.Join("/proc", strconv.Itoa(pid), name)
	if strings.HasPrefix(name, "ns/") {
		s, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestUsernsRemapExecTTY: exec -ti in a remapped container, on a real
// pseudo-terminal, through both CLIs: a /dev/pts terminal of the caller's
// size that follows a resize, stdin typed into it, and the exit code.
func TestUsernsRemapExecTTY(t *testing.T) {
	d, _ := startRemappedDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "busybox", "sleep", "300"))
	for _, bin := range []string{d.Bin, testutil.DockerCLI(t)} {
		out, code := runInPty(t, []string{"stty size; tty; echo $((6*7))\r", "WAIT:42", "RESIZE", "exit 5\r"}, bin, "-H", d.Host, "exec", "-ti", id, "sh")
		if code != 5 || !strings.Contains(out, "30 100") || !strings.Contains(out, "/dev/pts/") {
			t.Errorf("%s exec -ti: exit %d, output %q", filepath.Base(bin), code, out)
		}
	}
}

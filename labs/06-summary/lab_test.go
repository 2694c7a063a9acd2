// Lab 06 — one `docker run -d -p 8080:80` followed through every layer
// (chapters/06-summary).
//
// The chapter draws the journey of one command as a sequence diagram; this
// lab runs the command against an isolated daemon and proves each arrow:
// the CLI's API calls reach the daemon, the daemon prepared a network
// namespace, a shim of its own session is PID 1's parent, init became PID 1
// inside fresh namespaces, and the first HTTP request hits the DNAT rule
// that -p 8080:80 added. The daemon runs in a network namespace of its own,
// so port 8080 is the article's and nobody else's. Run it as root:
// `make lab-06`.
package summary

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// run is the article's command, with busybox's httpd standing in for nginx
// (the course is offline): it serves the container's /etc, so GET
// /hostname answers with the container's short ID.
var run = []string{"run", "-d", "-p", "8080:80", "--name", "web", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"}

func TestFollowOneRun(t *testing.T) {
	d, netns := testutil.StartDaemonInNetns(t)
	d.LoadBusybox()
	id := strings.TrimSpace(d.MustCLI(run...))
	require.Regexp(t, `^[0-9a-f]{64}$`, id)
	pid := d.ContainerPid("web")

	t.Run("1 the CLI called the Engine API", func(t *testing.T) {
		// the daemon logs every request at debug level (test daemons run with it)
		for _, call := range []string{`POST path=/v[0-9.]+/containers/create`, `POST path=/v[0-9.]+/containers/` + id + `/start`} {
			assert.Regexp(t, regexp.MustCompile(`msg="api request" method=`+call), d.Log())
		}
	})
	t.Run("2 the daemon made and wired the network namespace", func(t *testing.T) {
		pinned := filepath.Join(d.ExecRoot, "netns", id)
		assert.Equal(t, inode(t, pinned), inode(t, nsPath(pid, "net")),
			"PID 1 lives in the namespace the daemon pinned before the shim existed")
		out := inNetns(t, netns, "ip", "-o", "link", "show", "master", d.Bridge)
		assert.Contains(t, out, "veth", "the host end of the veth pair is on the bridge")
	})
	t.Run("3 a shim in its own session is PID 1's parent", func(t *testing.T) {
		shim := parent(t, pid)
		args := cmdline(t, shim)
		require.GreaterOrEqual(t, len(args), 2)
		assert.Equal(t, "shim", args[1])
		assert.Equal(t, d.Pid(), parent(t, shim), "the daemon started the shim")
		sid, err := getsid(shim)
		require.NoError(t, err)
		assert.Equal(t, shim, sid, "the shim leads a session of its own: the daemon's end does not end it")
	})
	t.Run("4 init became PID 1 in fresh namespaces", func(t *testing.T) {
		assert.Equal(t, []string{"httpd", "-f", "-p", "80", "-h", "/etc"}, cmdline(t, pid), "execve replaced init with the CMD")
		assert.Equal(t, "1", lastField(status(t, pid, "NSpid")), "its number inside its PID namespace")
		for _, ns := range []string{"mnt", "pid", "uts", "ipc", "net"} {
			assert.NotEqual(t, inode(t, nsPath(d.Pid(), ns)), inode(t, nsPath(pid, ns)), "%s namespace", ns)
		}
	})
	t.Run("5 the first request goes through the DNAT rule", func(t *testing.T) {
		before := dnatPackets(t, netns, d.Chain)
		body := inNetns(t, netns, "curl", "-s", "--retry", "20", "--retry-connrefused", "--retry-delay", "1", "http://127.0.0.1:8080/hostname")
		assert.Equal(t, id[:12], strings.TrimSpace(body), "the container answered")
		assert.Greater(t, dnatPackets(t, netns, d.Chain), before, "the nat rule counted the connection's first packet")
	})
}

// dnatPackets reads the packet counter of the DNAT rule for port 8080.
func dnatPackets(t *testing.T, netns, chain string) int {
	t.Helper()
	out := inNetns(t, netns, "iptables", "-w", "-t", "nat", "-L", chain, "-v", "-x", "-n")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "DNAT") && strings.Contains(line, "dpt:8080") {
			n, err := strconv.Atoi(strings.Fields(line)[0])
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no DNAT rule for 8080 in chain %s:\n%s", chain, out)
	return 0
}

func inNetns(t *testing.T, netns string, argv ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + netns}, argv...)...).CombinedOutput()
	require.NoError(t, err, "%v: %s", argv, out)
	return string(out)
}

func nsPath(pid int, kind string) string {
	return filepath.Join("/proc", strconv.Itoa(pid), "ns", kind)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Sys().(*syscall.Stat_t).Ino
}

func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	require.NoError(t, err)
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func status(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return ""
}

func parent(t *testing.T, pid int) int {
	t.Helper()
	ppid, err := strconv.Atoi(status(t, pid, "PPid"))
	require.NoError(t, err)
	return ppid
}

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}

func lastField(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}

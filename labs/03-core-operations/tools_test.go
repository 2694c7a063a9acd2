// Lab 03 (tools) — exec, cp, commit, top and stats
// (chapters/03-core-operations/exec-cp-commit.md).
//
// The article's sections 12 and 13: run a command inside a running
// container, copy files between host and container; plus what comes with
// them: commit a container's changes into an image, list its processes,
// read its resource usage. Run it as root: `make lab-03`.
package coreoperations

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// toolsDaemon starts an isolated daemon whose store already holds
// busybox:latest, and a container "web" running `httpd -f` from it (the
// lab's stand-in for the article's nginx container).
func toolsDaemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--name", "web", "--net", "none", "busybox", "httpd", "-f", "-p", "80", "-h", "/var/www")
	return d
}

// Section 12: `docker exec -ti web /bin/sh`, then `ps aux` inside — the
// shell is in the container: PID 1 is the container's command, and the
// host's processes are not there.
func TestToolsExecInteractiveShell(t *testing.T) {
	d := toolsDaemon(t)
	cmd := exec.Command(d.Bin, "-H", d.Host, "exec", "-ti", "web", "/bin/sh")
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	require.NoError(t, err)
	defer term.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, term); close(done) }()
	term.Write([]byte("ps aux; tty; exit\r"))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the shell did not exit")
	}
	require.NoError(t, cmd.Wait())
	ps := out.String()
	assert.Regexp(t, `(?m)^\s*1 root\s+.*httpd -f -p 80 -h /var/www`, ps, "PID 1 is the container's command")
	assert.Regexp(t, `(?m)^\s+\d{1,2} root\s+/bin/sh`, ps, "the shell has a small PID of the container's PID namespace")
	assert.NotContains(t, ps, "minidocker", "no host process is visible")
	assert.Contains(t, ps, "/dev/pts/0", "the shell has a terminal of the container's own")
}

// Section 12: `docker exec web hostname` runs one command and returns its
// output and exit code.
func TestToolsExecOneCommand(t *testing.T) {
	d := toolsDaemon(t)
	id := strings.TrimSpace(d.MustCLI("ps", "-q", "--no-trunc"))
	assert.Equal(t, id[:12]+"\n", d.MustCLI("exec", "web", "hostname"), "the container's hostname is its short ID")
	assert.Equal(t, 3, d.CLI("exec", "web", "sh", "-c", "exit 3").Code, "the exit code comes back")
	r := d.CLI("exec", "web", "nosuch")
	assert.Equal(t, 127, r.Code)
	assert.Contains(t, r.Stdout, `exec: "nosuch": executable file not found in $PATH`)
	// the same namespaces as PID 1: exec lands inside, not beside
	var pid1 int
	_, err := fmt.Sscan(d.Docker("inspect", "-f", "{{.State.Pid}}", "web").Stdout, &pid1)
	require.NoError(t, err)
	for _, ns := range []string{"mnt", "pid", "net", "uts", "ipc"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid1, ns))
		assert.Equal(t, want+"\n", d.MustCLI("exec", "web", "readlink", "/proc/self/ns/"+ns), ns)
	}
}

// Section 13: copy a file from the host into the container and back.
func TestToolsCopyBothWays(t *testing.T) {
	d := toolsDaemon(t)
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "test.txt"), []byte("123\n"), 0o644))
	d.MustCLI("cp", filepath.Join(host, "test.txt"), "web:/tmp")
	assert.Equal(t, "123\n", d.MustCLI("exec", "web", "cat", "/tmp/test.txt"))

	back := t.TempDir()
	cmd := exec.Command(d.Bin, "-H", d.Host, "cp", "web:/tmp/test.txt", "./")
	cmd.Dir = back
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(filepath.Join(back, "test.txt"))
	require.NoError(t, err)
	assert.Equal(t, "123\n", string(b))

	// a link in the container that points at a host path means the
	// container's path of that name, never the host's
	canary := filepath.Join(host, "canary")
	require.NoError(t, os.WriteFile(canary, []byte("host\n"), 0o644))
	d.MustCLI("exec", "web", "ln", "-s", canary, "/tmp/link")
	d.CLI("cp", filepath.Join(host, "test.txt"), "web:/tmp/link")
	r := d.CLI("cp", "-L", "web:/tmp/link", "-")
	assert.NotContains(t, r.Stdout, "host\n")
	b, _ = os.ReadFile(canary)
	assert.Equal(t, "host\n", string(b), "the host file is untouched")
}

// A container's changes live in its own layer: the image stays as it was,
// and `commit` turns the changes into a new image.
func TestToolsCommitChanges(t *testing.T) {
	d := toolsDaemon(t)
	d.MustCLI("exec", "web", "sh", "-c", "echo '<h1>hello</h1>' > /var/www/index.html")
	r := d.CLI("run", "--rm", "--net", "none", "busybox", "cat", "/var/www/index.html")
	assert.NotEqual(t, 0, r.Code, "a fresh container of the image does not have the file")

	id := strings.TrimSpace(d.MustCLI("commit", "-m", "add index.html", "web", "web:v2"))
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, id)
	assert.Equal(t, "<h1>hello</h1>\n", d.MustCLI("run", "--rm", "--net", "none", "web:v2", "cat", "/var/www/index.html"))
}

// `top` and `stats` read the container from the host: its processes (host
// PIDs, from its cgroup) and its cgroup's counters.
func TestToolsTopAndStats(t *testing.T) {
	d := toolsDaemon(t)
	top := d.MustCLI("top", "web")
	assert.Regexp(t, `^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n`, top)
	assert.Contains(t, top, "httpd -f -p 80 -h /var/www")

	d.MustCLI("run", "-d", "--name", "limited", "--net", "none", "--memory", "32m", "busybox", "sleep", "1000")
	stats := d.MustCLI("stats", "--no-stream", "limited")
	assert.Regexp(t, `(?m)^[0-9a-f]{12}\s+limited\s+\d+\.\d\d%\s+[\d.]+[KM]iB / 32MiB\s`, stats, "the limit is the --memory value")
}

// Lab 03 — core operations on containers (chapters/03-core-operations/containers.md).
//
// The article's container commands, one step each, against an isolated
// daemon: run in the background, limit memory, persist data with -v,
// configure with -e, exec, cp both ways, logs (--tail, -f), stop/start/rm,
// inspect. Run it as root: `make lab-03`.
package coreoperations

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Step 10: start a container in the background (-d) with a name, and with
// a memory limit. The article uses nginx; busybox's httpd plays it here.
func TestContainerStartInBackground(t *testing.T) {
	d := preload.StartDaemon(t)
	id := strings.TrimSpace(d.MustCLI("run", "--name", "nginx", "-d", "--memory=500m", "busybox", "httpd", "-f", "-p", "80"))
	assert.Len(t, id, 64, "run -d prints the full container ID")

	ps := d.MustCLI("ps")
	assert.Contains(t, ps, "CONTAINER ID   IMAGE     COMMAND")
	assert.Contains(t, ps, id[:12])
	assert.Contains(t, ps, `"httpd -f -p 80"`)
	assert.Regexp(t, `Up (Less than a second|\d+ seconds?)`, ps)

	in := d.Inspect("nginx")
	assert.Equal(t, "/nginx", in["Name"])
	assert.Equal(t, float64(500<<20), in["HostConfig"].(map[string]any)["Memory"], "--memory=500m is 500 MiB")
	st := in["State"].(map[string]any)
	assert.Equal(t, "running", st["Status"])
	// PID 1 of the container is a host process: the daemon reports its host PID
	pid := int(st["Pid"].(float64))
	cmdline, err := os.ReadFile("/proc/" + itoa(pid) + "/cmdline")
	require.NoError(t, err)
	assert.Equal(t, "httpd\x00-f\x00-p\x0080\x00", string(cmdline))
}

// Step 11: persistence with -v host:container. What the container writes
// to the mounted directory is on the host and outlives the container; the
// -e MYSQL_ROOT_PASSWORD=... style configures the program inside.
func TestContainerPersistence(t *testing.T) {
	d := preload.StartDaemon(t)
	host := filepath.Join(d.Dir, "opt", "mysql") // missing: created by the daemon, as docker does
	d.MustCLI("run", "--name", "mysql", "-e", "MYSQL_ROOT_PASSWORD=123456", "-v", host+":/var/lib/mysql", "busybox",
		"sh", "-c", `echo "root:$MYSQL_ROOT_PASSWORD" > /var/lib/mysql/users`)
	b, err := os.ReadFile(filepath.Join(host, "users"))
	require.NoError(t, err)
	assert.Equal(t, "root:123456\n", string(b))

	in := d.Inspect("mysql")
	mounts := in["Mounts"].([]any)
	require.Len(t, mounts, 1)
	assert.Equal(t, host, mounts[0].(map[string]any)["Source"])
	assert.Equal(t, "/var/lib/mysql", mounts[0].(map[string]any)["Destination"])
	assert.Contains(t, in["Config"].(map[string]any)["Env"], "MYSQL_ROOT_PASSWORD=123456")

	d.MustCLI("rm", "mysql")
	_, err = os.Stat(filepath.Join(host, "users"))
	assert.NoError(t, err, "the data survives rm of the container")
	// a new container sees the same data
	out := d.MustCLI("run", "--rm", "-v", host+":/var/lib/mysql", "busybox", "cat", "/var/lib/mysql/users")
	assert.Equal(t, "root:123456\n", out)
	// while a file written elsewhere in the container is gone with it
	d.MustCLI("run", "--name", "scratch", "busybox", "sh", "-c", "echo x > /tmp/only-here")
	d.MustCLI("rm", "scratch")
	r := d.CLI("run", "--rm", "busybox", "cat", "/tmp/only-here")
	assert.NotEqual(t, 0, r.Code)
}

// Steps 12 and 13: run a command inside (exec) and copy files both ways (cp).
func TestContainerExecAndCp(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--name", "nginx", "--hostname", "web1", "busybox", "sleep", "1000")
	assert.Equal(t, "web1\n", d.MustCLI("exec", "nginx", "hostname"))

	src := filepath.Join(d.Dir, "test.txt")
	require.NoError(t, os.WriteFile(src, []byte("123\n"), 0o644))
	d.MustCLI("cp", src, "nginx:/tmp")
	assert.Equal(t, "123\n", d.MustCLI("exec", "nginx", "cat", "/tmp/test.txt"))

	dst := filepath.Join(d.Dir, "back")
	require.NoError(t, os.Mkdir(dst, 0o755))
	d.MustCLI("cp", "nginx:/tmp/test.txt", dst)
	b, err := os.ReadFile(filepath.Join(dst, "test.txt"))
	require.NoError(t, err)
	assert.Equal(t, "123\n", string(b))
}

// Step 14: logs — everything, the last N lines, and following.
func TestContainerLogs(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--name", "nginx", "busybox", "sh", "-c",
		"for i in 1 2 3 4 5; do echo line $i; done; echo to-stderr >&2; while true; do sleep 0.2; echo tick; done")
	testutil.Eventually(t, 15*time.Second, "the first lines in the log", func() bool {
		return strings.HasPrefix(d.CLI("logs", "nginx").Stdout, "line 1\nline 2\nline 3\nline 4\nline 5\n")
	})
	r := d.CLI("logs", "nginx")
	assert.Equal(t, "to-stderr\n", r.Stderr, "stderr stays stderr")

	// --tail=2 -f: the last two lines, then new ones as they come
	cmd := exec.Command(d.Bin, "-H", d.Host, "logs", "--tail=2", "-f", "nginx")
	var out testutil.SyncBuffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	testutil.Eventually(t, 15*time.Second, "followed lines", func() bool { return strings.Count(out.String(), "tick") >= 4 })
	d.MustCLI("stop", "-t", "1", "nginx")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("logs -f did not end when the container stopped")
	}
	assert.NotContains(t, out.String(), "line 1", "--tail=2 starts near the end")
}

// Step 15: stop, start again, rm, and rm -f of a running container.
func TestContainerStopStartRm(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--name", "nginx", "busybox", "sh", "-c", "trap 'exit 0' TERM; echo trapped; while true; do sleep 0.1; done")
	// PID 1 ignores a SIGTERM it has no handler for: stop only once the trap is set
	testutil.Eventually(t, 10*time.Second, "the shell has set its trap", func() bool {
		return strings.Contains(d.MustCLI("logs", "nginx"), "trapped")
	})
	assert.Equal(t, "nginx\n", d.MustCLI("stop", "nginx"))
	st := d.Inspect("nginx")["State"].(map[string]any)
	assert.Equal(t, "exited", st["Status"])
	assert.Regexp(t, `Exited \(0\) (Less than a second|\d+ seconds?) ago`, d.MustCLI("ps", "-a"))
	assert.NotContains(t, d.MustCLI("ps"), "nginx", "ps without -a shows running containers only")

	assert.Equal(t, "nginx\n", d.MustCLI("start", "nginx"))
	assert.Equal(t, true, d.Inspect("nginx")["State"].(map[string]any)["Running"])

	r := d.CLI("rm", "nginx")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "stop the container before removing or force remove")

	assert.Equal(t, "nginx\n", d.MustCLI("rm", "-f", "nginx"))
	assert.Empty(t, strings.TrimSpace(d.MustCLI("ps", "-aq")))
	r = d.CLI("inspect", "nginx")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "No such object: nginx")
}

// Step 16: inspect — the container's details (state, PID, log path,
// config) and the image's.
func TestContainerInspect(t *testing.T) {
	d := preload.StartDaemon(t)
	d.MustCLI("run", "-d", "--name", "nginx", "busybox", "sleep", "1000")
	in := d.Inspect("nginx")
	for _, k := range []string{"Id", "Created", "Path", "Args", "State", "Image", "LogPath", "Name", "HostConfig", "Mounts", "Config", "NetworkSettings"} {
		assert.Contains(t, in, k)
	}
	assert.Equal(t, "sleep", in["Path"])
	_, err := os.Stat(in["LogPath"].(string))
	assert.NoError(t, err, "the json-file log is where inspect says")

	var img []map[string]any
	r := d.CLI("inspect", "busybox")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &img))
	require.Len(t, img, 1)
	assert.Equal(t, in["Image"], img[0]["Id"], "the container records the image ID")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

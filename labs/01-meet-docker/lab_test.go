// Lab 01 — meet Docker (chapters/01-meet-docker).
//
// The article's first claim: docker is a client/server program. The CLI
// you type into is only a client; a long-running daemon does the work, and
// the two talk HTTP over a unix socket. This lab proves each part of that
// with an isolated minidocker daemon. Run it as root: `make lab-01`.
package meetdocker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Step 1: the daemon is a process of its own, like dockerd in the
// article's `ps aux | grep docker`.
func TestTheDaemonIsAProcess(t *testing.T) {
	d := testutil.StartDaemon(t)
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(d.Pid()), "cmdline"))
	require.NoError(t, err)
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	assert.Equal(t, "daemon", args[3], "the process runs `minidocker -H … daemon`")
	assert.Equal(t, d.Bin, args[0])
}

// Step 2: the client reaches the daemon only through its socket, which
// only root (and the minidocker group) may open.
func TestTheClientTalksThroughTheSocket(t *testing.T) {
	d := testutil.StartDaemon(t)
	st, err := os.Stat(d.Socket)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket, st.Mode().Type(), "a unix socket")
	assert.Equal(t, os.FileMode(0o660), st.Mode().Perm())
	assert.Equal(t, uint32(0), st.Sys().(*syscall.Stat_t).Uid, "owned by root")

	out := d.MustCLI("version")
	assert.Contains(t, out, "Server: minidocker", "the server half comes from the daemon")

	d.Stop()
	r := d.CLI("version")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stdout, "Client:", "the client half needs no daemon")
	assert.Contains(t, r.Stderr, "Cannot connect to the minidocker daemon at "+d.Host)
}

// Step 3: because the daemon speaks the Docker Engine API, the real docker
// client can drive it too.
func TestTheRealDockerClientWorks(t *testing.T) {
	d := testutil.StartDaemon(t)
	r := d.Docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Regexp(t, `^\d+\.\d+\.\d+ 1\.51\n$`, r.Stdout)
}

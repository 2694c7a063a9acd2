package meetdocker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Step 4: the socket equals root. The article's Portainer example mounts
// /var/run/docker.sock into a container so that the container can manage
// the host's containers. Whoever can talk to the socket can ask the daemon,
// which runs as root, to start a container with the host's / mounted in
// it: here a container holding the socket (and a client, our static
// binary) starts a second container that reads a file only root may read.
// No flag of the first container asked for any privilege.
func TestTheSocketEqualsRoot(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	secretDir := t.TempDir()
	require.NoError(t, os.Chmod(secretDir, 0o700))
	secret := filepath.Join(secretDir, "root-only.txt")
	want := "only root may read this " + testutil.RandomHex(4)
	require.NoError(t, os.WriteFile(secret, []byte(want), 0o600))

	// inside the first container: a client talking to the mounted socket
	inner := "/minidocker -H unix:///var/run/docker.sock run --rm -v /:/host busybox cat /host" + secret
	r := d.CLI("run", "--rm",
		"-v", d.Socket+":/var/run/docker.sock",
		"-v", testutil.Binary(t)+":/minidocker:ro",
		"busybox", "sh", "-c", inner)
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Equal(t, want, strings.TrimSpace(r.Stdout), "a container with the socket read a root-only host file")

	// without the socket the same container has no way to the daemon
	r = d.CLI("run", "--rm", "-v", testutil.Binary(t)+":/minidocker:ro", "busybox", "sh", "-c", inner)
	assert.NotEqual(t, 0, r.Code)
	assert.NotContains(t, r.Stdout, want)
	assert.Empty(t, strings.TrimSpace(d.MustCLI("ps", "-aq")), "every container of the lab is gone (--rm)")
}

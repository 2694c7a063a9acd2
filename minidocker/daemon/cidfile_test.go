package daemon_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestContainerIDFile: `docker run --cidfile` works. The docker CLI writes
// the file itself and sends the path in HostConfig.ContainerIDFile, which
// dockerd only keeps (inspect shows it); refusing the field broke the flag.
func TestContainerIDFile(t *testing.T) {
	d := preload.StartDaemon(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--net", "none", "--cidfile", cidfile, "busybox", "sleep", "300"))
	if b, err := os.ReadFile(cidfile); err != nil || string(b) != id {
		t.Errorf("cidfile: %q, %v; want %q", b, err, id)
	}
	if got := dockerOK(t, d, "inspect", "-f", "{{.HostConfig.ContainerIDFile}}", id); got != cidfile+"\n" {
		t.Errorf("inspect ContainerIDFile %q, want %q", got, cidfile)
	}
	dockerOK(t, d, "rm", "-f", id)
}

package networking

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// debianPython is the interpreter Debian's python3-docker is installed for
// (not whatever python3 comes first in PATH).
const debianPython = "/usr/bin/python3"

// TestDockerPy runs testdata/dockerpy/check.py, docker-py 5.0.3 from
// Debian's python3-docker, against a test daemon: images, volumes,
// networks, containers, exec, names on a user network, archives, stats,
// logs and events (a container's create, start, die and destroy replayed
// with since and until).
func TestDockerPy(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import docker").Run(); err != nil {
		if testutil.InCI() {
			t.Fatal("python3-docker is not installed (scripts/setup-host.sh installs it)")
		}
		t.Skip("python3-docker is not installed (scripts/setup-host.sh installs it)")
	}
	d := startDaemon(t)
	cmd := exec.Command(debianPython, filepath.Join("testdata", "dockerpy", "check.py"))
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker-py: %v\n%s\ndaemon log:\n%s", err, out, tail(d.Log(), 30))
	}
	if n := strings.Count(string(out), "ok "); n != 10 {
		t.Fatalf("docker-py printed %d ok lines, want 10:\n%s", n, out)
	}
}

package daemon_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestCpArchiveModeOwner: docker cp keeps the copied file's owner; cp -a
// (copyUIDGID) gives it to the user the container runs as, a name looked
// up in the container's own /etc/passwd (busybox's nobody is 65534) or a
// uid:gid as given. Through the docker CLI and ours.
func TestCpArchiveModeOwner(t *testing.T) {
	d := preload.StartDaemon(t)
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(src, 1234, 2345); err != nil {
		t.Fatal(err)
	}
	dockerOK(t, d, "run", "-d", "--net", "none", "--name", "asnobody", "-u", "nobody", "busybox", "sleep", "300")
	dockerOK(t, d, "run", "-d", "--net", "none", "--name", "asnumber", "-u", "1000:1001", "busybox", "sleep", "300")
	dockerOK(t, d, "cp", src, "asnobody:/tmp/plain")
	dockerOK(t, d, "cp", "-a", src, "asnobody:/tmp/docker-a")
	d.MustCLI("cp", "-a", src, "asnobody:/tmp/ours-a")
	dockerOK(t, d, "cp", "-a", src, "asnumber:/tmp/docker-a")
	want := "/tmp/plain 1234:2345\n/tmp/docker-a 65534:65534\n/tmp/ours-a 65534:65534\n"
	if out := dockerOK(t, d, "exec", "asnobody", "stat", "-c", "%n %u:%g", "/tmp/plain", "/tmp/docker-a", "/tmp/ours-a"); out != want {
		t.Errorf("owners in the container running as nobody:\n%s\nwant:\n%s", out, want)
	}
	if out := dockerOK(t, d, "exec", "asnumber", "stat", "-c", "%u:%g", "/tmp/docker-a"); out != "1000:1001\n" {
		t.Errorf("cp -a into a container running as 1000:1001: %q", out)
	}
	dockerOK(t, d, "rm", "-f", "asnobody", "asnumber")
}

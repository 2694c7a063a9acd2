package daemon_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// dockerIO runs the real docker CLI against d with stdin and returns its
// stdout, failing the test unless it exits 0.
func dockerIO(t *testing.T, d *testutil.Daemon, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testutil.DockerCLI(t), append([]string{"-H", d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=", "DOCKER_CONFIG="+filepath.Join(d.Dir, "docker-config"))
	cmd.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out
}

func gzipped(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zstded(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw, _ := zstd.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// tarMember returns the content of member name of the tar b.
func tarMember(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the archive: %v", name, err)
		}
		if h.Name == name {
			data, _ := io.ReadAll(tr)
			return data
		}
	}
}

// TestCompressedArchivesEverywhere: what docker accepts compressed, we do
// too, through the real docker CLI: `docker save | gzip | docker load` (and
// zstd), `docker import` of a zstd rootfs, and `docker cp -` of a gzipped tar.
func TestCompressedArchivesEverywhere(t *testing.T) {
	d := preload.StartDaemon(t)
	saved := dockerIO(t, d, nil, "save", "busybox")
	for _, c := range []struct {
		name string
		data []byte
	}{{"gzip", gzipped(t, saved)}, {"zstd", zstded(t, saved)}} {
		t.Run(c.name, func(t *testing.T) {
			d.MustCLI("rmi", "busybox")
			if out := dockerIO(t, d, c.data, "load"); string(out) != "Loaded image: busybox:latest\n" {
				t.Errorf("%s load printed %q", c.name, out)
			}
			if out := toolsRun(t, d, "run", "--rm", "--net", "none", "busybox", "echo", "ran"); out != "ran" {
				t.Errorf("after a %s load: %q", c.name, out)
			}
		})
	}

	// the busybox layer itself, as a zstd rootfs for import
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(tarMember(t, saved, "manifest.json"), &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	layer := tarMember(t, saved, manifest[0].Layers[0])
	dockerIO(t, d, zstded(t, layer), "import", "-", "imported:zstd")
	if out := toolsRun(t, d, "run", "--rm", "--net", "none", "imported:zstd", "echo", "imported"); out != "imported" {
		t.Errorf("the zstd import: %q", out)
	}

	toolsSleeper(t, d, "gzcp")
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	tw.WriteHeader(&tar.Header{Name: "zipped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("gzip"))
	tw.Close()
	dockerIO(t, d, gzipped(t, in.Bytes()), "cp", "-", "gzcp:/tmp")
	if out := toolsRun(t, d, "exec", "gzcp", "cat", "/tmp/zipped"); out != "gzip" {
		t.Errorf("cp of a gzipped tar: %q", out)
	}
}

// capNetRaw is a security.capability value (VFS_CAP_REVISION_2, effective)
// granting cap_net_raw, what `setcap cap_net_raw+ep` writes for ping.
var capNetRaw = string([]byte{0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})

// fileCap reads the file capabilities of p ("" if none).
func fileCap(t *testing.T, p string) string {
	t.Helper()
	b := make([]byte, 64)
	n, err := unix.Lgetxattr(p, "security.capability", b)
	if err != nil {
		return ""
	}
	return string(b[:n])
}

// containerCap reads the capabilities of path in running container ref.
func containerCap(t *testing.T, d *testutil.Daemon, ref, path string) string {
	t.Helper()
	return fileCap(t, fmt.Sprintf("/proc/%d/root%s", d.ContainerPid(ref), path))
}

// capTar is a tar holding one file, capped, whose capabilities travel as a
// PAX SCHILY.xattr record, as docker and tar --xattrs write them.
func capTar(t *testing.T) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	err := tw.WriteHeader(&tar.Header{Name: "capped", Typeflag: tar.TypeReg, Mode: 0o755, Size: 3, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capNetRaw}})
	if err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("cap"))
	tw.Close()
	return b.Bytes()
}

// TestFileCapabilitiesKept follows one capped file through every path an
// image file takes: `cp` into a container, commit, save, load, and `cp`
// out of it (the pull path is the image package's TestPullKeepsCapabilities).
// chown clears security.capability, so extracting must set the owner first.
func TestFileCapabilitiesKept(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "capsrc")
	dockerIO(t, d, capTar(t), "cp", "-", "capsrc:/bin")
	if got := containerCap(t, d, "capsrc", "/bin/capped"); got != capNetRaw {
		t.Fatalf("cp into the container: capability %q", got)
	}

	toolsRun(t, d, "commit", "capsrc", "capped:v1")
	toolsRun(t, d, "run", "-d", "--name", "committed", "--net", "none", "capped:v1", "sleep", "1000")
	if got := containerCap(t, d, "committed", "/bin/capped"); got != capNetRaw {
		t.Errorf("commit: capability %q", got)
	}

	saved := dockerIO(t, d, nil, "save", "capped:v1")
	toolsRun(t, d, "rm", "-f", "committed")
	toolsRun(t, d, "rmi", "capped:v1")
	dockerIO(t, d, saved, "load")
	toolsRun(t, d, "run", "-d", "--name", "loaded", "--net", "none", "capped:v1", "sleep", "1000")
	if got := containerCap(t, d, "loaded", "/bin/capped"); got != capNetRaw {
		t.Errorf("save and load: capability %q", got)
	}

	// out again: the stream carries the record, and an archive-mode copy
	// (as root) puts it back on the host file
	out := d.CLI("cp", "loaded:/bin/capped", "-")
	tr := tar.NewReader(strings.NewReader(out.Stdout))
	if h, err := tr.Next(); err != nil || h.PAXRecords["SCHILY.xattr.security.capability"] != capNetRaw {
		t.Errorf("cp out as a stream: %v %q", err, out.Stderr)
	}
	host := t.TempDir()
	toolsRun(t, d, "cp", "-a", "loaded:/bin/capped", host)
	if got := fileCap(t, filepath.Join(host, "capped")); got != capNetRaw {
		t.Errorf("cp -a out: capability %q", got)
	}
}

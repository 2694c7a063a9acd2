package daemon_test

import (
	"archive/tar"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// changeScript adds, modifies and deletes files, replaces a directory of
// the image by a new one (overlayfs makes it opaque), then says so.
const changeScript = "echo new > /new.txt; echo x >> /etc/passwd; rm /etc/group; " +
	"rm -rf /var && mkdir /var && touch /var/fresh; mkdir /home/d; touch /home/d/f; " +
	"echo vol > /data/vol.txt; touch /tmp/ready; exec sleep 600"

// TestDiffListsOverlayChanges: docker diff lists what the container
// added (A), changed (C) and deleted (D), whiteouts and an opaque
// directory included, and nothing of its volume or of the runtime's mount
// points; a missing container is a 404.
func TestDiffListsOverlayChanges(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "run", "-d", "--name", "fs", "--net", "none", "-v", "/data", "busybox", "sh", "-c", changeScript)
	testutil.Eventually(t, 20*time.Second, "the changes", func() bool { return d.Docker("exec", "fs", "test", "-e", "/tmp/ready").Code == 0 })
	want := strings.Join([]string{
		"A /data", "C /etc", "D /etc/group", "C /etc/passwd", "C /home", "A /home/d", "A /home/d/f", "A /new.txt",
		"C /tmp", "A /tmp/ready", "C /var", "A /var/fresh", "D /var/www",
	}, "\n")
	for _, cli := range []func(...string) testutil.Result{d.Docker, d.CLI} {
		if r := cli("diff", "fs"); r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
			t.Errorf("diff: exit %d\n%s%s\nwant\n%s", r.Code, r.Stdout, r.Stderr, want)
		}
	}
	if code, body := apiCall(t, d, "GET", "/containers/fs/changes", ""); code != 200 || !strings.Contains(body, `{"Kind":2,"Path":"/etc/group"}`) {
		t.Fatalf("GET changes: %d %s", code, body)
	}
	if r := d.Docker("diff", "nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, "No such container: nosuch") {
		t.Fatalf("diff of a missing container: %d %q", r.Code, r.Stderr)
	}
	if code := apiStatus(t, d, "GET", "/containers/nosuch/changes"); code != 404 {
		t.Fatalf("changes of a missing container: HTTP %d", code)
	}
}

// TestExportWritesTheMergedRootfs: docker export is the image's files with
// the container's changes applied (and nothing of its volume or /proc),
// while it runs and once it stopped, with file capabilities kept.
func TestExportWritesTheMergedRootfs(t *testing.T) {
	d := preload.StartDaemon(t)
	id := mustDocker(t, d, "run", "-d", "--name", "ex", "--net", "none", "-v", "/data", "busybox", "sh", "-c", changeScript)
	testutil.Eventually(t, 20*time.Second, "the changes", func() bool { return d.Docker("exec", "ex", "test", "-e", "/tmp/ready").Code == 0 })
	out := filepath.Join(d.Dir, "running.tar")
	mustDocker(t, d, "export", "-o", out, "ex")
	files := readTar(t, out)
	checkExport(t, files)

	// stopped: a file with a capability put straight into the upper dir
	mustDocker(t, d, "stop", "-t", "0", "ex")
	upper := d.Inspect("ex")["GraphDriver"].(map[string]any)["Data"].(map[string]any)["UpperDir"].(string)
	capFile := filepath.Join(upper, "capped")
	if err := os.WriteFile(capFile, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(capFile, "security.capability", netBindServiceCap(), 0); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(d.Dir, "stopped.tar")
	if r := d.CLI("export", "-o", out, id[:12]); r.Code != 0 {
		t.Fatalf("minidocker export: %d %s", r.Code, r.Combined())
	}
	files = readTar(t, out)
	checkExport(t, files)
	if h, ok := files["capped"]; !ok || h.PAXRecords["SCHILY.xattr.security.capability"] != string(netBindServiceCap()) {
		t.Fatalf("the file capability was not exported: %+v", h)
	}
	if code := apiStatus(t, d, "GET", "/containers/nosuch/export"); code != 404 {
		t.Fatalf("export of a missing container: HTTP %d", code)
	}
}

// exported is one entry of an exported tar, with a regular file's content.
type exported struct {
	*tar.Header
	content string
}

func readTar(t *testing.T, file string) map[string]exported {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]exported{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(h.Name, "/")] = exported{h, string(b)}
	}
}

func checkExport(t *testing.T, files map[string]exported) {
	t.Helper()
	if files["new.txt"].content != "new\n" || !strings.HasSuffix(files["etc/passwd"].content, "x\n") {
		t.Errorf("export lacks the container's files: new.txt %q, passwd %q", files["new.txt"].content, files["etc/passwd"].content)
	}
	for _, name := range []string{"bin/busybox", "var/fresh", "home/d/f", "proc", "data"} {
		if _, ok := files[name]; !ok {
			t.Errorf("export lacks %s", name)
		}
	}
	for name := range files {
		if slices.Contains([]string{"etc/group", "var/www", "data/vol.txt"}, name) || strings.HasPrefix(name, "proc/") || strings.Contains(name, ".wh.") {
			t.Errorf("export holds %s", name)
		}
	}
}

// netBindServiceCap is the security.capability value setcap
// cap_net_bind_service+ep writes (VFS_CAP_REVISION_2, effective).
func netBindServiceCap() []byte {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], 0x02000001)
	binary.LittleEndian.PutUint32(b[4:], 1<<unix.CAP_NET_BIND_SERVICE)
	return b
}

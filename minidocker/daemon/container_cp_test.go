package daemon_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/rootpath"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// ---- no root needed: the resolution and the archive code on a plain dir ----

func mkRoot(t *testing.T) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"etc", "var/lib", "tmp"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "etc/shadow"), []byte("inside\n"), 0o600)
	os.Symlink("/etc/shadow", filepath.Join(dir, "abs"))          // absolute: the container's /etc/shadow
	os.Symlink("../../../../../../etc", filepath.Join(dir, "up")) // climbs: stops at the root
	os.Symlink("/", filepath.Join(dir, "var/lib/rootlink"))       // a directory link to /
	os.Symlink("loop2", filepath.Join(dir, "loop1"))              // a loop
	os.Symlink("loop1", filepath.Join(dir, "loop2"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func TestResolveStaysInside(t *testing.T) {
	_, root := mkRoot(t)
	for _, c := range []struct {
		path   string
		follow bool
		want   string
	}{
		{"/abs", true, "etc/shadow"},
		{"/abs", false, "abs"},
		{"/up/shadow", true, "etc/shadow"},
		{"/up", true, "etc"},
		{"/../../etc/shadow", true, "etc/shadow"},
		{"/var/lib/rootlink/etc/shadow", true, "etc/shadow"},
		{"/var/lib/rootlink/../..", true, "."},
		{"/nosuch/../etc", true, "etc"},
		{"/", true, "."},
	} {
		t.Run(fmt.Sprintf("%s follow=%v", c.path, c.follow), func(t *testing.T) {
			got, err := rootpath.Resolve(root, c.path, c.follow)
			if err != nil || got != c.want {
				t.Errorf("Resolve(%q, %v) = %q, %v; want %q", c.path, c.follow, got, err, c.want)
			}
		})
	}
	if _, err := rootpath.Resolve(root, "/loop1", true); err == nil {
		t.Error("a symlink loop resolved")
	}
}

// ---- as root, end to end ----

func TestCpBothWays(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "cp")
	host := t.TempDir()
	// out of the container: a file into a dir, a file to a new name, a dir, a dir's contents
	toolsRun(t, d, "cp", "cp:/etc/passwd", host+"/")
	toolsRun(t, d, "cp", "cp:/etc/group", host+"/g")
	toolsRun(t, d, "cp", "cp:/etc", host+"/etc-copy")
	toolsRun(t, d, "cp", "cp:/etc/.", host+"/etc-contents")
	toolsRun(t, d, "cp", "cp:/bin/sh", host) // a symlink stays a symlink
	for f, want := range map[string]string{"passwd": "root:", "g": "root:", "etc-copy/passwd": "root:", "etc-contents/group": "root:"} {
		t.Run(f, func(t *testing.T) {
			if b, err := os.ReadFile(filepath.Join(host, f)); err != nil || !strings.HasPrefix(string(b), want) {
				t.Errorf("%s: %q %v", f, b, err)
			}
		})
	}
	if l, err := os.Readlink(filepath.Join(host, "sh")); err != nil || l != "/bin/busybox" {
		t.Errorf("sh: %q %v", l, err)
	}
	// into the container
	os.MkdirAll(filepath.Join(host, "tree/sub"), 0o755)
	os.WriteFile(filepath.Join(host, "tree/sub/f"), []byte("deep\n"), 0o640)
	os.WriteFile(filepath.Join(host, "one"), []byte("one\n"), 0o600)
	toolsRun(t, d, "cp", host+"/one", "cp:/tmp/")
	toolsRun(t, d, "cp", host+"/one", "cp:/tmp/renamed")
	toolsRun(t, d, "cp", host+"/tree", "cp:/root")
	toolsRun(t, d, "cp", host+"/tree", "cp:/newdir")
	got := toolsRun(t, d, "exec", "cp", "sh", "-c", "cat /tmp/one /tmp/renamed /root/tree/sub/f /newdir/sub/f; stat -c %a /tmp/one /newdir/sub/f")
	if got != "one\none\ndeep\ndeep\n600\n640" {
		t.Errorf("files copied in: %q", got)
	}
	// tar streams: `-`
	r := d.CLI("cp", "cp:/etc", "-")
	if r.Code != 0 || !strings.Contains(strings.Join(testutil.TarNames(t, strings.NewReader(r.Stdout)), " "), "etc/passwd") {
		t.Errorf("cp to -: %d %q", r.Code, r.Stderr)
	}
	var in bytes.Buffer
	w := archive.NewWriter(&in)
	w.AddFile("streamed", 0o644, time.Now(), int64(len("data:streamed")), strings.NewReader("data:streamed"))
	w.Close()
	if r := d.CLIInput(in.String(), "cp", "-", "cp:/tmp"); r.Code != 0 {
		t.Errorf("cp from -: %d %q", r.Code, r.Stderr)
	}
	if got := toolsRun(t, d, "exec", "cp", "cat", "/tmp/streamed"); got != "data:streamed" {
		t.Errorf("streamed: %q", got)
	}
	// errors in docker's words
	if r := d.CLI("cp", "cp:/nosuch", host); r.Code != 1 || r.Stderr != "Error response from daemon: Could not find the file /nosuch in container cp\n" {
		t.Errorf("cp of a missing file: %d %q", r.Code, r.Stderr)
	}
	if r := d.CLI("cp", host+"/one", host+"/two"); r.Code != 1 || !strings.Contains(r.Stderr, "must specify at least one container source") {
		t.Errorf("cp without a container: %d %q", r.Code, r.Stderr)
	}
	// a stopped container: the same, through a private mount of its overlay
	toolsRun(t, d, "stop", "-t", "0", "cp")
	toolsRun(t, d, "cp", host+"/one", "cp:/tmp/while-stopped")
	toolsRun(t, d, "cp", "cp:/tmp/while-stopped", host+"/back")
	if b, _ := os.ReadFile(filepath.Join(host, "back")); string(b) != "one\n" {
		t.Errorf("stopped container round trip: %q", b)
	}
	toolsRun(t, d, "start", "cp")
	if got := toolsRun(t, d, "exec", "cp", "cat", "/tmp/while-stopped"); got != "one" {
		t.Errorf("copied while stopped, seen after start: %q", got)
	}
}

// TestCpVolumesOfAStoppedContainer: like docker, cp sees a stopped
// container's volumes where the container would see them.
func TestCpVolumesOfAStoppedContainer(t *testing.T) {
	d := preload.StartDaemon(t)
	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "old"), []byte("in the volume\n"), 0o644)
	toolsRun(t, d, "create", "--name", "vc", "--net", "none", "-v", vol+":/data", "busybox", "sleep", "1000")
	src := filepath.Join(t.TempDir(), "new")
	os.WriteFile(src, []byte("copied in\n"), 0o644)
	toolsRun(t, d, "cp", src, "vc:/data/")
	if b, err := os.ReadFile(filepath.Join(vol, "new")); err != nil || string(b) != "copied in\n" {
		t.Errorf("cp into a stopped container's volume: %q %v", b, err)
	}
	if r := d.CLI("cp", "vc:/data/old", "-"); r.Code != 0 || !strings.Contains(r.Stdout, "in the volume") {
		t.Errorf("cp out of a stopped container's volume: %d %q", r.Code, r.Stderr)
	}
}

// TestCpEtcFilesOfAStoppedContainer: /etc/hosts, /etc/hostname and
// /etc/resolv.conf of a container that ran and stopped are the daemon's
// files that its start bound there, so docker cp reads them as they were,
// not the empty mount points the overlay's upper dir keeps.
func TestCpEtcFilesOfAStoppedContainer(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsRun(t, d, "run", "--name", "ran", "--hostname", "box", "--add-host", "peer:10.1.2.3", "--dns", "10.9.9.9", "busybox", "true")
	for file, want := range map[string]string{"/etc/hostname": "box\n", "/etc/hosts": "10.1.2.3\tpeer", "/etc/resolv.conf": "nameserver 10.9.9.9"} {
		cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "cp", "ran:"+file, "-")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("docker cp ran:%s -: %v", file, err)
		}
		if got := testutil.TarFile(t, bytes.NewReader(b), path.Base(file)); !strings.Contains(got, want) {
			t.Errorf("docker cp ran:%s from the stopped container: %q, want it to hold %q", file, got, want)
		}
	}
}

// TestCpSymlinksNeverLeaveTheContainer: symlinks in the container that
// point at a host file (absolute, and climbing with ../..) are resolved
// inside the container's root, whichever way the copy goes and whether the
// container runs or not.
func TestCpSymlinksNeverLeaveTheContainer(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "evil")
	hostDir := t.TempDir()
	canary := filepath.Join(hostDir, "canary")
	os.WriteFile(canary, []byte("host secret\n"), 0o644)
	up := strings.Repeat("../", 12)
	toolsRun(t, d, "exec", "evil", "sh", "-c",
		"ln -s "+canary+" /abs && ln -s "+up+canary[1:]+" /rel && ln -s "+hostDir+" /absdir && ln -s "+up+hostDir[1:]+" /reldir")
	src := filepath.Join(t.TempDir(), "payload")
	os.WriteFile(src, []byte("overwritten\n"), 0o644)
	out := t.TempDir()
	check := func(when string) {
		t.Helper()
		for _, p := range []string{"/abs", "/rel", "/absdir/canary", "/reldir/canary", "/absdir/", "/reldir/"} {
			for _, cli := range []func(...string) testutil.Result{d.CLI, d.Docker} {
				cli("cp", src, "evil:"+p)
				cli("cp", "-L", "evil:"+p, filepath.Join(out, "x"))
				if r := cli("cp", "evil:"+p, "-"); strings.Contains(r.Stdout, "host secret") {
					t.Errorf("%s: cp evil:%s - read the host file", when, p)
				}
			}
		}
		if b, _ := os.ReadFile(canary); string(b) != "host secret\n" {
			t.Fatalf("%s: the host file was modified: %q", when, b)
		}
		if entries, _ := os.ReadDir(hostDir); len(entries) != 1 {
			t.Fatalf("%s: files appeared in the host dir: %v", when, entries)
		}
		filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), "host secret") {
					t.Errorf("%s: %s holds the host file's content", when, p)
				}
			}
			return nil
		})
	}
	check("running")
	toolsRun(t, d, "stop", "-t", "0", "evil")
	check("stopped")
}

func TestCpDockerCLI(t *testing.T) {
	d := preload.StartDaemon(t)
	toolsSleeper(t, d, "dcp")
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644)
	if r := d.Docker("cp", filepath.Join(host, "in"), "dcp:/tmp/in"); r.Code != 0 {
		t.Fatalf("docker cp in: %d %q", r.Code, r.Stderr)
	}
	if r := d.Docker("cp", "dcp:/tmp/in", filepath.Join(host, "out")); r.Code != 0 {
		t.Fatalf("docker cp out: %d %q", r.Code, r.Stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "out")); string(b) != "from host\n" {
		t.Errorf("round trip through docker cp: %q", b)
	}
	if r := d.Docker("cp", "dcp:/etc", host); r.Code != 0 {
		t.Fatalf("docker cp dir: %d %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(host, "etc", "passwd")); err != nil {
		t.Error(err)
	}
	cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "cp", "dcp:/etc/passwd", "-")
	b, err := cmd.Output()
	if err != nil || !strings.Contains(strings.Join(testutil.TarNames(t, bytes.NewReader(b)), " "), "passwd") {
		t.Errorf("docker cp to -: %v", err)
	}
}

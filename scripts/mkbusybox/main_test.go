package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// busyboxOrSkip finds a static busybox; with CI=true a missing one is a failure
// (scripts/setup-host.sh installs it).
func busyboxOrSkip(t *testing.T) string {
	t.Helper()
	p, err := findBusybox()
	if err == nil {
		if _, err = checkStatic(p, false); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no static busybox on this machine (run scripts/setup-host.sh): %v", err)
	}
	t.Skipf("no static busybox on this machine: %v", err)
	return ""
}

// build runs the command itself (go run would be slow), writing into dir.
func build(t *testing.T, dir string, args ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MKBUSYBOX_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mkbusybox %v: %v\n%s", args, err, out)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("MKBUSYBOX_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestArchive(t *testing.T) {
	bb := busyboxOrSkip(t)
	dir := t.TempDir()
	build(t, dir, "-busybox", bb, "-o", "busybox.tar", "-rootfs-tar", "rootfs.tar")

	tag, err := name.NewTag("busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(filepath.Join(dir, "busybox.tar"), &tag)
	if err != nil {
		t.Fatalf("not a valid docker-archive: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Cmd, " "); got != "sh" || len(cf.Config.Cmd) != 1 {
		t.Errorf("Cmd = %q, want [sh]", cf.Config.Cmd)
	}
	if len(cf.Config.Env) != 1 || cf.Config.Env[0] != DefaultPath {
		t.Errorf("Env = %q, want [%s]", cf.Config.Env, DefaultPath)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if len(cf.History) != 2 || cf.History[0].EmptyLayer || !cf.History[1].EmptyLayer {
		t.Errorf("history = %+v, want one layer entry and one empty CMD entry", cf.History)
	}
	if !cf.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("created = %v, want the Unix epoch", cf.Created.Time)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	if len(cf.RootFS.DiffIDs) != 1 {
		t.Fatalf("diff_ids = %v", cf.RootFS.DiffIDs)
	}
	diffID, _ := layers[0].DiffID()
	if diffID != cf.RootFS.DiffIDs[0] {
		t.Errorf("layer diff_id %s != config %s", diffID, cf.RootFS.DiffIDs[0])
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	layerBytes, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	entries := checkRootfs(t, layerBytes)
	if entries["./bin/sh"].Linkname != "/bin/busybox" || entries["./bin/sh"].Typeflag != tar.TypeSymlink {
		t.Errorf("bin/sh: %+v, want a symlink to /bin/busybox", entries["./bin/sh"])
	}

	rootfs, err := os.ReadFile(filepath.Join(dir, "rootfs.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rootfs, layerBytes) {
		t.Errorf("-rootfs-tar output differs from the image layer")
	}
}

// checkRootfs reads the layer and checks the invariants the fixture has.
func checkRootfs(t *testing.T, b []byte) map[string]*tar.Header {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	entries := map[string]*tar.Header{}
	var order []string
	symlinks := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, "./") {
			t.Errorf("%s: name without ./", h.Name)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q, want numeric 0/0", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if h.Typeflag == tar.TypeSymlink {
			symlinks++
			if h.Linkname != "/bin/busybox" {
				t.Errorf("%s -> %s", h.Name, h.Linkname)
			}
		}
		entries[h.Name] = h
		order = append(order, strings.TrimSuffix(h.Name, "/"))
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("entries not sorted: %q before %q", order[i-1], order[i])
		}
	}
	if symlinks < 100 {
		t.Errorf("only %d applet symlinks", symlinks)
	}
	for _, n := range []string{"./", "./bin/busybox", "./etc/passwd", "./etc/group", "./tmp/", "./root/", "./home/", "./var/", "./proc/", "./sys/", "./dev/"} {
		if entries[n] == nil {
			t.Errorf("missing %s", n)
		}
	}
	if h := entries["./tmp/"]; h != nil && h.Mode&0o7777 != 0o1777 {
		t.Errorf("tmp mode %o, want 1777", h.Mode)
	}
	return entries
}

func TestDeterministic(t *testing.T) {
	bb := busyboxOrSkip(t)
	var ids []string
	var archives [][]byte
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		build(t, dir, "-busybox", bb, "-o", "busybox.tar")
		p := filepath.Join(dir, "busybox.tar")
		img, err := tarball.ImageFromPath(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id.String())
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, b)
		time.Sleep(1100 * time.Millisecond) // a different wall-clock second must not matter
	}
	if ids[0] != ids[1] {
		t.Errorf("image IDs differ: %s vs %s", ids[0], ids[1])
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Errorf("archives differ byte-wise")
	}
}

func TestRejectsDynamicBusybox(t *testing.T) {
	// /bin/ls (coreutils) is dynamically linked on every distribution we support.
	if _, err := checkStatic("/bin/ls", false); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("checkStatic(/bin/ls) = %v, want a dynamically-linked error", err)
	}
}

package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// The docker cp side of the package: extracting into, and writing from, a
// container's root whose symlinks point anywhere.

// apply is archive.Apply for the tests that only care about the error.
func apply(root *os.Root, dir string, r io.Reader, opts archive.ApplyOptions) error {
	_, err := archive.Apply(context.Background(), root, dir, r, opts)
	return err
}

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

func tarOf(t *testing.T, entries ...*tar.Header) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			body = "data:" + h.Name
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return &b
}

func TestApplyInScopeNeverWritesOutside(t *testing.T) {
	outside := t.TempDir()
	canary := filepath.Join(outside, "canary")
	os.WriteFile(canary, []byte("host\n"), 0o644)
	dir, root := mkRoot(t)
	os.Symlink(canary, filepath.Join(dir, "tmp/evil"))                          // absolute, to the host file
	os.Symlink("../../../../../../../"+canary, filepath.Join(dir, "tmp/evil2")) // relative, climbing
	os.Symlink(outside, filepath.Join(dir, "tmp/evildir"))
	opts := archive.ApplyOptions{InScope: true, NoLchown: true}
	// a file over a symlink replaces the symlink
	if err := apply(root, "tmp", tarOf(t, &tar.Header{Name: "evil", Typeflag: tar.TypeReg}, &tar.Header{Name: "evil2", Typeflag: tar.TypeReg}), opts); err != nil {
		t.Fatal(err)
	}
	// through a directory symlink: lands in the container's own path
	if err := apply(root, "tmp", tarOf(t, &tar.Header{Name: "evildir/canary", Typeflag: tar.TypeReg}), opts); err != nil {
		t.Fatal(err)
	}
	// a tar that climbs, or links out and then writes through its own link
	for _, bad := range []*bytes.Buffer{
		tarOf(t, &tar.Header{Name: "../../x", Typeflag: tar.TypeReg}),
		tarOf(t, &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: outside}, &tar.Header{Name: "l/canary", Typeflag: tar.TypeReg}),
		tarOf(t, &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../../" + canary}),
	} {
		apply(root, "tmp", bad, opts) // may fail or land inside; never outside
	}
	if b, _ := os.ReadFile(canary); string(b) != "host\n" {
		t.Fatalf("the host file changed: %q", b)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("files appeared outside: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "tmp/evil")); string(b) != "data:evil" {
		t.Errorf("tmp/evil = %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "tmp/evil")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("tmp/evil is not a regular file now: %v", err)
	}
}

func TestWriteTreeNames(t *testing.T) {
	dir, root := mkRoot(t)
	os.WriteFile(filepath.Join(dir, "var/lib/a"), []byte("a"), 0o644)
	os.Link(filepath.Join(dir, "var/lib/a"), filepath.Join(dir, "var/lib/b"))
	for _, c := range []struct {
		rel, name string
		want      string
	}{
		{"var/lib", "lib", "lib/ lib/a lib/b lib/rootlink"},
		{"var/lib", ".", "./ ./a ./b ./rootlink"},
		{"var/lib", "new", "new/ new/a new/b new/rootlink"},
		{"abs", "abs", "abs"},
	} {
		t.Run(c.rel+" as "+c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := archive.WriteTree(context.Background(), root, c.rel, &b, archive.WriteOptions{Name: c.name}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(testutil.TarNames(t, &b), " "); got != c.want {
				t.Errorf("WriteTree(%s as %s): %s, want %s", c.rel, c.name, got, c.want)
			}
		})
	}
}

package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// topLayer is the newest layer dir of an image.
func topLayer(f *fakeBackend, id string) string { return f.layers[id][0] }

func listTree(t testing.TB, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

func TestCopySemantics(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	cases := []struct {
		name, line string
		want       []string
	}{
		{"file to dir/", "COPY a.txt /dst/", []string{"dst/", "dst/a.txt"}},
		{"file to name", "COPY a.txt /dst/renamed", []string{"dst/", "dst/renamed"}},
		{"file into existing dir", "COPY a.txt /etc", []string{"etc/", "etc/a.txt"}},
		{"dir contents", "COPY dir /d", []string{"d/", "d/f1", "d/sub/", "d/sub/f2"}},
		{"glob", "COPY *.txt /g/", []string{"g/", "g/a.txt", "g/b.txt"}},
		{"glob in dir", "COPY dir/f? /g/", []string{"g/", "g/f1"}},
		{"relative dest", "WORKDIR /w\nCOPY a.txt .", []string{"w/", "w/a.txt"}},
		{"symlink source is followed", "COPY link /l", []string{"l"}},
		{"two sources", "COPY a.txt b.txt /two/", []string{"two/", "two/a.txt", "two/b.txt"}},
		{"dest next to image symlink", "COPY a.txt /bin/sh.txt", []string{"bin/", "bin/sh.txt"}},
		{"dest through image dir symlink", "COPY a.txt /var/run/x", []string{"run/", "run/x"}},
		{"dir dest through image dir symlink", "COPY dir /var/run/d/", []string{"run/", "run/d/", "run/d/f1", "run/d/sub/", "run/d/sub/f2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCtx(t, map[string]string{
				"Dockerfile": "FROM busybox\n" + c.line + "\n",
				"a.txt":      "A", "b.txt": "B", "dir/f1": "1", "dir/sub/f2": "2",
			})
			must(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
			img, out := mustBuild(t, f, dir, Options{})
			got := listTree(t, topLayer(f, img.ID))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("layer %q, want %q\n%s", got, c.want, out)
			}
		})
	}
}

func TestCopyOwnershipAndParents(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	f := newFake(t)
	f.busybox(t)
	dir := writeCtx(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY --chown=bob:staff a.txt /home/bob/\nCOPY --chown=7:8 a.txt /n\nCOPY a.txt /etc/x\n",
		"a.txt":      "A",
	})
	must(t, os.Chown(filepath.Join(dir, "a.txt"), 4242, 4242))
	img, _ := mustBuild(t, f, dir, Options{})
	ls := f.layers[img.ID]
	check := func(layer, p string, uid, gid uint32) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(layer, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s owned %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
	check(ls[2], "home/bob/a.txt", 1000, 50)
	check(ls[2], "home/bob", 1000, 50) // new dirs get the chown identity
	check(ls[1], "n", 7, 8)
	check(ls[0], "etc/x", 0, 0) // context owner is reset to root
	// an existing parent dir is copied up with the image's mode
	fi, _ := os.Stat(filepath.Join(ls[0], "etc"))
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("etc mode %v", fi.Mode())
	}
	dir2 := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY --chown=nobody9 a.txt /\n", "a.txt": "A"})
	if _, _, err := doBuild(t, f, dir2, Options{}); err == nil || !strings.Contains(err.Error(), "unable to convert uid/gid chown string to host mapping") {
		t.Errorf("unknown user: %v", err)
	}
}

func TestCopyCannotEscape(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644))
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY esc/secret /x\n"})
	// a symlink in the context pointing outside is resolved inside the context
	must(t, os.Symlink(outside, filepath.Join(dir, "esc")))
	_, _, err := doBuild(t, f, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "file not found in build context") {
		t.Fatalf("escape via symlink: %v", err)
	}
	// a symlink whose target climbs out with .. is clamped too
	dir2 := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY up /x\n"})
	must(t, os.Symlink("../../../../../../../../etc/passwd", filepath.Join(dir2, "up")))
	if _, _, err := doBuild(t, f, dir2, Options{}); err == nil || !strings.Contains(err.Error(), "stat up: file does not exist") {
		t.Fatalf("escape via ..: %v", err)
	}
}

func makeTar(t testing.TB, gz bool) []byte {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	mt := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	tw.WriteHeader(&tar.Header{Name: "pkg/", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "pkg/bin", Typeflag: tar.TypeReg, Mode: 0o755, Size: 3, ModTime: mt})
	tw.Write([]byte("bin"))
	tw.WriteHeader(&tar.Header{Name: "pkg/link", Typeflag: tar.TypeSymlink, Linkname: "bin", ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "../../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1, ModTime: mt})
	tw.Write([]byte("e"))
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func TestAddTarAndURL(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
		fmt.Fprint(w, "downloaded")
	}))
	defer srv.Close()
	dir := writeCtx(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM busybox\nADD plain.tar /x/\nADD pkg.tgz /y\nADD %s/files/page.txt /dl/\nADD %s/other /named\nCOPY pkg.tgz /z/\n", srv.URL, srv.URL),
	})
	must(t, os.WriteFile(filepath.Join(dir, "plain.tar"), makeTar(t, false), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "pkg.tgz"), makeTar(t, true), 0o644))
	img, out := mustBuild(t, f, dir, Options{})
	ls := f.layers[img.ID]
	if got := strings.Join(listTree(t, ls[4]), " "); got != "x/ x/evil x/pkg/ x/pkg/bin x/pkg/link" {
		t.Errorf("ADD tar: %s\n%s", got, out)
	}
	// "../../evil" is clamped into the destination; nothing lands outside the layer
	if _, err := os.Stat(filepath.Join(filepath.Dir(ls[4]), "evil")); err == nil {
		t.Errorf("tar entry escaped")
	}
	if fi, err := os.Stat(filepath.Join(ls[3], "y/pkg")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("ADD tgz: %v %v", fi, err)
	}
	data, err := os.ReadFile(filepath.Join(ls[2], "dl/page.txt"))
	if err != nil || string(data) != "downloaded" {
		t.Errorf("ADD URL: %q %v", data, err)
	}
	fi, _ := os.Stat(filepath.Join(ls[2], "dl/page.txt"))
	if fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)) {
		t.Errorf("ADD URL mode/mtime: %v %v", fi.Mode(), fi.ModTime())
	}
	if _, err := os.Stat(filepath.Join(ls[1], "named")); err != nil {
		t.Errorf("ADD URL to file name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ls[0], "z/pkg.tgz")); err != nil {
		t.Errorf("COPY must not extract: %v", err)
	}
	// URL errors
	dir2 := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nADD " + srv.URL + "/missing /m\n"})
	if _, _, err := doBuild(t, f, dir2, Options{}); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("404: %v", err)
	}
}

func TestWorkdirLayer(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nWORKDIR /etc\nWORKDIR /new/deep\n"})
	img, out := mustBuild(t, f, dir, Options{})
	h := img.Config.History
	if !h[1].EmptyLayer || h[2].EmptyLayer || len(img.Config.RootFS.DiffIDs) != 2 {
		t.Errorf("existing WORKDIR must be empty_layer, missing one a layer: %+v", h)
	}
	if got := strings.Join(listTree(t, topLayer(f, img.ID)), " "); got != "new/ new/deep/" {
		t.Errorf("workdir layer %s", got)
	}
	if strings.Count(out, "Running in") != 2 {
		t.Errorf("WORKDIR shows intermediate containers:\n%s", out)
	}
}

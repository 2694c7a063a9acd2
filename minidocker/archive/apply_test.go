package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"golang.org/x/sys/unix"
)

// unpackLayer is Apply as the image store calls it for a layer.
func unpackLayer(r io.Reader, dir string) (int, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	return Apply(context.Background(), root, ".", r, ApplyOptions{OverlayWhiteouts: true})
}

func isOpaquePath(t *testing.T, p string) bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return isOpaque(f)
}

// ent is one tar entry for the hostile-layer tables.
type ent struct {
	name, link string
	typ        byte
	mode       int64
	body       string
	uid, gid   int
	major      int64
	minor      int64
	mtime      time.Time
}

func reg(name, body string) ent { return ent{name: name, typ: tar.TypeReg, mode: 0o644, body: body} }
func dir(name string) ent       { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: to, mode: 0o777}
}
func hardlink(name, to string) ent { return ent{name: name, typ: tar.TypeLink, link: to} }

func mkTar(t testing.TB, ents ...ent) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		mt := e.mtime
		if mt.IsZero() {
			mt = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), Devmajor: e.major, Devminor: e.minor, ModTime: mt, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return b.Bytes()
}

// snapshot lists every path under root except skip, with a content digest
// for files and the link target for symlinks.
func snapshot(t *testing.T, root, skip string) map[string]string {
	m := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p == skip {
			return filepath.SkipDir
		}
		fi, _ := os.Lstat(p)
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			v += ":" + string(b)
		} else if fi.Mode()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			v += "->" + l
		}
		m[p] = v
		return nil
	})
	return m
}

func randName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "minidocker-hostile-" + hex.EncodeToString(b)
}

// hostileLayer is one case of the hostile-layer table: its entries,
// whether Apply must refuse them, and what must hold when it does not.
type hostileLayer struct {
	name    string
	ents    []ent
	wantErr bool
	check   func(t *testing.T, layer string)
}

// hostileLayers is the table TestUnpackHostile runs and FuzzApply starts
// from: path traversal, symlink and hardlink escapes, whiteouts, device
// nodes and more. Names of absolute entries are random, so a broken Apply
// could not hit a real file.
func hostileLayers() []hostileLayer {
	abs := randName()
	absDir := filepath.Join(os.TempDir(), randName())
	return []hostileLayer{
		{name: "dotdot name", ents: []ent{reg("../escape", "x")}, wantErr: true},
		{name: "dotdot in the middle", ents: []ent{reg("a/../../escape", "x")}, wantErr: true},
		{name: "dotdot dir", ents: []ent{dir("../escdir/")}, wantErr: true},
		{name: "absolute name lands inside", ents: []ent{reg("/"+abs, "x")}, check: func(t *testing.T, layer string) {
			if _, err := os.Stat("/" + abs); err == nil {
				t.Error("written at /")
			}
			assertFile(t, filepath.Join(layer, abs), "x")
		}},
		{name: "absolute dir name lands inside", ents: []ent{reg(absDir+"/f", "x")}, check: func(t *testing.T, layer string) {
			if _, err := os.Stat(absDir); err == nil {
				t.Error("written outside")
			}
			assertFile(t, filepath.Join(layer, absDir, "f"), "x")
		}},
		{name: "symlink to parent then write through it", ents: []ent{symlink("link", "../outside"), reg("link/pwned", "x")}, wantErr: true},
		{name: "symlink ../.. then write", ents: []ent{dir("d/"), symlink("d/l", "../../.."), reg("d/l/pwned", "x")}, wantErr: true},
		{name: "absolute symlink then write", ents: []ent{symlink("abs", "/"), reg("abs/"+abs, "x")}, wantErr: true},
		{name: "absolute symlink to outside dir then write", ents: []ent{symlinkTo("out", "outside"), reg("out/pwned", "x")}, wantErr: true},
		{name: "symlink to outside file then same-name file replaces the link", ents: []ent{symlinkTo("v", "outside/victim"), reg("v", "mine")}, check: func(t *testing.T, layer string) {
			assertFile(t, filepath.Join(layer, "v"), "mine")
		}},
		{name: "symlink to outside file then hardlink to it", ents: []ent{symlinkTo("s", "outside/victim"), hardlink("h", "s"), reg("h", "mine")}},
		{name: "hardlink to outside by dotdot", ents: []ent{hardlink("h", "../outside/victim")}, wantErr: true},
		{name: "hardlink to absolute path is inside (and missing)", ents: []ent{hardlink("h", "/etc/passwd")}, wantErr: true},
		{name: "hardlink through symlinked dir", ents: []ent{symlinkTo("o", "outside"), hardlink("h", "o/victim")}, wantErr: true},
		{name: "symlink parent planted, then dir entry under it", ents: []ent{symlink("p", "../outside"), dir("p/sub/")}, wantErr: true},
		{name: "whiteout pointing outside", ents: []ent{reg("../outside/.wh.victim", "")}, wantErr: true},
		{name: "whiteout through symlink", ents: []ent{symlink("w", "../outside"), reg("w/.wh.victim", "")}, wantErr: true},
		{name: "opaque through symlink", ents: []ent{symlink("w", "../outside"), reg("w/.wh..wh..opq", "")}, wantErr: true},
		{name: "device node", ents: []ent{{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3}}, check: func(t *testing.T, layer string) {
			if os.Geteuid() != 0 {
				return
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(layer, "dev/null"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
				t.Errorf("dev/null: mode %o rdev %d:%d", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
			}
		}},
		{name: "duplicate entries, later wins", ents: []ent{reg("f", "one"), reg("f", "two"), reg("g", "file"), dir("g/"), reg("g/in", "x"), dir("h/"), reg("h/a", "x"), reg("h", "file now")}, check: func(t *testing.T, layer string) {
			assertFile(t, filepath.Join(layer, "f"), "two")
			assertFile(t, filepath.Join(layer, "g/in"), "x")
			assertFile(t, filepath.Join(layer, "h"), "file now")
		}},
		{name: "setuid bits", ents: []ent{{name: "bin/su", typ: tar.TypeReg, mode: 0o4755, uid: 1000, gid: 1000, body: "#!"}, {name: "tmp/", typ: tar.TypeDir, mode: 0o1777}, {name: "g", typ: tar.TypeReg, mode: 0o2711, body: "g"}}, check: func(t *testing.T, layer string) {
			fi, _ := os.Lstat(filepath.Join(layer, "bin/su"))
			if fi.Mode()&fs.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
				t.Errorf("bin/su mode %v", fi.Mode())
			}
			if os.Geteuid() == 0 {
				if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1000 {
					t.Errorf("owner %d:%d", st.Uid, st.Gid)
				}
			}
			fi, _ = os.Lstat(filepath.Join(layer, "tmp"))
			if fi.Mode()&fs.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
				t.Errorf("tmp mode %v", fi.Mode())
			}
			fi, _ = os.Lstat(filepath.Join(layer, "g"))
			if fi.Mode()&fs.ModeSetgid == 0 {
				t.Errorf("g mode %v", fi.Mode())
			}
		}},
		{name: "hardlink inside the layer", ents: []ent{reg("a", "data"), hardlink("b", "a"), hardlink("/c", "/a")}, check: func(t *testing.T, layer string) {
			a, _ := os.Stat(filepath.Join(layer, "a"))
			b, _ := os.Stat(filepath.Join(layer, "b"))
			c, _ := os.Stat(filepath.Join(layer, "c"))
			if !os.SameFile(a, b) || !os.SameFile(a, c) {
				t.Error("not the same inode")
			}
		}},
		{name: "symlink mtime and dir mtime kept", ents: []ent{
			{name: "d/", typ: tar.TypeDir, mode: 0o755, mtime: time.Unix(1000, 0)},
			{name: "d/f", typ: tar.TypeReg, mode: 0o644, body: "x", mtime: time.Unix(2000, 0)},
			{name: "d/l", typ: tar.TypeSymlink, link: "/nowhere", mtime: time.Unix(3000, 0)}}, check: func(t *testing.T, layer string) {
			for p, want := range map[string]int64{"d": 1000, "d/f": 2000, "d/l": 3000} {
				t.Run(p, func(t *testing.T) {
					fi, err := os.Lstat(filepath.Join(layer, p))
					if err != nil || fi.ModTime().Unix() != want {
						t.Errorf("%s mtime %v (err %v), want %d", p, fi.ModTime(), err, want)
					}
				})
			}
		}},
		{name: "whiteout of a dir then re-adding under it (same layer)", ents: []ent{reg("d/old", "x"), reg("d/.wh..wh..opq", ""), reg(".wh.d", ""), reg("d/new", "y")}, check: func(t *testing.T, layer string) {
			assertFile(t, filepath.Join(layer, "d/new"), "y")
			if _, err := os.Lstat(filepath.Join(layer, "d/old")); err == nil {
				t.Error("d/old survived")
			}
			if os.Geteuid() == 0 && !isOpaquePath(t, filepath.Join(layer, "d")) {
				t.Error("re-created dir is not opaque")
			}
		}},
		{name: "root entry and ./ names", ents: []ent{{name: "./", typ: tar.TypeDir, mode: 0o755}, reg("./etc/x", "1")}, check: func(t *testing.T, layer string) {
			assertFile(t, filepath.Join(layer, "etc/x"), "1")
		}},
	}
}

// TestUnpackHostile feeds hostile layers (issue 3's list and more) to
// Unpack and checks that nothing outside the layer directory changes,
// whether the layer is refused or not.
func TestUnpackHostile(t *testing.T) {
	cases := hostileLayers()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sandbox := t.TempDir()
			layer := filepath.Join(sandbox, "layer")
			os.MkdirAll(filepath.Join(sandbox, "outside"), 0o755)
			os.WriteFile(filepath.Join(sandbox, "outside", "victim"), []byte("original"), 0o644)
			os.Mkdir(layer, 0o755)
			before := snapshot(t, sandbox, layer)
			ents := make([]ent, len(c.ents))
			for i, e := range c.ents {
				e.link = strings.ReplaceAll(e.link, "@SANDBOX@", sandbox)
				ents[i] = e
			}
			_, err := unpackLayer(bytes.NewReader(mkTar(t, ents...)), layer)
			if c.wantErr && err == nil {
				t.Error("hostile layer accepted")
			}
			if !c.wantErr && err != nil {
				t.Errorf("unpack: %v", err)
			}
			if err != nil {
				t.Logf("error: %v", err)
			}
			after := snapshot(t, sandbox, layer)
			if !equalMaps(before, after) {
				t.Errorf("outside the layer changed:\nbefore %v\nafter  %v", before, after)
			}
			if c.check != nil && err == nil {
				c.check(t, layer)
			}
		})
	}
}

// symlinkTo makes an absolute symlink into the test's sandbox.
func symlinkTo(name, rel string) ent { return symlink(name, "@SANDBOX@/"+rel) }

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func assertFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	if string(b) != want {
		t.Errorf("%s = %q, want %q", p, b, want)
	}
}

func TestUnpackTruncatedAndGzip(t *testing.T) {
	data := mkTar(t, reg("a", strings.Repeat("x", 5000)), reg("b", "y"))
	if _, err := unpackLayer(bytes.NewReader(data[:3000]), t.TempDir()); err == nil {
		t.Error("truncated layer accepted")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	d := t.TempDir()
	if _, err := unpackLayer(bytes.NewReader(gz.Bytes()), d); err != nil {
		t.Fatal(err)
	}
	assertFile(t, filepath.Join(d, "b"), "y")
	if _, err := unpackLayer(bytes.NewReader(gz.Bytes()[:gz.Len()/2]), t.TempDir()); err == nil {
		t.Error("truncated gzip layer accepted")
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	testutil.RequireRoot(t)
	d := t.TempDir()
	_, err := unpackLayer(bytes.NewReader(mkTar(t, dir("bin/"), reg("bin/.wh.vi", ""), dir("app/conf/"), reg("app/conf/.wh..wh..opq", ""), reg("app/conf/new.conf", "n"))), d)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(d, "bin/vi"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("bin/vi is not a whiteout: %v %o", err, st.Mode)
	}
	if !isOpaquePath(t, filepath.Join(d, "app/conf")) {
		t.Error("app/conf not opaque")
	}
	if _, err := os.Lstat(filepath.Join(d, "bin/.wh.vi")); err == nil {
		t.Error(".wh. file kept")
	}
}

func TestOverlayMergedView(t *testing.T) {
	testutil.RequireRoot(t)
	layers := [][]ent{
		{reg("a/x", "1"), reg("a/y", "2"), reg("d/sub/f", "3"), reg("keep", "k"), reg("conf/a.conf", "a"), reg("conf/sub/b.conf", "b")},
		{reg(".wh.d", ""), reg("a/.wh.y", ""), dir("conf/"), reg("conf/.wh..wh..opq", ""), reg("conf/new.conf", "n")}, // middle: whiteouts and an opaque dir
		{reg("d/new", "again"), reg("conf/top.conf", "t")},                                                            // re-adding under the whited-out dir
	}
	var dirs []string
	for _, l := range layers {
		d := t.TempDir()
		if _, err := unpackLayer(bytes.NewReader(mkTar(t, l...)), d); err != nil {
			t.Fatal(err)
		}
		dirs = append([]string{d}, dirs...)
	}
	m := testutil.MountOverlay(t, dirs)
	for p, want := range map[string]string{"": "a,conf,d,keep", "a": "x", "d": "new", "conf": "new.conf,top.conf"} {
		t.Run("/"+p, func(t *testing.T) {
			if got := testutil.ListDir(t, filepath.Join(m, p)); got != want {
				t.Errorf("/%s = %s, want %s", p, got, want)
			}
		})
	}
	assertFile(t, filepath.Join(m, "d/new"), "again")
}

// TestUnpackRandomHostile throws random mixes of hostile and ordinary
// entries at Unpack: whatever it accepts or refuses, the sandbox around the
// layer directory must stay the same.
func TestUnpackRandomHostile(t *testing.T) {
	names := []string{"a", "a/b", "../x", "/abs", "l", "l/x", "l/../x", "d/", "d/l", "d/l/y", ".wh.a", "a/.wh..wh..opq", "./a/./b", "lnk", "lnk/deep/er"}
	targets := []string{"../outside", "../../", "/", "@SANDBOX@/outside", "@SANDBOX@/outside/victim", "a", ".", "d/..", "../outside/victim"}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	next := func(n int) int {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(n))
	}
	for round := 0; round < 200; round++ {
		var ents []ent
		for i := 0; i < 2+next(6); i++ {
			n := strings.TrimSuffix(names[next(len(names))], "/")
			switch next(5) {
			case 0:
				ents = append(ents, reg(n, "x"))
			case 1:
				ents = append(ents, dir(n+"/"))
			case 2:
				ents = append(ents, symlink(n, targets[next(len(targets))]))
			case 3:
				ents = append(ents, hardlink(n, targets[next(len(targets))]))
			case 4:
				ents = append(ents, reg(n+"/f", "y"))
			}
		}
		sandbox := t.TempDir()
		layer := filepath.Join(sandbox, "layer")
		os.MkdirAll(filepath.Join(sandbox, "outside"), 0o755)
		os.WriteFile(filepath.Join(sandbox, "outside", "victim"), []byte("original"), 0o644)
		os.Mkdir(layer, 0o755)
		before := snapshot(t, sandbox, layer)
		for i := range ents {
			ents[i].link = strings.ReplaceAll(ents[i].link, "@SANDBOX@", sandbox)
		}
		unpackLayer(bytes.NewReader(mkTar(t, ents...)), layer)
		if after := snapshot(t, sandbox, layer); !equalMaps(before, after) {
			t.Fatalf("round %d %+v: outside changed:\n%v\n%v", round, ents, before, after)
		}
		if _, err := os.Lstat("/abs"); err == nil {
			t.Fatal("/abs written")
		}
	}
}

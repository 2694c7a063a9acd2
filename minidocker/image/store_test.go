package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{
		"nginx:alpine":                "docker.io/library/nginx:alpine",
		"busybox":                     "docker.io/library/busybox:latest",
		"user/app":                    "docker.io/user/app:latest",
		"localhost:5000/busybox":      "localhost:5000/busybox:latest",
		"127.0.0.1:5000/a/b:v1":       "127.0.0.1:5000/a/b:v1",
		"docker.io/library/busybox:1": "docker.io/library/busybox:1",
		"busybox@sha256:" + strings.Repeat("a", 64): "docker.io/library/busybox@sha256:" + strings.Repeat("a", 64),
	} {
		t.Run(in, func(t *testing.T) {
			r, err := ParseReference(in)
			if err != nil {
				t.Errorf("%s: %v", in, err)
				return
			}
			if r.String() != want {
				t.Errorf("%s → %s, want %s", in, r, want)
			}
		})
	}
	for in, want := range map[string]string{
		"docker.io/library/busybox:latest": "busybox:latest",
		"localhost:5000/busybox":           "localhost:5000/busybox:latest",
		"user/app:v1":                      "user/app:v1",
	} {
		t.Run(in, func(t *testing.T) {
			r, _ := ParseReference(in)
			if got := FamiliarString(r); got != want {
				t.Errorf("familiar %s = %s, want %s", in, got, want)
			}
		})
	}
	for in, want := range map[string]string{
		"Busybox":      "invalid reference format: repository name (library/Busybox) must be lowercase",
		"busy box":     "invalid reference format",
		"busybox:":     "invalid reference format",
		":tag":         "invalid reference format",
		"a@sha256:abc": "invalid reference format",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseReference(in)
			if err == nil || err.Error() != want || !errdefs.IsInvalid(err) {
				t.Errorf("%q: %v, want %q", in, err, want)
			}
		})
	}
}

func rootfsTar(t *testing.T) []byte {
	var b bytes.Buffer
	w := archive.NewWriter(&b)
	now := time.Unix(1700000000, 0) // fixed: the same call must give the same bytes
	for _, d := range []string{"./", "./bin/", "./etc/"} {
		w.AddDir(d, 0o755, now)
	}
	w.AddFile("./bin/sh", 0o755, now, 6, strings.NewReader("#!fake"))
	passwd := "root:x:0:0::/root:/bin/sh\n"
	w.AddFile("./etc/passwd", 0o644, now, int64(len(passwd)), strings.NewReader(passwd))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// assertFile checks that file p holds want.
func assertFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != want {
		t.Errorf("%s = %q (%v), want %q", p, b, err, want)
	}
}

func TestFixtureOverlayView(t *testing.T) {
	testutil.RequireRoot(t)
	s := newStore(t)
	loadFixture(t, s)
	dirs, err := s.LayerDirs("fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	m := testutil.MountOverlay(t, dirs)
	if _, err := os.Lstat(filepath.Join(m, "bin/vi")); err == nil {
		t.Error("/bin/vi still there")
	}
	if _, err := os.Lstat(filepath.Join(m, "bin/busybox")); err != nil {
		t.Error(err)
	}
	if got := testutil.ListDir(t, filepath.Join(m, "app/conf")); got != "new.conf" {
		t.Errorf("/app/conf = %s", got)
	}
	assertFile(t, filepath.Join(m, "app/conf/new.conf"), "recreated (plain)\n")
	if l, _ := os.Readlink(filepath.Join(m, "app/hello.symlink")); l != "/app/hello.txt" {
		t.Errorf("symlink -> %q", l)
	}
	top := dirs[0]
	a, _ := os.Stat(filepath.Join(top, "app/hello.txt"))
	b, _ := os.Stat(filepath.Join(top, "app/hello.hardlink"))
	if !os.SameFile(a, b) {
		t.Error("hardlink lost in the top layer")
	}
	fi, _ := os.Stat(filepath.Join(m, "bin/busybox"))
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("busybox mode %v", fi.Mode())
	}
}

func TestImportTagRemove(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), "busybox", []string{`CMD ["sh"]`, "ENV PATH=/bin A=\"x y\"", "WORKDIR /root", "ENTRYPOINT /bin/sh", "EXPOSE 80 53/udp", `LABEL minidocker.peer=busybox "b c"=d`, "USER nobody"}, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config("busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if strings.Join(c.Cmd, " ") != "sh" || strings.Join(c.Env, ",") != "PATH=/bin,A=x y" || c.WorkingDir != "/root" ||
		strings.Join(c.Entrypoint, "|") != "/bin/sh|-c|/bin/sh" || len(c.ExposedPorts) != 2 || c.Labels["b c"] != "d" || c.User != "nobody" {
		t.Errorf("config %+v", c)
	}
	if len(cfg.History) != 1 || cfg.History[0].Comment != "Imported from -" {
		t.Errorf("history %+v", cfg.History)
	}
	// importing the same tar again gives the same layer
	id2, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), "", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := s.Config(id)
	c2, _ := s.Config(id2)
	if c1.RootFS.DiffIDs[0] != c2.RootFS.DiffIDs[0] {
		t.Error("same tar, different diffID")
	}
	if _, err := s.Import(ctx, bytes.NewReader(rootfsTar(t)), "x", []string{"RUN true"}, ""); err == nil || err.Error() != "RUN is not a valid change command" {
		t.Errorf("bad change: %v", err)
	}

	// tag = alias with the same ID
	if err := s.Tag("busybox", "localhost:5000/busybox"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("busybox", "Bad"); err == nil {
		t.Error("bad tag accepted")
	}
	if err := s.Tag("nosuch", "x"); err == nil || err.Error() != "No such image: nosuch:latest" || !errdefs.IsNotFound(err) {
		t.Errorf("tag of missing: %v", err)
	}
	list, _ := s.List(false)
	if len(list) != 2 {
		t.Fatalf("list %+v", list)
	}
	var tagged = list[0]
	if len(tagged.RepoTags) == 0 {
		tagged = list[1]
	}
	if strings.Join(tagged.RepoTags, ",") != "busybox:latest,localhost:5000/busybox:latest" || tagged.ID != id {
		t.Errorf("tags %v", tagged.RepoTags)
	}

	// rmi by ID with two repositories needs force
	if _, err := s.Remove(id, RemoveOptions{}); err == nil || !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "must be forced") {
		t.Errorf("rmi id: %v", err)
	}
	// rmi name: untag only
	out, err := s.Remove("localhost:5000/busybox", RemoveOptions{})
	if err != nil || len(out) != 1 || out[0].Untagged != "localhost:5000/busybox:latest" {
		t.Errorf("untag: %+v %v", out, err)
	}
	// a container uses it: last name goes only with force
	inUse := ImagesInUse{id: {ContainerID: "0123456789abcdef"}}
	if _, err := s.Remove("busybox", RemoveOptions{InUse: inUse}); err == nil || !strings.Contains(err.Error(), "container 0123456789ab is using its referenced image") {
		t.Errorf("in use: %v", err)
	}
	// last name: untag and delete, layers too
	out, err = s.Remove("busybox", RemoveOptions{})
	if err != nil || len(out) < 2 || out[0].Untagged != "busybox:latest" || out[1].Deleted != id {
		t.Errorf("rmi: %+v %v", out, err)
	}
	// the layer is still used by id2
	if !s.HasLayer(c1.RootFS.DiffIDs[0].String()) {
		t.Error("shared layer removed")
	}
	out, err = s.Remove(id2[7:19], RemoveOptions{})
	if err != nil || len(out) != 2 || out[0].Deleted != id2 || out[1].Deleted != c1.RootFS.DiffIDs[0].String() {
		t.Errorf("rmi last: %+v %v", out, err)
	}
	if s.HasLayer(c1.RootFS.DiffIDs[0].String()) {
		t.Error("unused layer kept")
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "blobs", "sha256")); len(ents) != 0 {
		t.Errorf("blobs left: %d", len(ents))
	}
	// nor the layer's lock file (issue 10, finding 8)
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "layers")); len(ents) != 0 {
		t.Errorf("left in layers/ after the last image went: %v", ents)
	}
	if _, err := s.Inspect("busybox"); !errdefs.IsNotFound(err) {
		t.Errorf("inspect after rmi: %v", err)
	}
}

func TestReopenKeepsState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "image")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	loadFixture(t, s)
	// a crash mid-unpack leaves junk in tmp/ and a half layer dir
	os.MkdirAll(filepath.Join(dir, "tmp", "layer-123", "diff", "x"), 0o755)
	os.MkdirAll(filepath.Join(dir, "layers", strings.Repeat("ab", 32), "diff"), 0o755)
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Inspect("fixture:v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp", "layer-123")); err == nil {
		t.Error("tmp not cleaned")
	}
	if _, err := os.Stat(filepath.Join(dir, "layers", strings.Repeat("ab", 32))); err == nil {
		t.Error("half layer kept")
	}
	if d, err := s2.LayerDirs("fixture:v1"); err != nil || len(d) != 7 {
		t.Error(d, err)
	}
}

// TestCommitLayer runs a container-like overlay (fixture lowerdirs + an
// upper dir), changes files, commits the upperdir and checks the new
// layer has the whiteouts and the opaque marker, and that the new image
// shows the same merged view.
func TestCommitLayer(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	loadFixture(t, s)
	lower, _ := s.LayerDirs("fixture:v1")
	base := t.TempDir()
	upper, work, merged := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, work, merged} {
		os.Mkdir(d, 0o755)
	}
	if err := unix.Mount("overlay", merged, "overlay", 0, "lowerdir="+strings.Join(lower, ":")+",upperdir="+upper+",workdir="+work); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(merged, "etc/group"))
	os.RemoveAll(filepath.Join(merged, "app"))
	os.MkdirAll(filepath.Join(merged, "app"), 0o755)
	os.WriteFile(filepath.Join(merged, "app/only.txt"), []byte("only"), 0o644)
	os.WriteFile(filepath.Join(merged, "etc/motd"), []byte("hi"), 0o600)
	os.Chmod(filepath.Join(merged, "etc/motd"), os.ModeSetuid|0o600)
	unix.Unmount(merged, 0)

	var buf bytes.Buffer
	if err := DiffUpperDir(ctx, upper, &buf, nil); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		names[h.Name] = true
		if h.Name == "etc/motd" && h.Mode&0o4000 == 0 {
			t.Error("setuid lost")
		}
	}
	for _, n := range []string{"etc/.wh.group", "app/.wh..wh..opq", "app/only.txt", "etc/motd"} {
		if !names[n] {
			t.Errorf("diff lacks %s (has %v)", n, names)
		}
	}

	parent, _ := s.Resolve("fixture:v1")
	id, err := s.CommitLayer(ctx, parent, upper, CommitOptions{CreatedBy: "/bin/sh -c change", Config: mustConfig(t, s, parent)})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.CommitLayer(ctx, id, "", CommitOptions{CreatedBy: "/bin/sh -c #(nop)  ENV X=1", Config: mustConfig(t, s, parent)})
	if err != nil {
		t.Fatal(err)
	}
	hist, _ := s.History(id2)
	if hist[0].ID != id2 || hist[1].ID != id || hist[2].ID != parent || hist[0].Size != 0 || hist[1].Size == 0 {
		t.Errorf("history %+v", hist[:3])
	}
	dirs, _ := s.LayerDirs(id2)
	if len(dirs) != 8 {
		t.Fatalf("%d layers", len(dirs))
	}
	m := testutil.MountOverlay(t, dirs)
	if got := testutil.ListDir(t, filepath.Join(m, "app")); got != "only.txt" {
		t.Errorf("/app = %s", got)
	}
	if _, err := os.Lstat(filepath.Join(m, "etc/group")); err == nil {
		t.Error("/etc/group back")
	}
	assertFile(t, filepath.Join(m, "etc/motd"), "hi")
	// deleting the child keeps the parent (tagged); deleting both cleans the new layer
	out, err := s.Remove(id2, RemoveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].Deleted != id2 || out[1].Deleted != id {
		t.Errorf("rmi chain: %+v", out)
	}
}

func mustConfig(t *testing.T, s *Store, id string) (c ImageConfigRuntime) {
	cfg, err := s.Config(id)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Config
}

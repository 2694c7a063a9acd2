package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"golang.org/x/sys/unix"
)

// fixturePath is the path of one file of the real docker's reference
// output (testdata/docker, made by scripts/mkfixtures; MINIDOCKER_FIXTURES
// points elsewhere). The fixtures are part of the repository, so a missing
// one fails the test.
func fixturePath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("MINIDOCKER_FIXTURES")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(), "testdata", "docker")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v (remake the fixtures with scripts/mkfixtures)", name, err)
	}
	return p
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "image"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadFixture(t *testing.T, s *Store) []string {
	t.Helper()
	f, err := os.Open(fixturePath(t, "fixture-v1.docker-save.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := s.Load(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

type fixtureInspect struct {
	Id       string
	RepoTags []string
	Size     int64
	Created  string
	Author   string
	RootFS   struct{ Layers []string }
}

func readFixtureInspect(t *testing.T) fixtureInspect {
	b, err := os.ReadFile(fixturePath(t, "image-inspect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v []fixtureInspect
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v[0]
}

func TestLoadFixture(t *testing.T) {
	s := newStore(t)
	lines := loadFixture(t, s)
	if strings.Join(lines, "\n") != "Loaded image: fixture:v1" {
		t.Fatalf("lines = %q", lines)
	}
	want := readFixtureInspect(t)
	got, err := s.Inspect("fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.Id {
		t.Errorf("ID %s, want %s", got.ID, want.Id)
	}
	if strings.Join(got.RootFS.Layers, ",") != strings.Join(want.RootFS.Layers, ",") {
		t.Errorf("layers %v, want %v", got.RootFS.Layers, want.RootFS.Layers)
	}
	if got.Created != want.Created || got.Author != want.Author {
		t.Errorf("created/author %q %q, want %q %q", got.Created, got.Author, want.Created, want.Author)
	}
	if strings.Join(got.RepoTags, ",") != "fixture:v1" {
		t.Errorf("RepoTags %v", got.RepoTags)
	}
	if os.Geteuid() == 0 && got.Size != want.Size {
		t.Errorf("Size %d, want %d (docker's)", got.Size, want.Size)
	}
	if _, err := s.Inspect("docker.io/library/fixture:v1"); err != nil {
		t.Error(err)
	}
	if _, err := s.Inspect(want.Id[7:19]); err != nil {
		t.Errorf("short id: %v", err)
	}
	dirs, err := s.LayerDirs("fixture:v1")
	if err != nil || len(dirs) != 7 {
		t.Fatalf("LayerDirs %v %v", dirs, err)
	}
	if base := strings.TrimPrefix(want.RootFS.Layers[0], "sha256:"); !strings.Contains(dirs[6], base) {
		t.Errorf("bottom layer last: %v", dirs)
	}
	if _, err := os.Stat(filepath.Join(dirs[6], "bin", "busybox")); err != nil {
		t.Error(err)
	}
	// loading again is a no-op with the same answer
	if again := loadFixture(t, s); strings.Join(again, "\n") != "Loaded image: fixture:v1" {
		t.Fatalf("again: %q", again)
	}
	hist, err := s.History("fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 18 || hist[0].ID != want.Id || hist[1].ID != "<missing>" || hist[17].Comment != "Imported from -" {
		t.Errorf("history: %d entries, %+v", len(hist), hist[0])
	}
	if os.Geteuid() == 0 && hist[6].Size != 51 {
		t.Errorf("hardlink/symlink layer size %d, want 51", hist[6].Size)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := newStore(t)
	loadFixture(t, s)
	want := readFixtureInspect(t)
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{"fixture:v1"}); err != nil {
		t.Fatal(err)
	}
	// the archive has both layouts
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	for _, n := range []string{"manifest.json", "index.json", "oci-layout", "repositories", "blobs/sha256/" + want.Id[7:]} {
		if !names[n] {
			t.Errorf("missing %s in saved tar", n)
		}
	}
	// same bytes when saved twice
	var buf2 bytes.Buffer
	if err := s.Save(context.Background(), &buf2, []string{"fixture"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Error("two saves differ")
	}

	s2 := newStore(t)
	lines, err := s2.Load(context.Background(), bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "\n") != "Loaded image: fixture:v1" {
		t.Fatalf("lines %q", lines)
	}
	got, err := s2.Inspect("fixture:v1")
	if err != nil || got.ID != want.Id {
		t.Fatalf("round trip: %v %v", got, err)
	}

	// OCI layout only (drop manifest.json): still loads, same ID
	oci := rewriteTar(t, buf.Bytes(), func(name string) bool { return name != "manifest.json" && name != "repositories" })
	s3 := newStore(t)
	lines, err = s3.Load(context.Background(), bytes.NewReader(oci), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "\n") != "Loaded image: fixture:v1" {
		t.Fatalf("oci lines %q", lines)
	}
}

func rewriteTar(t *testing.T, in []byte, keep func(string) bool) []byte {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(in))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !keep(h.Name) {
			continue
		}
		tw.WriteHeader(h)
		io.Copy(tw, tr)
	}
	tw.Close()
	return out.Bytes()
}

func TestLoadBadInput(t *testing.T) {
	raw, err := os.ReadFile(fixturePath(t, "fixture-v1.docker-save.tar"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":                nil,
		"not a tar":            []byte(strings.Repeat("hello, this is not a tar\n", 100)),
		"truncated":            raw[:len(raw)/2],
		"truncated at the end": raw[:len(raw)-1500],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Load(context.Background(), bytes.NewReader(data), nil)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if l, _ := s.List(true); len(l) != 0 {
				t.Errorf("images stored: %v", l)
			}
			ents, _ := os.ReadDir(filepath.Join(s.Root(), "layers"))
			for _, e := range ents {
				if e.IsDir() {
					t.Errorf("layer left: %s", e.Name())
				}
			}
			// and then the real thing works
			loadFixture(t, s)
		})
	}
}

// TestHistoryMatchesDocker compares `docker history --no-trunc` of the
// fixture (IDs where docker knew them locally are "<missing>" for us, since
// the save tar has no parent chain) with our History: order, CREATED BY,
// SIZE as the CLI prints it, COMMENT.
func TestHistoryMatchesDocker(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sizes need the whiteouts, which need root to be exact") // (mknod of 0/0 works unprivileged, but keep it simple)
	}
	raw, err := os.ReadFile(fixturePath(t, "history.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	hdr := lines[0]
	cb, sz, cm := strings.Index(hdr, "CREATED BY"), strings.Index(hdr, "SIZE"), strings.Index(hdr, "COMMENT")
	s := newStore(t)
	loadFixture(t, s)
	hist, err := s.History("fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(lines)-1 {
		t.Fatalf("%d entries, docker has %d", len(hist), len(lines)-1)
	}
	for i, l := range lines[1:] {
		h := hist[i]
		wantBy := strings.TrimSpace(l[cb:sz])
		wantSize := strings.TrimSpace(l[sz:cm])
		wantComment := ""
		if len(l) > cm {
			wantComment = strings.TrimSpace(l[cm:])
		}
		if strings.TrimSpace(h.CreatedBy) != wantBy || units.HumanSizeWithPrecision(float64(h.Size), 3) != wantSize || h.Comment != wantComment {
			t.Errorf("entry %d: %q %d %q\nwant %q %s %q", i, h.CreatedBy, h.Size, h.Comment, wantBy, wantSize, wantComment)
		}
	}
}

// capNetRaw is a security.capability value (VFS_CAP_REVISION_2, effective)
// granting cap_net_raw, what `setcap cap_net_raw+ep` writes for ping.
var capNetRaw = string([]byte{0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})

// layerCap reads the capabilities of name in the top layer of image ref.
func layerCap(t *testing.T, s *Store, ref, name string) string {
	t.Helper()
	dirs, err := s.LayerDirs(ref)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64)
	n, err := unix.Lgetxattr(filepath.Join(dirs[0], name), "security.capability", b)
	if err != nil {
		return ""
	}
	return string(b[:n])
}

// TestImportAndPullKeepCapabilities: a layer file with a PAX
// SCHILY.xattr.security.capability record keeps its file capabilities when
// the layer is imported, and again when it is pushed and pulled (chown
// clears them, so the unpacker must set the owner first).
func TestImportAndPullKeepCapabilities(t *testing.T) {
	testutil.RequireRoot(t)
	ctx := context.Background()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Name: "ping", Typeflag: tar.TypeReg, Mode: 0o755, Size: 4, Uid: 0, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capNetRaw}})
	tw.Write([]byte("ping"))
	tw.Close()
	a := newStore(t)
	host := startRegistry(t, nil)
	ref := host + "/capped:v1"
	if _, err := a.Import(ctx, &layer, ref, nil, ""); err != nil {
		t.Fatal(err)
	}
	if got := layerCap(t, a, ref, "ping"); got != capNetRaw {
		t.Fatalf("import: capability %q", got)
	}
	if _, err := a.Push(ctx, ref, RegistryOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	b := newStore(t)
	if _, err := b.Pull(ctx, ref, RegistryOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := layerCap(t, b, ref, "ping"); got != capNetRaw {
		t.Errorf("pull: capability %q", got)
	}
}

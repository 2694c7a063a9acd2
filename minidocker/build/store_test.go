package build

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/image"
	"golang.org/x/sys/unix"
)

// busyboxTar is a small rootfs like the fixture's busybox: ./-prefixed
// names, numeric owners, /bin/vi a symlink to be deleted by the fixture.
func busyboxTar(t testing.TB) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		must(t, tw.WriteHeader(h))
		tw.Write([]byte(body))
	}
	add(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "./bin/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "./bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, "#!busybox")
	for _, n := range []string{"sh", "vi", "ln", "rm"} {
		add(&tar.Header{Name: "./bin/" + n, Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox", Mode: 0o777}, "")
	}
	add(&tar.Header{Name: "./etc/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "./etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
	add(&tar.Header{Name: "./etc/group", Typeflag: tar.TypeReg, Mode: 0o644}, "root:x:0:\nnogroup:x:65534:\n")
	tw.Close()
	return &buf
}

// fixtureRuns plays the fixture's three RUN steps the way overlayfs would
// record them in the upperdir.
func fixtureRuns(t testing.TB, lower func(string) string) func(RunSpec) (int, error) {
	return func(spec RunSpec) (int, error) {
		u := spec.UpperDir
		line := spec.Args[len(spec.Args)-1]
		switch {
		case line == "rm /bin/vi":
			must(t, os.Mkdir(filepath.Join(u, "bin"), 0o755))
			must(t, unix.Mknod(filepath.Join(u, "bin/vi"), unix.S_IFCHR|0o600, 0))
		case strings.HasPrefix(line, "rm -rf /app/conf"):
			must(t, os.MkdirAll(filepath.Join(u, "app/conf"), 0o755))
			must(t, unix.Setxattr(filepath.Join(u, "app/conf"), "trusted.overlay.opaque", []byte("y"), 0))
			must(t, os.WriteFile(filepath.Join(u, "app/conf/new.conf"), []byte("recreated (plain)\n"), 0o644))
		case strings.HasPrefix(line, "ln -s"):
			must(t, os.Mkdir(filepath.Join(u, "app"), 0o755))
			data, err := os.ReadFile(lower("app/hello.txt"))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(u, "app/hello.txt"), data, 0o644))
			must(t, os.Link(filepath.Join(u, "app/hello.txt"), filepath.Join(u, "app/hello.hardlink")))
			must(t, os.Symlink("/app/hello.txt", filepath.Join(u, "app/hello.symlink")))
		default:
			return 127, fmt.Errorf("unexpected RUN %q", line)
		}
		return 0, nil
	}
}

// TestFixtureOnImageStore builds the fixture with the real image store and
// compares the saved layers' entries with docker's (names, types, links).
func TestFixtureOnImageStore(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: whiteout devices and trusted.overlay xattrs")
	}
	s, err := image.Open(t.TempDir())
	must(t, err)
	ctx := context.Background()
	_, err = s.Import(ctx, busyboxTar(t), "busybox:latest", []string{`CMD ["sh"]`,
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LABEL minidocker.peer=busybox"}, "")
	must(t, err)
	be := &StoreBackend{Store: s}
	var parent string
	be.RunStep = func(_ context.Context, spec RunSpec) (int, error) {
		parent = spec.ImageID
		return fixtureRuns(t, func(p string) string {
			dirs, _ := s.LayerDirs(parent)
			for _, d := range dirs {
				if _, err := os.Lstat(filepath.Join(d, p)); err == nil {
					return filepath.Join(d, p)
				}
			}
			return ""
		})(spec)
	}
	dir := fixtureContext(t)
	var out bytes.Buffer
	id, err := Build(ctx, be, dir, Options{Tags: []string{"fixture:v1"}, Dockerfile: "fixture.Dockerfile", Out: &out, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got, _ := s.Resolve("fixture:v1"); got != id {
		t.Fatalf("tag: %s vs %s", got, id)
	}

	var buf bytes.Buffer
	must(t, s.Save(ctx, &buf, []string{"fixture:v1"}))
	got := saveListing(t, buf.Bytes())
	want := fixtureListing(t)
	if len(got) != len(want) {
		t.Fatalf("%d layers, docker %d", len(got), len(want))
	}
	t.Logf("layers (ours):\n%s", func() string {
		var s []string
		for _, l := range got[1:] {
			s = append(s, strings.Join(l, " | "))
		}
		return strings.Join(s, "\n")
	}())
	for i := 1; i < len(want); i++ { // layer 0 is our own stand-in busybox
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("layer %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
}

// saveListing lists each layer.tar of a docker-save archive as
// "type mode name[ -> link]" lines.
func saveListing(t testing.TB, data []byte) [][]string {
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var man []struct{ Layers []string }
	must(t, json.Unmarshal(files["manifest.json"], &man))
	var out [][]string
	for _, l := range man[0].Layers {
		var lines []string
		lr := tar.NewReader(bytes.NewReader(files[l]))
		for {
			h, err := lr.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			lines = append(lines, entryLine(h.Typeflag, h.Mode&0o7777, h.Name, h.Linkname))
		}
		out = append(out, lines)
	}
	return out
}

func entryLine(typ byte, mode int64, name, link string) string {
	name = strings.TrimPrefix(name, "./")
	switch typ {
	case tar.TypeSymlink:
		return fmt.Sprintf("l %s -> %s", name, link)
	case tar.TypeLink:
		return fmt.Sprintf("h %s link to %s", name, link)
	case tar.TypeDir:
		return fmt.Sprintf("d %04o %s", mode, name)
	default:
		return fmt.Sprintf("- %04o %s", mode, name)
	}
}

var listRE = regexp.MustCompile(`^([-dlh])([rwxsStT-]{9}) \S+\s+\d+ \S+ \S+ (.*)$`)

// fixtureListing parses layers-listing.txt (GNU tar -tv) the same way.
func fixtureListing(t testing.TB) [][]string {
	data, err := os.ReadFile(fixturePath(t, "layers-listing.txt"))
	must(t, err)
	var out [][]string
	inLayer := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "## layer ") {
			out = append(out, nil)
			inLayer = true
			continue
		}
		m := listRE.FindStringSubmatch(l)
		if !inLayer || m == nil {
			continue
		}
		mode := int64(0)
		for i, c := range m[2] {
			if c != '-' && c != 'S' && c != 'T' {
				mode |= 1 << (8 - i)
			}
		}
		name, link := m[3], ""
		var typ byte = tar.TypeReg
		switch m[1] {
		case "d":
			typ = tar.TypeDir
		case "l":
			typ = tar.TypeSymlink
			name, link, _ = strings.Cut(name, " -> ")
		case "h":
			typ = tar.TypeLink
			name, link, _ = strings.Cut(name, " link to ")
		}
		out[len(out)-1] = append(out[len(out)-1], entryLine(typ, mode, name, link))
	}
	return out
}

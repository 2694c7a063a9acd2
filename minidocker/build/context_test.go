package build

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func tarNames(t testing.TB, rc io.ReadCloser) map[string]string {
	t.Helper()
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned %d:%d", h.Name, h.Uid, h.Gid)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = string(data)
	}
}

func TestContextTarDockerignore(t *testing.T) {
	dir := writeCtx(t, map[string]string{
		"Dockerfile":       "FROM busybox\n",
		".dockerignore":    "# comment\n*.log\nsecret\n!secret/keep\n**/*.tmp\nDockerfile\n/abs.txt\nbuild?/\n",
		"app.go":           "code",
		"x.log":            "log",
		"sub/y.log":        "kept: *.log matches only the top level",
		"secret/key":       "k",
		"secret/keep":      "kept",
		"deep/a/b/c.tmp":   "tmp",
		"abs.txt":          "gone",
		"build1/out":       "gone",
		"buildxx/out":      "kept",
		"sub/dir/file.txt": "f",
	})
	rc, err := ContextTar(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, rc)
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	// like the docker CLI: the excluded dir itself has no entry, its re-included file does
	want := []string{".dockerignore", "Dockerfile", "app.go", "buildxx/", "buildxx/out", "deep/", "deep/a/", "deep/a/b/",
		"secret/keep", "sub/", "sub/dir/", "sub/dir/file.txt", "sub/y.log"}
	if !slices.Equal(got, want) {
		t.Errorf("tar:\n got %q\nwant %q", got, want)
	}
	if names["Dockerfile"] != "FROM busybox\n" {
		t.Errorf("Dockerfile content %q", names["Dockerfile"])
	}
}

func TestContextTarErrors(t *testing.T) {
	if _, err := ContextTar("/nonexistent/ctx", ""); err == nil || err.Error() != `unable to prepare context: path "/nonexistent/ctx" not found` {
		t.Errorf("missing path: %v", err)
	}
	dir := writeCtx(t, map[string]string{"a": "a"})
	if _, err := ContextTar(dir, ""); err == nil || !strings.Contains(err.Error(), "unable to prepare context: unable to evaluate symlinks in Dockerfile path") {
		t.Errorf("missing Dockerfile: %v", err)
	}
	if _, err := ContextTar(filepath.Join(dir, "a"), ""); err == nil || !strings.Contains(err.Error(), "context must be a directory") {
		t.Errorf("file as context: %v", err)
	}
	// a Dockerfile outside the context travels under a random name
	df := filepath.Join(t.TempDir(), "other.Dockerfile")
	must(t, os.WriteFile(df, []byte("FROM scratch\n"), 0o644))
	rc, name, err := PrepareContext(dir, df)
	if err != nil || !strings.HasPrefix(name, ".dockerfile.") {
		t.Fatalf("%v %q", err, name)
	}
	if names := tarNames(t, rc); names[name] != "FROM scratch\n" || names["a"] != "a" {
		t.Errorf("outside Dockerfile: %v", names)
	}
}

// The API path: the CLI side tars, the daemon side untars and builds.
func TestContextRoundTrip(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	dir := writeCtx(t, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /src/\n",
		".dockerignore": "*.secret\n",
		"a.txt":         "a",
		"b.secret":      "s",
	})
	rc, err := ContextTar(dir, "")
	must(t, err)
	dst := t.TempDir()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		p := filepath.Join(dst, h.Name)
		if h.Typeflag == tar.TypeDir {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		data, _ := io.ReadAll(tr)
		must(t, os.WriteFile(p, data, os.FileMode(h.Mode)))
	}
	img, _ := mustBuild(t, f, dst, Options{})
	got := strings.Join(listTree(t, topLayer(f, img.ID)), " ")
	if got != "src/ src/.dockerignore src/Dockerfile src/a.txt" {
		t.Errorf("layer: %s", got)
	}
}

func TestSendingContextLine(t *testing.T) {
	// the fixture's context tar (3 files) was 6191 bytes; api/build.txt's 3072
	for n, want := range map[int64]string{6191: "6.191kB", 3072: "3.072kB", 512: "512B"} {
		t.Run(want, func(t *testing.T) {
			if got := SendingContextLine(n); got != "Sending build context to Docker daemon  "+want {
				t.Errorf("%d: %q", n, got)
			}
		})
	}
}

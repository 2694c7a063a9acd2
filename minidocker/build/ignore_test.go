package build

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerd reads the Dockerfile and .dockerignore, then removes them from
// the context when .dockerignore lists them: `COPY . /ctx/` does not see
// them. A Dockerfile from outside the context travels as
// ".dockerfile.<random>", which the client lists in .dockerignore.
func TestIgnoredDockerfileHiddenFromCopy(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	dir := writeCtx(t, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\n",
		".dockerignore": "Dockerfile\n.dockerignore\n",
		"a.txt":         "A",
	})
	img, out := mustBuild(t, f, dir, Options{})
	got := strings.Join(listTree(t, topLayer(f, img.ID)), " ")
	if got != "ctx/ ctx/a.txt" {
		t.Errorf("layer %q\n%s", got, out)
	}

	// listed only partly: the rest is copied
	must(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("Dockerfile\n"), 0o644))
	img, out = mustBuild(t, f, dir, Options{})
	if got := strings.Join(listTree(t, topLayer(f, img.ID)), " "); got != "ctx/ ctx/.dockerignore ctx/a.txt" {
		t.Errorf("layer %q\n%s", got, out)
	}
}

func TestPrepareContextOutsideDockerfileIgnored(t *testing.T) {
	dir := writeCtx(t, map[string]string{"a.txt": "A", ".dockerignore": "*.log\n", "x.log": "L"})
	df := filepath.Join(t.TempDir(), "outside.Dockerfile")
	must(t, os.WriteFile(df, []byte("FROM busybox\n"), 0o644))
	rc, name, err := PrepareContext(dir, df)
	must(t, err)
	defer rc.Close()
	if !strings.HasPrefix(name, ".dockerfile.") {
		t.Fatalf("name %q", name)
	}
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if _, dup := files[h.Name]; dup {
			t.Errorf("%s twice", h.Name)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	if files[".dockerignore"] != "*.log\n\n"+name+"\n" {
		t.Errorf(".dockerignore %q", files[".dockerignore"])
	}
	if _, ok := files["x.log"]; ok {
		t.Error("x.log is excluded")
	}
	if files[name] != "FROM busybox\n" || files["a.txt"] != "A" {
		t.Errorf("files %v", files)
	}

	// and the builder keeps it out of COPY
	ctx := t.TempDir()
	for n, b := range files {
		must(t, os.WriteFile(filepath.Join(ctx, n), []byte(strings.Replace(b, "FROM busybox\n", "FROM busybox\nCOPY . /ctx/\n", 1)), 0o644))
	}
	f := newFake(t)
	f.busybox(t)
	img, out := mustBuild(t, f, ctx, Options{Dockerfile: name})
	if got := strings.Join(listTree(t, topLayer(f, img.ID)), " "); got != "ctx/ ctx/.dockerignore ctx/a.txt" {
		t.Errorf("layer %q\n%s", got, out)
	}
}

package cli

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

// `build -`: a Dockerfile on stdin becomes a context holding only it; a
// tar on stdin is the context as it is.
func TestBuildStdinContext(t *testing.T) {
	rc, df, err := stdinContext(strings.NewReader("FROM busybox\n"), "")
	if err != nil || df != "Dockerfile" {
		t.Fatal(err, df)
	}
	tr := tar.NewReader(rc)
	h, err := tr.Next()
	if err != nil || h.Name != "Dockerfile" {
		t.Fatalf("%v %+v", err, h)
	}
	if b, _ := io.ReadAll(tr); string(b) != "FROM busybox\n" {
		t.Errorf("content %q", b)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "build.Dockerfile", Mode: 0o644, Size: 5})
	tw.Write([]byte("FROM\n"))
	tw.Close()
	want := buf.Bytes()
	rc, df, err = stdinContext(bytes.NewReader(want), "build.Dockerfile")
	if err != nil || df != "build.Dockerfile" {
		t.Fatal(err, df)
	}
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, want) {
		t.Error("a tar on stdin is passed on unchanged")
	}
}

func TestBuildMissingContext(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"-H", "unix:///nonexistent.sock", "build", "/no/such/dir"}, strings.NewReader(""), &out, &errb, nil)
	if code != 1 || errb.String() != "unable to prepare context: path \"/no/such/dir\" not found\n" {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

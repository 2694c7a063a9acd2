package build

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// FuzzDockerfile runs the builder over arbitrary Dockerfiles (issue 10,
// faults survived), against the in-memory backend of fake_test.go: RUN is
// a Go function there, so no container starts, but parsing, ARG/ENV
// expansion, every instruction's dispatch, COPY/ADD from the context and
// the cache all run for real. Seeds: the fixture Dockerfile, the f.Add
// lines and testdata/fuzz/FuzzDockerfile.
//
// Properties, whatever the input:
//   - no panic;
//   - a Dockerfile that buildkit's parser refuses is refused with a
//     400-kind error (a 500 would blame the daemon for the user's typo);
//   - every error has a message;
//   - the build context is left exactly as it was;
//   - a build that succeeds gives an image the backend has, and building
//     the same Dockerfile again with the same cache gives the same image.
func FuzzDockerfile(f *testing.F) {
	if fixture, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "docker", "fixture.Dockerfile")); err == nil {
		f.Add(string(fixture))
	}
	for _, s := range []string{
		"FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\"]\n",
		"ARG BASE=busybox\nFROM $BASE AS one\nENV A=1 B=\"x y\"\nWORKDIR /app/$A\nFROM one\nCOPY --from=one /app /copy\n",
		"FROM scratch\nCOPY conf/ /etc/\nLABEL a=b\nEXPOSE 80 53/udp 8000-8002\nUSER 1000:1000\nVOLUME [\"/data\"]\n",
		"FROM busybox\nSHELL [\"/bin/sh\", \"-eu\", \"-c\"]\nHEALTHCHECK --interval=5s CMD true\nSTOPSIGNAL SIGQUIT\nONBUILD RUN true\n",
		"# escape=`\nFROM busybox\nRUN echo `\n  continued\nENTRYPOINT [\"/bin/echo\"]\n",
		"FROM busybox\nADD hello.txt conf /dst/\nCOPY --chown=bob:staff hello.txt /h\nRUN exit 3\n",
		"FROM busybox\nARG X\nRUN echo $X ${X:-default} ${X:+alt}\nMAINTAINER me\n",
		"FROM missing:tag\n", "FROM\n", "RUN true\n", "FROM busybox\nCOPY ../../etc/passwd /x\n", "FROM busybox\nEXPOSE 99999\n",
		"FROM busybox AS a\nFROM a AS a\n", "FROM busybox\nRUN <<EOF\necho hi\nEOF\n", "FROM busybox\nRUN --mount=type=cache,target=/c true\n",
	} {
		f.Add(s)
	}
	base := newFake(f) // busybox made once: each input gets a copy of this backend
	base.busybox(f)
	f.Fuzz(func(t *testing.T, dockerfile string) {
		if len(dockerfile) > 4096 || strings.Contains(strings.ToLower(dockerfile), "://") {
			return // long inputs slow the run down; URLs would make ADD reach for the network
		}
		fb := base.clone(t)
		ctxDir := fuzzContext(t, dockerfile)
		before := snapshotTree(t, ctxDir)
		state := t.TempDir()
		id, out, err := doBuild(t, fb, ctxDir, Options{StateDir: state})
		if after := snapshotTree(t, ctxDir); after != before {
			t.Fatalf("the build changed its context:\nbefore %s\nafter  %s", before, after)
		}
		if err != nil {
			checkBuildError(t, dockerfile, err, out)
			return
		}
		if _, gerr := fb.GetImage(context.Background(), id); gerr != nil {
			t.Fatalf("the build succeeded with %s, which the backend does not have: %v\n%s", id, gerr, out)
		}
		again, out2, err := doBuild(t, fb, ctxDir, Options{StateDir: state})
		if err != nil || again != id {
			t.Fatalf("building the same Dockerfile again gave %s (%v), first %s\nfirst output:\n%s\nsecond output:\n%s", again, err, id, out, out2)
		}
	})
}

// clone is a fresh backend holding f's images (their layer directories
// are shared: the builder never writes to a base image's layers).
func (f *fakeBackend) clone(t *testing.T) *fakeBackend {
	c := newFake(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	c.images, c.layers, c.refs = maps.Clone(f.images), maps.Clone(f.layers), maps.Clone(f.refs)
	return c
}

// checkBuildError asserts what a refused build must say: something, and a
// 400-kind error when the Dockerfile does not even parse.
func checkBuildError(t *testing.T, dockerfile string, err error, out string) {
	t.Helper()
	if err.Error() == "" {
		t.Fatalf("build failed with an empty message\n%s", out)
	}
	if bytes.TrimSpace([]byte(dockerfile)) == nil || parses(dockerfile) {
		return
	}
	if !errdefs.IsInvalid(err) {
		t.Fatalf("a Dockerfile the parser refuses gave %v (kind %v), want a 400-kind error", err, errdefs.KindOf(err))
	}
}

// parses reports whether buildkit's parser and instruction reader accept
// the Dockerfile and find a stage in it.
func parses(dockerfile string) bool {
	res, err := parser.Parse(strings.NewReader(dockerfile))
	if err != nil {
		return false
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	return err == nil && len(stages) > 0
}

// fuzzContext is a small build context: the Dockerfile, a file, a
// directory and a symlink pointing out of the context.
func fuzzContext(t *testing.T, dockerfile string) string {
	dir := filepath.Join(t.TempDir(), "ctx")
	must(t, os.MkdirAll(filepath.Join(dir, "conf", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "conf", "sub", "a.conf"), []byte("a=1\n"), 0o600))
	must(t, os.Symlink("../../outside", filepath.Join(dir, "conf", "out")))
	return dir
}

// snapshotTree lists every path under dir with its mode, size and link
// target, one line each.
func snapshotTree(t *testing.T, dir string) string {
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		link, _ := os.Readlink(p)
		b.WriteString(strings.TrimPrefix(p, dir) + " " + fi.Mode().String() + " " + link + " " + fi.ModTime().String() + "\n")
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b.String()
}

package build

import (
	"context"
	"io"
	"testing"
)

// BenchmarkBuild measures the builder itself (parse, walk, hashing, layer
// writing, cache) against the in-memory backend: no containers, no diffing.
func BenchmarkBuild(b *testing.B) {
	small := map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\"]\n",
		"hello.txt":  "hi\n",
	}
	for _, bc := range []struct {
		name    string
		noCache bool
		fixture bool
	}{
		{"3step-cold", true, false},
		{"3step-cached", false, false},
		{"fixture18-cold", true, true},
		{"fixture18-cached", false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFake(b)
			f.busybox(b)
			var dir string
			opts := Options{NoCache: bc.noCache, StateDir: b.TempDir(), Out: io.Discard}
			if bc.fixture {
				dir = fixtureContext(b)
				opts.Dockerfile = "fixture.Dockerfile"
			} else {
				dir = writeCtx(b, small)
			}
			if _, err := Build(context.Background(), f, dir, opts); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Build(context.Background(), f, dir, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse is parsing alone (package dockerfile).
func BenchmarkParse(b *testing.B) {
	dir := fixtureContext(b)
	bd := &builder{opts: Options{Dockerfile: "fixture.Dockerfile"}}
	var err error
	bd.ctxView, err = openDirView(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer bd.ctxView.Close()
	for i := 0; i < b.N; i++ {
		if _, err := bd.parse(); err != nil {
			b.Fatal(err)
		}
	}
}

package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var benchOnce sync.Once
var benchHost string

// benchImage pushes a ~50 MB single-layer image (64 files of 800 KB, half
// random, half text, so it compresses like real content) to an in-process
// registry once per test binary.
func benchImage(b *testing.B) string {
	benchOnce.Do(func() {
		raw := benchLayerTar()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
		if err != nil {
			panic(err)
		}
		img, _ := mutate.AppendLayers(empty.Image, l)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", "amd64"
		img, _ = mutate.ConfigFile(img, cf)
		benchHost = startRegistryB(b)
		ref, _ := name.ParseReference(benchHost + "/big:latest")
		if err := remote.Write(ref, img); err != nil {
			panic(err)
		}
	})
	return benchHost
}

// benchLayerTar is a ~50 MB layer tar: 64 files of 800 KB, half random,
// half text, so it compresses like real content.
func benchLayerTar() []byte {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 64; i++ {
		data := make([]byte, 800<<10)
		if i%2 == 0 {
			r.Read(data)
		} else {
			for j := range data {
				data[j] = "minidocker layer text\n"[j%22]
			}
		}
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/f%02d", i), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	return tb.Bytes()
}

// BenchmarkPullStore: our pull (download, verify, store blob, unpack).
// Compare with BenchmarkPullCraneOCI in the same run:
//
//	go test ./minidocker/image -run - -bench Pull -benchtime 5x
func BenchmarkPullStore(b *testing.B) {
	host := benchImage(b)
	b.SetBytes(50 << 20)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(filepath.Join(dir, "image"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Pull(context.Background(), host+"/big:latest", RegistryOptions{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPullCraneOCI does what `crane pull --format=oci` does: no unpack.
func BenchmarkPullCraneOCI(b *testing.B) {
	host := benchImage(b)
	b.SetBytes(50 << 20)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		b.StartTimer()
		ref, _ := name.ParseReference(host+"/big:latest", name.Insecure)
		img, err := remote.Image(ref)
		if err != nil {
			b.Fatal(err)
		}
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = os.Getpid

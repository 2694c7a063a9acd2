package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// TestRoomyPipeKeepsOrderAndEnds: bytes written in pieces of every size
// come out in order, and the reader sees the writer's close (EOF, or its
// error after the last byte).
func TestRoomyPipeKeepsOrderAndEnds(t *testing.T) {
	want := make([]byte, 3*pipeChunk+12345)
	rand.New(rand.NewSource(2)).Read(want)
	for _, closeErr := range []error{nil, errors.New("registry went away")} {
		r, w := newRoomyPipe(2)
		go func() {
			rest := want
			for i := 1; len(rest) > 0; i = i*3 + 1 {
				n := min(i, len(rest))
				w.Write(rest[:n])
				rest = rest[n:]
			}
			w.CloseWithError(closeErr)
		}()
		got, err := io.ReadAll(r)
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d bytes, not the %d written in order", len(got), len(want))
		}
		if err != closeErr {
			t.Fatalf("end of stream: %v, want %v", err, closeErr)
		}
	}
}

// TestRoomyPipeReadFrom: ReadFrom (the fetch stage's way in) delivers a
// reader's bytes in order and ends the stream cleanly at its EOF.
func TestRoomyPipeReadFrom(t *testing.T) {
	want := make([]byte, 2*pipeChunk+777)
	rand.New(rand.NewSource(3)).Read(want)
	r, w := newRoomyPipe(1)
	go func() {
		n, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(want)))
		if n != int64(len(want)) || err != nil {
			err = fmt.Errorf("ReadFrom: %d bytes, %v", n, err)
		}
		w.CloseWithError(err)
	}()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d of %d bytes in order, error %v", len(got), len(want), err)
	}
	r.release()
}

// TestRoomyPipeTeeFailureSticks: when the tee (the blob file) fails, that
// error is what every later Read returns and what the writer gets, so no
// stage goes on with a chunk missing (a full disk once unpacked an empty
// layer this way).
func TestRoomyPipeTeeFailureSticks(t *testing.T) {
	r, w := newRoomyPipe(1)
	full := errors.New("no space left on device")
	r.tee = &failOnce{err: full} // a later chunk would fit: it must not be read
	werr := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 10 && err == nil; i++ { // more than the pipe holds
			_, err = w.Write(make([]byte, pipeChunk))
		}
		w.CloseWithError(err)
		werr <- err
	}()
	buf := make([]byte, 100)
	for i := 0; i < 3; i++ {
		if n, err := r.Read(buf); n != 0 || err != full {
			t.Fatalf("read %d after the tee failed: %d bytes, %v; want 0, %v", i, n, err, full)
		}
	}
	if err := <-werr; err != full {
		t.Fatalf("writer: %v, want %v", err, full)
	}
}

// failOnce fails its first write only.
type failOnce struct {
	err    error
	failed bool
}

func (f *failOnce) Write(b []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, f.err
	}
	return len(b), nil
}

// ociArchive is an OCI image layout tar with one uncompressed layer, which
// its manifest names, and its file is named, by layerDigest.
func ociArchive(t *testing.T, layer []byte, layerDigest string) []byte {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["` + digestOf(layer) + `"]}}`)
	man := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + digestOf(cfg) + `","size":` + fmt.Sprint(len(cfg)) + `},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + layerDigest + `","size":` + fmt.Sprint(len(layer)) + `}]}`)
	idx := []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digestOf(man) + `","size":` + fmt.Sprint(len(man)) + `}]}`)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", idx)
	for _, blob := range [][]byte{cfg, man} {
		add("blobs/sha256/"+strings.TrimPrefix(digestOf(blob), "sha256:"), blob)
	}
	add("blobs/sha256/"+strings.TrimPrefix(layerDigest, "sha256:"), layer)
	tw.Close()
	return b.Bytes()
}

// TestLoadPlainLayerChecksItsBlobDigest: an uncompressed layer is hashed
// once on load (its blob digest is its diffID), so a manifest that names it
// by another digest must still be refused, leaving no image and no layer;
// with the right digest the spooled file becomes the stored blob.
func TestLoadPlainLayerChecksItsBlobDigest(t *testing.T) {
	var lb bytes.Buffer
	tw := tar.NewWriter(&lb)
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 6, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello\n"))
	tw.Close()
	layer := lb.Bytes()

	s := newStore(t)
	wrong := "sha256:" + strings.Repeat("ab", 32)
	_, err := s.Load(context.Background(), bytes.NewReader(ociArchive(t, layer, wrong)), nil)
	if err == nil || !strings.Contains(err.Error(), "blob digest mismatch") {
		t.Fatalf("load with a wrong layer digest: %v, want a blob digest mismatch", err)
	}
	if l, _ := s.List(true); len(l) != 0 {
		t.Errorf("images stored: %v", l)
	}
	if s.HasLayer(digestOf(layer)) {
		t.Error("the layer was stored")
	}

	if _, err := s.Load(context.Background(), bytes.NewReader(ociArchive(t, layer, digestOf(layer))), nil); err != nil {
		t.Fatal(err)
	}
	blob, err := s.readBlob(digestOf(layer))
	if err != nil || !bytes.Equal(blob, layer) {
		t.Fatalf("stored blob: %d bytes, %v; want the layer's %d bytes", len(blob), err, len(layer))
	}
}

package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is the format an archive stream is wrapped in.
type Compression int

// The formats DetectCompression recognises.
const (
	Uncompressed Compression = iota
	Gzip
	Zstd
	Bzip2
	Xz
)

// String is the name docker uses for the format.
func (c Compression) String() string {
	return [...]string{"tar", "gzip", "zstd", "bzip2", "xz"}[c]
}

// The magic numbers that open each compressed format.
var magics = []struct {
	c     Compression
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b, 0x08}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{Bzip2, []byte("BZh")},
	{Xz, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
}

// DetectCompression tells the format from the first bytes of a stream.
// Anything unrecognised is taken as uncompressed.
func DetectCompression(head []byte) Compression {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.c
		}
	}
	return Uncompressed
}

// DecompressStream returns the uncompressed content of r, whatever of gzip,
// zstd, bzip2 or nothing it is wrapped in: the one place every archive
// minidocker reads (layers, `load`, `import`, `cp`, build contexts) is
// unwrapped, so each accepts the same formats. xz is refused with a clear
// error (Go has no xz reader in its standard library or our dependencies).
// Close releases the decompressor; it does not close r.
func DecompressStream(r io.Reader) (io.ReadCloser, error) {
	rc, _, err := Decompress(r)
	return rc, err
}

// Decompress is DecompressStream that also says which format the stream
// was in (the image store keeps an uncompressed layer blob without hashing
// it twice: its digest is the diffID).
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	c := DetectCompression(head)
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("gzip: %w", err)
		}
		return zr, c, nil
	case Zstd:
		// one goroutine: layers are decompressed several at a time already
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, c, fmt.Errorf("zstd: %w", err)
		}
		return zstdReadCloser{zr}, c, nil
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(br)), c, nil
	case Xz:
		return nil, c, errors.New("xz-compressed archives are not supported (use gzip or zstd)")
	}
	return io.NopCloser(br), c, nil
}

// zstdReadCloser gives zstd.Decoder's Close (which returns nothing) the
// io.Closer signature.
type zstdReadCloser struct{ *zstd.Decoder }

func (z zstdReadCloser) Close() error {
	z.Decoder.Close()
	return nil
}

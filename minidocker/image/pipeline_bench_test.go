package image

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkStoreLayerGzip stores a ~50 MB gzip layer from memory: the
// pull's pipeline (blob copy, gunzip, diffID hash, unpack) without the
// network. Compare CPU time (-benchtime 10x, time -v) and wall time.
func BenchmarkStoreLayerGzip(b *testing.B) {
	raw := benchLayerTar()
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.DefaultCompression)
	zw.Write(raw)
	zw.Close()
	blob := zb.Bytes()
	diffID := digestOf(raw)
	b.SetBytes(int64(len(raw)))
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "image"))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the setup's garbage is not the pipeline's cost
		b.StartTimer()
		c0 := processCPU()
		_, _, err = s.storeLayer(context.Background(), layerIn{DiffID: diffID, Blob: digestOf(blob), BlobVerified: true,
			Open: func() (io.ReadCloser, error) {
				// read in pieces, as from a socket
				return io.NopCloser(struct{ io.Reader }{bytes.NewReader(blob)}), nil
			}})
		cpu += processCPU() - c0
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// processCPU is the user plus system CPU time this process has used: on a
// busy machine it varies far less than the wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

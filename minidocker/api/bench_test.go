package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
)

// BenchmarkPing measures one GET /_ping over the unix socket, client and
// server in this process: the floor under every API call.
func BenchmarkPing(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "s.sock")
	l, err := Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, l, NewServer(nil))
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Get("http://minidocker/_ping")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
		resp.Body.Close()
	}
}

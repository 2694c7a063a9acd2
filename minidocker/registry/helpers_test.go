package registry

import (
	"net"
	"net/http/httptest"
	"testing"
)

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpTestServer(s *Server) *httptest.Server { return httptest.NewServer(s.Handler()) }

package registry

import (
	"net"
	"testing"
)

// net0 finds a free loopback port for tests that need a real listener.
type net0 struct{}

func (net0) free(t *testing.T) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

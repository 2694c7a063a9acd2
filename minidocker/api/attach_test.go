package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

// attachBackend is a containerBackend whose attach waits for a start that
// never comes and reports when the API gave up waiting. Only the two
// methods the attach handler calls are implemented.
type attachBackend struct {
	containerBackend
	gaveUp chan struct{}
}

func (b attachBackend) InspectContainer(ref string) (*container.InspectResponse, error) {
	return &container.InspectResponse{ID: ref, Config: &container.Config{}}, nil
}

func (b attachBackend) ContainerAttach(ref string, stdin, stdout, stderr bool) (func(ctx context.Context) (net.Conn, error), error) {
	return func(ctx context.Context) (net.Conn, error) {
		<-ctx.Done()
		close(b.gaveUp)
		return nil, ctx.Err()
	}, nil
}

// TestAttachStopsWaitingWhenTheClientLeaves: an attach to a container that
// is not started yet waits for its start; a client that closes its
// connection meanwhile must not leave that wait (and the pending attach in
// the daemon) behind. A client that only half-closes (no stdin) is still
// there, and is checked for by the last step.
func TestAttachStopsWaitingWhenTheClientLeaves(t *testing.T) {
	be := attachBackend{gaveUp: make(chan struct{})}
	s := &Server{}
	containerRouter{backend: be}.register(&s.routes)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "api.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	dial := func() (*net.UnixConn, *bufio.Reader) {
		c, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST /v1.41/containers/c1/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("attach: %v %v", resp, err)
		}
		return c.(*net.UnixConn), br
	}

	// a client with nothing to send half-closes and keeps reading
	half, _ := dial()
	defer half.Close()
	if err := half.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-be.gaveUp:
		t.Fatal("the attach gave up on a client that only half-closed")
	case <-time.After(time.Second):
	}
	half.Close()
	select {
	case <-be.gaveUp:
	case <-time.After(30 * time.Second):
		t.Fatal("the attach still waits for the start after the client closed its connection")
	}
}

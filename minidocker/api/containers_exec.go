package api

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/detachkeys"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/version"
)

// execBackend is what the exec endpoints need from the daemon.
type execBackend interface {
	ExecCreate(ref string, req container.ExecCreateRequest) (string, error)
	ExecInspect(id string) (container.ExecInspectResponse, error)
	ExecResize(id string, h, w uint) error
	ExecClaim(id string) (*daemon.Exec, error)
	ExecStart(ctx context.Context, e *daemon.Exec, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	ExecStartDetached(e *daemon.Exec) error
}

// execRouter serves docker exec: create, start, resize and inspect.
type execRouter struct{ backend execBackend }

func (s execRouter) register(rt *router) {
	rt.handle(http.MethodPost, "/containers/{name}/exec", s.postContainerExec)
	rt.handle(http.MethodPost, "/exec/{id}/start", s.postExecStart)
	rt.handle(http.MethodPost, "/exec/{id}/resize", s.postExecResize)
	rt.handle(http.MethodGet, "/exec/{id}/json", s.getExecJSON)
}

func (s execRouter) postContainerExec(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req container.ExecCreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	id, err := s.backend.ExecCreate(vars["name"], req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: id})
}

func (s execRouter) getExecJSON(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	resp, err := s.backend.ExecInspect(vars["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s execRouter) postExecResize(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, wd, err := resizeParams(r)
	if err != nil {
		return err
	}
	if err := s.backend.ExecResize(vars["id"], h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// postExecStart runs the exec. Unless detached, the connection is hijacked
// as for attach: "101 UPGRADED", then the raw terminal stream (tty) or
// stdout/stderr in 8-byte-header frames; the client's bytes are stdin. The
// daemon half-closes when the process has ended; the client then reads
// the exit code from GET /exec/{id}/json.
func (s execRouter) postExecStart(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req container.ExecStartRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	e, err := s.backend.ExecClaim(vars["id"])
	if err != nil {
		return err
	}
	if req.ConsoleSize != nil && e.Tty() {
		s.backend.ExecResize(e.ID, req.ConsoleSize[0], req.ConsoleSize[1])
	}
	if req.Detach {
		if err := s.backend.ExecStartDetached(e); err != nil {
			return errdefs.As(errdefs.KindUnknown, err)
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	// As in dockerd, the framing follows the start request's Tty, not the
	// exec's: a client that asks for frames gets them, even from a tty.
	contentType := "application/vnd.docker.raw-stream"
	if !req.Tty {
		contentType = "application/vnd.docker.multiplexed-stream"
	}
	conn, brw, err := hijackStream(w, r, contentType)
	if err != nil {
		return err
	}
	defer conn.Close()
	var stdout, stderr io.Writer = conn, nil
	if !req.Tty {
		var mu sync.Mutex
		stdout = &frameWriter{mu: &mu, w: conn, stream: 1}
		stderr = &frameWriter{mu: &mu, w: conn, stream: 2}
	}
	// brw.Reader holds whatever stdin the client sent with its request
	stdin, drain := pumpStdin(brw.Reader)
	if _, err := s.backend.ExecStart(context.Background(), e, stdin, stdout, stderr); err != nil && !errors.Is(err, detachkeys.ErrDetached) {
		fmt.Fprintf(stdout, "%s\r\n", err)
	}
	// Half-close, then wait (briefly) for the client to close its side:
	// closing with its unread stdin still queued would reset the
	// connection, and the client could lose the end of the output.
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	drain()
	return nil
}

// pumpStdin reads the client's side of a hijacked connection from one
// goroutine only, for the whole exec: the process's stdin gets the bytes
// until it ends, then drain makes the same goroutine throw the rest away
// until the client closes (or the read deadline passes) and waits for it.
// Reading the connection from a second goroutine once the process has
// ended, while the first is still blocked in a read, is what net/http
// answers with a panic ("invalid Body.Read call. After hijacked…").
func pumpStdin(client io.Reader) (stdin io.Reader, drain func()) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := io.Copy(pw, client)
		pw.CloseWithError(err) // nil: the client half-closed, the process reads EOF
		if errors.Is(err, io.ErrClosedPipe) {
			io.Copy(io.Discard, client) // the process ended first
		}
	}()
	return pr, func() {
		pr.Close()
		<-done
	}
}

// hijackStream takes over the connection and answers "101 UPGRADED" (or
// 200 for a client that did not ask to upgrade) with docker's headers.
func hijackStream(w http.ResponseWriter, r *http.Request, contentType string) (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the connection cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	status := "200 OK"
	if r.Header.Get("Upgrade") != "" {
		status = "101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp"
	}
	fmt.Fprintf(brw.Writer, "HTTP/1.1 %s\r\nContent-Type: %s\r\nApi-Version: %s\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: Minidocker/%s (linux)\r\n\r\n",
		status, contentType, version.APIVersion, version.Version)
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, brw, nil
}

// frameWriter writes docker's multiplexed stream: an 8-byte header
// (stream, 0, 0, 0, big-endian length) before each chunk.
type frameWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream byte
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	buf := make([]byte, 8+len(p))
	buf[0] = f.stream
	binary.BigEndian.PutUint32(buf[4:8], uint32(len(p)))
	copy(buf[8:], p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

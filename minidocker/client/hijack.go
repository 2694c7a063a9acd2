package client

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
)

// HijackedResponse is a connection the daemon has turned over to raw
// streams (attach, exec): Reader carries the output (multiplexed by
// stdcopy unless a TTY), Conn takes the input.
type HijackedResponse struct {
	Conn      net.Conn
	Reader    *bufio.Reader
	mediaType string
}

// Close closes the connection.
func (h *HijackedResponse) Close() { h.Conn.Close() }

// CloseWrite half-closes the connection: the daemon sees the end of stdin
// and the output keeps flowing.
func (h *HijackedResponse) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// MediaType is the stream's Content-Type: application/vnd.docker.raw-stream
// for a TTY, application/vnd.docker.multiplexed-stream otherwise.
func (h *HijackedResponse) MediaType() (string, bool) {
	return h.mediaType, h.mediaType != ""
}

// hijack sends r on a connection of its own, asking the daemon to upgrade
// it, and keeps the connection once the daemon answers 101. The request
// goes out by hand (not through http.Client) because net/http would not
// hand back the connection of a plain POST.
func (c *Client) hijack(ctx context.Context, r request) (HijackedResponse, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return HijackedResponse{}, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	conn, err := c.dial(ctx)
	if err != nil {
		return HijackedResponse{}, c.connectError(&net.OpError{Op: "dial", Net: c.proto, Err: err})
	}
	// A cancelled context must not leave us blocked on the daemon's answer.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	br := bufio.NewReader(conn)
	resp, err := roundTrip(conn, br, req)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return HijackedResponse{}, ctx.Err()
		}
		return HijackedResponse{}, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		if resp.StatusCode >= http.StatusBadRequest {
			return HijackedResponse{}, statusError(resp)
		}
		return HijackedResponse{}, fmt.Errorf("unable to upgrade to tcp, received %d", resp.StatusCode)
	}
	return HijackedResponse{Conn: conn, Reader: br, mediaType: resp.Header.Get("Content-Type")}, nil
}

// roundTrip writes req on conn and reads the response head; the body of a
// 101 answer is the stream itself and stays in br.
func roundTrip(conn net.Conn, br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	return http.ReadResponse(br, req)
}

package client

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minidocker/minidocker/minidocker/version"
)

// DummyHost is the Host header of requests over a unix socket, where there
// is no host name to send.
const DummyHost = "api.moby.localhost"

// Client talks to one daemon. It is safe for concurrent use.
type Client struct {
	host  string // as given, for messages: unix:///var/run/minidocker.sock
	proto string // "unix" or "tcp"
	addr  string // socket path or host:port
	http  *http.Client
}

// Opt configures a Client in New.
type Opt func(*Client) error

// WithHost points the client at a daemon: unix:///path/to.sock or
// tcp://host:port.
func WithHost(host string) Opt {
	return func(c *Client) error {
		proto, addr, ok := strings.Cut(host, "://")
		if !ok || addr == "" {
			return fmt.Errorf("unable to parse docker host `%s`", host)
		}
		switch proto {
		case "unix", "tcp":
		default:
			return fmt.Errorf("protocol not available: %s (minidocker speaks unix:// and tcp://)", proto)
		}
		c.host, c.proto, c.addr = host, proto, addr
		return nil
	}
}

// New makes a client; without WithHost it uses the default socket.
func New(opts ...Opt) (*Client, error) {
	c := &Client{}
	if err := WithHost("unix:///var/run/minidocker.sock")(c); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.http = &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return c.dial(ctx) },
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
	return c, nil
}

// dial opens a new connection to the daemon (the transport's pool and the
// hijacked streams both come through here).
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, c.proto, c.addr)
}

// ClientVersion is the Engine API version every request names. The daemon
// is minidocker's own, so the client asks for the version the daemon
// speaks rather than negotiating it with a /_ping first (one round trip
// less on every command).
func (c *Client) ClientVersion() string { return version.APIVersion }

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// endpoint is the request URL for an API path and its query.
func (c *Client) endpoint(path string, query url.Values) *url.URL {
	u := &url.URL{Scheme: "http", Host: c.addr, Path: "/v" + version.APIVersion + path}
	if c.proto == "unix" {
		u.Host = DummyHost
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u
}

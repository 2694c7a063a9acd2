package network

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The embedded DNS server's sockets (dns.go decides the answers). DNS over
// UDP is one datagram per message; over TCP each message is preceded by its
// length in two bytes (RFC 1035 4.2.2), and a client may send several on
// one connection. Clients use TCP when a UDP reply came back truncated.

const (
	// tcpIdle is how long a TCP connection may wait for its next query.
	tcpIdle = 8 * time.Second
	// upstreamTimeout bounds each exchange with an upstream server.
	upstreamTimeout = 3 * time.Second
)

// answerFunc answers one query in wire format (nil: no reply); proto is
// "udp" or "tcp".
type answerFunc func(query []byte, proto string) []byte

// serve answers the queries that come to pc and l until stop closes them.
func (r *resolver) serve(pc net.PacketConn, l net.Listener, answer answerFunc) {
	r.mu.Lock()
	r.udp, r.tcp = pc, l
	r.mu.Unlock()
	go r.serveUDP(pc, answer)
	go r.serveTCP(l, answer)
}

// stop closes the server's sockets and its open TCP connections; the
// goroutines serving them return.
func (r *resolver) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.udp != nil {
		r.udp.Close()
		r.tcp.Close()
	}
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil // a connection accepted from now on is closed at once (track)
}

// serveUDP reads one query per datagram and answers each on its own
// goroutine: one that must be forwarded may wait seconds for the upstream
// server, and the others should not wait behind it.
func (r *resolver) serveUDP(pc net.PacketConn, answer answerFunc) {
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			logServeError("udp", err)
			return
		}
		query := bytes.Clone(buf[:n])
		go func() {
			if reply := answer(query, "udp"); reply != nil {
				pc.WriteTo(reply, from)
			}
		}()
	}
}

// serveTCP accepts connections and serves each on its own goroutine.
func (r *resolver) serveTCP(l net.Listener, answer answerFunc) {
	for {
		c, err := l.Accept()
		if err != nil {
			logServeError("tcp", err)
			return
		}
		if r.track(c) {
			go r.serveConn(c, answer)
		}
	}
}

// serveConn answers the queries of one TCP connection in turn, until the
// client closes it or stays idle for tcpIdle.
func (r *resolver) serveConn(c net.Conn, answer answerFunc) {
	defer r.untrack(c)
	for {
		c.SetReadDeadline(time.Now().Add(tcpIdle))
		query, err := readTCPMessage(c)
		if err != nil {
			return
		}
		if reply := answer(query, "tcp"); reply != nil {
			if writeTCPMessage(c, reply) != nil {
				return
			}
		}
	}
}

// track records an open TCP connection so that stop can close it; after
// stop, the connection is closed at once and track reports false.
func (r *resolver) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		c.Close()
		return false
	}
	r.conns[c] = true
	return true
}

// untrack closes a TCP connection and forgets it.
func (r *resolver) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// logServeError reports why a socket stopped being served, unless it is
// because stop closed it.
func logServeError(proto string, err error) {
	if !errors.Is(err, net.ErrClosed) {
		slog.Warn("embedded DNS: stops serving", "proto", proto, "err", err)
	}
}

// readTCPMessage reads one length-prefixed DNS message.
func readTCPMessage(c io.Reader) ([]byte, error) {
	var n uint16
	if err := binary.Read(c, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	msg := make([]byte, n)
	_, err := io.ReadFull(c, msg)
	return msg, err
}

// writeTCPMessage writes one DNS message with its length in front, in one
// write.
func writeTCPMessage(c io.Writer, msg []byte) error {
	_, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...))
	return err
}

// forward passes the query, as the container sent it, to the upstream
// servers in turn, over the protocol it came by, and returns the first
// reply; nil when none answered. The sockets are the daemon's, so the
// upstream servers are reached from the host's namespace (a 127.0.0.53 stub
// resolver works).
func forward(upstream []string, query []byte, proto string) []byte {
	for _, server := range upstream {
		reply, err := exchange(server, query, proto)
		if err == nil {
			return reply
		}
		slog.Debug("embedded DNS: upstream failed", "server", server, "err", err)
	}
	return nil
}

// exchange sends one query to one server and waits for its reply.
func exchange(server string, query []byte, proto string) ([]byte, error) {
	c, err := net.DialTimeout(proto, server, upstreamTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(upstreamTimeout))
	if proto == "tcp" {
		if err := writeTCPMessage(c, query); err != nil {
			return nil, err
		}
		reply, err := readTCPMessage(c)
		if err == nil && !isReplyTo(reply, query) {
			err = fmt.Errorf("%s answered another query", server)
		}
		return reply, err
	}
	if _, err := c.Write(query); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err // the deadline, or the port is closed (ICMP)
		}
		if isReplyTo(buf[:n], query) {
			return bytes.Clone(buf[:n]), nil
		}
		// a datagram that is not our reply (a late one to an earlier
		// query): keep waiting, until the deadline
	}
}

// isReplyTo: msg is a response with the query's ID.
func isReplyTo(msg, query []byte) bool {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	return err == nil && h.Response && len(query) >= 2 && h.ID == binary.BigEndian.Uint16(query)
}

package network

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// The embedded DNS server, docker's 127.0.0.11. A container on a
// user-defined network gets "nameserver 127.0.0.11" in its resolv.conf and
// a small server listening there, inside its own network namespace: the
// sockets are made on a thread that joined the namespace (RunInNetns) and
// then served from ordinary goroutines (dns_serve.go). Docker listens on a
// random port and redirects 127.0.0.11:53 to it with iptables rules in the
// namespace; we can bind port 53 itself, since the namespace's port 53 is
// free and the daemon runs as root.
//
// It answers, from the manager's endpoints:
//   - A records for the names, aliases and short IDs of the containers on
//     the networks the asking container is on (all of them, for a name
//     several containers share: Compose's service name when scaled);
//   - PTR records for their addresses;
//   - the aliases of the asker's own --link options (SetLinkAliases).
//
// A name of a container on a network the asker is not on is not answered.
// A name without a dot that nobody here has is NXDOMAIN at once (never
// sent off the machine); anything else goes to the upstream servers (the
// host's, or --dns), from the daemon's own namespace.
//
// The wire format (names, headers, records, compression) is the job of
// golang.org/x/net/dns/dnsmessage; what this file decides is which answer
// a question gets (respond).

// DNSAddress is where containers on user-defined networks find the server.
const DNSAddress = "127.0.0.11"

// recordTTL is the time to live of our answers, in seconds (docker's 600).
const recordTTL = 600

// resolver is one container's DNS server: its sockets and what it forwards.
type resolver struct {
	upstream []string          // "ip:port" servers for names that are not ours
	links    map[string]string // --link alias → container name, for this asker only (under Manager.mu)

	mu    sync.Mutex
	udp   net.PacketConn
	tcp   net.Listener
	conns map[net.Conn]bool // open TCP connections, closed by stop
}

// newResolver makes a resolver that forwards to upstream, "ip" or
// "ip:port" servers (port 53 when none is given).
func newResolver(upstream []string) *resolver {
	r := &resolver{conns: map[net.Conn]bool{}}
	for _, u := range upstream {
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		r.upstream = append(r.upstream, u)
	}
	return r
}

// StartResolver starts the embedded DNS server in the namespace of the
// container's first endpoint. upstream are "ip" or "ip:port" servers for
// the names it does not know.
func (m *Manager) StartResolver(containerID string, upstream []string) error {
	ep, ok := m.Endpoint(containerID)
	if !ok {
		return fmt.Errorf("container %s has no network namespace", containerID)
	}
	var pc net.PacketConn
	var l net.Listener
	err := RunInNetns(ep.NetnsPath, func() error {
		var err error
		if pc, err = net.ListenPacket("udp4", DNSAddress+":53"); err != nil {
			return err
		}
		if l, err = net.Listen("tcp4", DNSAddress+":53"); err != nil {
			pc.Close()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded DNS server: %w", err)
	}
	r := newResolver(upstream)
	r.serve(pc, l, func(query []byte, proto string) []byte { return m.respond(containerID, r, query, proto) })
	m.mu.Lock()
	old := m.resolvers[containerID]
	m.resolvers[containerID] = r
	m.mu.Unlock()
	old.stop()
	return nil
}

// SetLinkAliases gives the container's DNS server the aliases of its
// --link options on a user-defined network (alias → container name): like
// docker's, they are names only this container resolves.
func (m *Manager) SetLinkAliases(containerID string, links map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.resolvers[containerID]; r != nil {
		r.links = links
	}
}

// StopResolver stops the container's DNS server, if it has one.
func (m *Manager) StopResolver(containerID string) {
	m.mu.Lock()
	r := m.resolvers[containerID]
	delete(m.resolvers, containerID)
	m.mu.Unlock()
	r.stop()
}

// respond answers one DNS message of the container's, given and returned
// in wire format; nil means no reply at all (a message too short to have
// an ID, or a response rather than a query). proto ("udp" or "tcp") is how
// the query came, which is also how it is forwarded, and UDP replies are
// kept to the size the client can take.
func (m *Manager) respond(containerID string, r *resolver, query []byte, proto string) []byte {
	var q dnsmessage.Message
	err := q.Unpack(query)
	if len(query) < headerLen || q.Header.Response {
		return nil
	}
	reply := dnsmessage.Message{Header: replyHeader(q.Header)}
	switch {
	case err != nil || len(q.Questions) != 1:
		reply.Header.RCode = dnsmessage.RCodeFormatError
		return pack(reply, proto, udpSizeOf(q))
	case q.Header.OpCode != 0: // only QUERY (a NOTIFY or UPDATE is not for us)
		reply.Header.RCode = dnsmessage.RCodeNotImplemented
		return pack(reply, proto, udpSizeOf(q))
	}
	question := q.Questions[0]
	reply.Questions = q.Questions
	reply.Answers, reply.Header.RCode = m.answers(containerID, question)
	if reply.Header.RCode == dnsmessage.RCodeNameError && forwardable(question.Name, r.upstream) {
		if fwd := forward(r.upstream, query, proto); fwd != nil {
			return fwd
		}
		reply.Header.RCode = dnsmessage.RCodeServerFailure
	}
	return pack(reply, proto, udpSizeOf(q))
}

// answers are the records this server has for one question, and the code
// of the reply: NXDOMAIN for a name that is not ours.
func (m *Manager) answers(containerID string, q dnsmessage.Question) ([]dnsmessage.Resource, dnsmessage.RCode) {
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type, Class: dnsmessage.ClassINET, TTL: recordTTL}
	switch ips, known := m.lookup(containerID, name); {
	case known && q.Type == dnsmessage.TypeA:
		var rrs []dnsmessage.Resource
		for _, ip := range ips {
			rrs = append(rrs, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AResource{A: ip.As4()}})
		}
		return rrs, dnsmessage.RCodeSuccess
	case known:
		// the name is ours but has no record of that type (AAAA): NOERROR, empty
		return nil, dnsmessage.RCodeSuccess
	case q.Type == dnsmessage.TypePTR:
		if host, err := dnsmessage.NewName(m.reverse(containerID, q.Name.String()) + "."); err == nil && host.Length > 1 {
			return []dnsmessage.Resource{{Header: hdr, Body: &dnsmessage.PTRResource{PTR: host}}}, dnsmessage.RCodeSuccess
		}
	}
	return nil, dnsmessage.RCodeNameError
}

// forwardable: a name we do not have goes to the upstream servers, unless
// there are none or it has no dot (a container name that does not exist
// must not leave the machine).
func forwardable(name dnsmessage.Name, upstream []string) bool {
	return len(upstream) > 0 && strings.Contains(strings.TrimSuffix(name.String(), "."), ".")
}

// headerLen is the size of a DNS header: a message shorter than that has
// no ID to answer to.
const headerLen = 12

// replyHeader starts the reply to a query: same ID, opcode and flags the
// client asked with, and recursion available (we forward).
func replyHeader(q dnsmessage.Header) dnsmessage.Header {
	return dnsmessage.Header{
		ID: q.ID, Response: true, OpCode: q.OpCode,
		RecursionDesired: q.RecursionDesired, RecursionAvailable: true,
		CheckingDisabled: q.CheckingDisabled,
	}
}

// udpSizeOf is the largest UDP reply the client takes: 512 bytes (RFC
// 1035), or more if it says so in an EDNS0 OPT record, whose class field
// carries that size (RFC 6891).
func udpSizeOf(q dnsmessage.Message) int {
	size := 512
	for _, rr := range q.Additionals {
		if rr.Header.Type == dnsmessage.TypeOPT {
			size = max(size, int(rr.Header.Class))
		}
	}
	return size
}

// pack turns the reply into wire format. Over UDP it must fit the
// client's size: answers that do not are left out, and the TC bit tells
// the client that it got only part and may ask again over TCP (where a
// message may have 64 KiB).
func pack(reply dnsmessage.Message, proto string, udpSize int) []byte {
	limit := 65535
	if proto == "udp" {
		limit = udpSize
	}
	all := reply.Answers
	packed := func(n int) []byte {
		reply.Answers, reply.Header.Truncated = all[:n], n < len(all)
		b, err := reply.Pack()
		if err != nil {
			return nil
		}
		return b
	}
	// the most answers that fit (all of them, usually)
	n := sort.Search(len(all)+1, func(n int) bool { return len(packed(n)) > limit }) - 1
	return packed(max(n, 0))
}

// askerNetworks are the IDs of the networks the container is on.
func (m *Manager) askerNetworks(containerID string) map[string]bool {
	nets := map[string]bool{}
	for _, ep := range m.eps {
		if ep.ContainerID == containerID {
			nets[ep.NetworkID] = true
		}
	}
	return nets
}

// lookup finds the addresses of name on the networks the container is on.
func (m *Manager) lookup(containerID, name string) (ips []netip.Addr, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.resolvers[containerID]; r != nil && r.links[name] != "" {
		name = strings.ToLower(r.links[name])
	}
	nets := m.askerNetworks(containerID)
	for _, ep := range m.eps {
		if !nets[ep.NetworkID] || m.nets[ep.NetworkID] == nil || m.nets[ep.NetworkID].Default {
			continue // the default bridge has no names, as in docker
		}
		if endpointNamed(ep, name) {
			ips = append(ips, ep.IP)
		}
	}
	return ips, len(ips) > 0
}

func endpointNamed(ep *Endpoint, name string) bool {
	if strings.EqualFold(ep.Name, name) || (len(name) == 12 && strings.HasPrefix(ep.ContainerID, name)) {
		return true
	}
	for _, a := range ep.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// reverse is the container name for an in-addr.arpa name of an address on
// one of the asker's user-defined networks.
func (m *Manager) reverse(containerID, arpa string) string {
	ip, err := netip.ParseAddr(reverseIP(arpa))
	if err != nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nets := m.askerNetworks(containerID)
	for _, ep := range m.eps {
		if nets[ep.NetworkID] && ep.IP == ip && m.nets[ep.NetworkID] != nil && !m.nets[ep.NetworkID].Default {
			return ep.Name + "." + ep.Network
		}
	}
	return ""
}

// reverseIP turns "4.3.2.1.in-addr.arpa." into "1.2.3.4".
func reverseIP(arpa string) string {
	s, ok := strings.CutSuffix(strings.ToLower(arpa), ".in-addr.arpa.")
	if !ok {
		return ""
	}
	p := strings.Split(s, ".")
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return strings.Join(p, ".")
}

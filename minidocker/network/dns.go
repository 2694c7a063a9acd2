package network

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The embedded DNS server, docker's 127.0.0.11. A container on a
// user-defined network gets "nameserver 127.0.0.11" in its resolv.conf and
// a small server listening there, inside its own network namespace: the
// sockets are made on a thread that joined the namespace (RunInNetns) and
// then served from ordinary goroutines. Docker listens on a random port and
// redirects 127.0.0.11:53 to it with iptables rules in the namespace; we
// can bind port 53 itself, since the namespace's port 53 is free and the
// daemon runs as root.
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

// DNSAddress is where containers on user-defined networks find the server.
const DNSAddress = "127.0.0.11"

type resolver struct {
	servers  []*dns.Server
	upstream []string
	links    map[string]string // --link alias → container name, for this asker only
}

// StartResolver starts the embedded DNS server in the namespace of the
// container's first endpoint. upstream are "ip" or "ip:port" servers for
// the names it does not know.
func (m *Manager) StartResolver(containerID string, upstream []string) error {
	ep, ok := m.Endpoint(containerID)
	if !ok {
		return fmt.Errorf("container %s has no network namespace", containerID)
	}
	r := &resolver{}
	for _, u := range upstream {
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		r.upstream = append(r.upstream, u)
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
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) { m.answer(containerID, r, w, q) })
	r.servers = []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}}
	for _, s := range r.servers {
		go s.ActivateAndServe()
	}
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

func (r *resolver) stop() {
	if r == nil {
		return
	}
	for _, s := range r.servers {
		s.Shutdown()
	}
}

// answer serves one query of the container's.
func (m *Manager) answer(containerID string, r *resolver, w dns.ResponseWriter, q *dns.Msg) {
	reply := new(dns.Msg)
	reply.SetReply(q)
	reply.RecursionAvailable = true
	if len(q.Question) != 1 {
		reply.Rcode = dns.RcodeFormatError
		w.WriteMsg(reply)
		return
	}
	qn := q.Question[0]
	name := strings.ToLower(strings.TrimSuffix(qn.Name, "."))
	switch ips, known := m.lookup(containerID, name); {
	case known && qn.Qtype == dns.TypeA:
		for _, ip := range ips {
			reply.Answer = append(reply.Answer, &dns.A{Hdr: dns.RR_Header{Name: qn.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 600}, A: ip.AsSlice()})
		}
	case known:
		// the name is ours but has no record of that type (AAAA): NOERROR, empty
	case qn.Qtype == dns.TypePTR:
		if host := m.reverse(containerID, qn.Name); host != "" {
			reply.Answer = append(reply.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: qn.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 600}, Ptr: dns.Fqdn(host)})
		} else {
			reply.Rcode = dns.RcodeNameError
		}
	case !strings.Contains(name, ".") || len(r.upstream) == 0:
		reply.Rcode = dns.RcodeNameError
	default:
		reply = forward(r.upstream, q, w.LocalAddr().Network())
	}
	w.WriteMsg(reply)
}

// forward asks the upstream servers in turn; SERVFAIL when none answers.
func forward(upstream []string, q *dns.Msg, proto string) *dns.Msg {
	c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
	for _, u := range upstream {
		if resp, _, err := c.Exchange(q, u); err == nil {
			return resp
		} else {
			slog.Debug("embedded DNS: upstream failed", "server", u, "err", err)
		}
	}
	fail := new(dns.Msg)
	fail.SetRcode(q, dns.RcodeServerFailure)
	return fail
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

package network

// Forgetting a removed container's connections. The kernel's connection
// tracker (conntrack) remembers every flow to or from a container's
// address, with its NAT: the DNAT of a published port, the MASQUERADE of
// the container's own connections. Left there, a flow could outlive the
// container and be steered to whoever gets the address next, or keep a
// UDP client on a published port talking to a dead container. So the
// address's entries go before the address is handed out again, as docker
// does when an endpoint leaves.
//
// The kernel offers no lookup by address: forgetting means one pass over
// its whole table (a dump with a filter), 262,144 buckets on the course
// VM, about 7 ms of CPU whatever the table holds. Once per `run --rm`
// that was a fifth of the CPU a bridged run costs. So the passes are
// shared: a released address waits in ctPending, still out of the pool
// (m.dying), and one pass forgets a batch of them. A pass runs at once
// for an endpoint that published ports (a UDP client of that port may be
// sending right now), when conntrackBatch addresses wait, when the pool
// has nothing else to give (AttachBegin, AttachSecondary), when an
// address that waits is asked for by name (waitReleased), and in Wait.

import (
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// conntrackBatch is how many released addresses share one pass.
const conntrackBatch = 8

// forgetConnections is the release of ip once its veth is gone: its
// conntrack entries are forgotten, now (published ports, or a full
// batch) or with the next pass, and then it is back in the pool.
func (m *Manager) forgetConnections(ip netip.Addr, publishedPorts bool) {
	m.mu.Lock()
	m.ctPending = append(m.ctPending, ip)
	now := publishedPorts || len(m.ctPending) >= conntrackBatch
	m.mu.Unlock()
	if now {
		m.flushConnections()
	}
}

// flushConnectionsOf runs a pass if ip waits for one.
func (m *Manager) flushConnectionsOf(ip netip.Addr) {
	m.mu.Lock()
	waits := slices.Contains(m.ctPending, ip)
	m.mu.Unlock()
	if waits {
		m.flushConnections()
	}
}

// flushConnections makes one pass for every address that waits and gives
// them back to the pool. It reports whether any address came back.
func (m *Manager) flushConnections() bool {
	m.ctPass.Lock()
	defer m.ctPass.Unlock()
	m.mu.Lock()
	ips := m.ctPending
	m.ctPending = nil
	m.mu.Unlock()
	if len(ips) == 0 {
		return false
	}
	forgetFlows(ips)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ip := range ips {
		if m.dying[ip]--; m.dying[ip] <= 0 {
			delete(m.dying, ip)
		}
	}
	return true
}

// forgetFlows deletes, in one pass over the kernel's table, the IPv4
// conntrack entries whose reply side has one of ips as its source or
// destination (the container's side of a flow, after any NAT).
func forgetFlows(ips []netip.Addr) {
	var filters []netlink.CustomConntrackFilter
	for _, ip := range ips {
		f := &netlink.ConntrackFilter{}
		if ip.IsValid() && f.AddIP(netlink.ConntrackReplyAnyIP, net.IP(ip.AsSlice())) == nil {
			filters = append(filters, f)
		}
	}
	if len(filters) > 0 {
		netlink.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	}
}

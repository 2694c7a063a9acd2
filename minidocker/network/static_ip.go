package network

import (
	"net/netip"
	"time"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// Fixed addresses (`run --ip`, `network connect --ip`). As in docker, a
// container may choose its address only on a network whose subnet the
// user chose too: an automatic subnet could be a different one after the
// network is made again, and the address would then mean nothing. The
// address is not held while the container is stopped (docker does not
// either); the container's record keeps it and every start asks for it
// again, so it fails then if someone else took it meanwhile.

// CheckStaticIP tells whether a container may ask for ip on the network
// called ref, in dockerd's words (all a 400): create and `network connect`
// call it before they record anything.
func (m *Manager) CheckStaticIP(ref string, ip netip.Addr) error {
	if !ip.Is4() || ip.IsUnspecified() {
		return errdefs.Invalid("invalid IPv4 address: %s", ip)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.findNetLocked(ref)
	if err != nil {
		return err
	}
	switch {
	case n.Default:
		return errdefs.Invalid("user specified IP address is supported on user defined networks only")
	case !n.UserSubnet:
		return errdefs.Invalid("user specified IP address is supported only when connecting to networks with user configured subnets")
	case !n.Subnet.Contains(ip):
		return errdefs.Invalid("no configured subnet or ip-range contain the IP address %s", ip)
	}
	return nil
}

// ipForLocked is the address of a new endpoint on n: the one asked for, if
// it is free, or the next free one.
func (m *Manager) ipForLocked(n *netRecord, asked netip.Addr) (netip.Addr, error) {
	if !asked.IsValid() {
		return m.allocIPLocked(n)
	}
	if !n.Subnet.Contains(asked) || !n.UserSubnet {
		// the network was made again with another subnet since create
		return netip.Addr{}, errdefs.Invalid("no configured subnet or ip-range contain the IP address %s", asked)
	}
	if asked == n.Gateway || asked == n.Subnet.Masked().Addr() || !n.Subnet.Contains(asked.Next()) || m.ipTakenLocked(n, asked) {
		// the network address, the gateway, the broadcast address, or
		// another container's: docker's ErrIPAlreadyAllocated (a 403)
		return netip.Addr{}, errdefs.Forbidden("Address already in use")
	}
	return asked, nil
}

func (m *Manager) ipTakenLocked(n *netRecord, ip netip.Addr) bool {
	for _, e := range m.eps {
		if e.NetworkID == n.ID && e.IP == ip {
			return true
		}
	}
	return false
}

// waitReleased waits (a bounded while) until ip is no longer being
// released: a restarting container asks for the address its previous
// run's veth still has for the few milliseconds its deletion takes.
// Once the veth is gone the address waits for a conntrack pass, which
// this wait brings on (conntrack.go).
func (m *Manager) waitReleased(ip netip.Addr) {
	if !ip.IsValid() {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		m.flushConnectionsOf(ip)
		m.mu.Lock()
		busy := m.dying[ip] > 0
		m.mu.Unlock()
		if !busy {
			return
		}
	}
}

package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestAllocIP: the first free address of the subnet, never the network
// address, the gateway, the broadcast address, an address in use on this
// network or one whose veth is still being deleted; another network's
// addresses do not count; a full subnet is docker's error.
func TestAllocIP(t *testing.T) {
	n := &netRecord{ID: "n1", Name: "net1", Subnet: netip.MustParsePrefix("10.99.0.0/29"), Gateway: netip.MustParseAddr("10.99.0.1")}
	m := &Manager{eps: map[string]*Endpoint{}, dying: map[netip.Addr]int{}}
	use := func(cid, network, ip string) {
		m.eps[cid] = &Endpoint{ContainerID: cid, NetworkID: network, IP: netip.MustParseAddr(ip)}
	}
	use("a", "n1", "10.99.0.2")
	use("b", "n1", "10.99.0.4")
	use("x", "other", "10.99.0.3") // another network's endpoint
	want := func(ip string) {
		t.Helper()
		got, err := m.allocIPLocked(n)
		if err != nil || got.String() != ip {
			t.Fatalf("allocIPLocked = %v, %v; want %s", got, err, ip)
		}
		use("c"+ip, "n1", ip)
	}
	want("10.99.0.3")
	m.dying[netip.MustParseAddr("10.99.0.5")] = 1
	want("10.99.0.6")
	_, err := m.allocIPLocked(n) // .7 is the broadcast address
	if err == nil || !strings.Contains(err.Error(), "no available IPv4 addresses on this network's address pools: net1 (n1)") {
		t.Fatalf("full subnet: %v, want docker's 'no available IPv4 addresses' error", err)
	}
	delete(m.dying, netip.MustParseAddr("10.99.0.5"))
	want("10.99.0.5")
}

// TestFreeSubnet: a new network's /24 comes from 10.67.0.0–10.87.255.0 and
// overlaps neither an existing network nor any route of the host.
func TestFreeSubnet(t *testing.T) {
	m := &Manager{nets: map[string]*netRecord{}}
	var taken []netip.Prefix
	if routes, err := netlink.RouteList(nil, netlink.FAMILY_V4); err == nil {
		for _, r := range routes {
			if r.Dst != nil {
				if p, err := netip.ParsePrefix(r.Dst.String()); err == nil && p.Bits() > 0 {
					taken = append(taken, p)
				}
			}
		}
	}
	for i := 0; i < 3; i++ {
		p, err := m.freeSubnetLocked()
		if err != nil {
			t.Fatal(err)
		}
		a := p.Addr().As4()
		if p.Bits() != 24 || a[0] != 10 || a[1] < 67 || a[1] > 87 || p.Masked() != p {
			t.Fatalf("freeSubnetLocked = %s, want a /24 in 10.67.0.0–10.87.255.0", p)
		}
		for _, tk := range taken {
			if tk.Overlaps(p) {
				t.Fatalf("freeSubnetLocked = %s overlaps %s (a host route or an earlier network)", p, tk)
			}
		}
		taken = append(taken, p)
		m.nets[p.String()] = &netRecord{ID: p.String(), Subnet: p}
	}
}

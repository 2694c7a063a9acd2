package network

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// trackFlow puts a UDP flow of ip's into the kernel's conntrack table, as
// if ip had sent a query to a documentation address (TEST-NET-2): no
// packet is sent, only the table entry is made.
func trackFlow(t *testing.T, ip netip.Addr, sport uint16) {
	t.Helper()
	peer := net.ParseIP("198.51.100.7")
	flow := &netlink.ConntrackFlow{
		FamilyType: unix.AF_INET,
		Forward:    netlink.IPTuple{SrcIP: net.IP(ip.AsSlice()), DstIP: peer, Protocol: unix.IPPROTO_UDP, SrcPort: sport, DstPort: 53},
		Reverse:    netlink.IPTuple{SrcIP: peer, DstIP: net.IP(ip.AsSlice()), Protocol: unix.IPPROTO_UDP, SrcPort: 53, DstPort: sport},
		TimeOut:    120,
	}
	if err := netlink.ConntrackCreate(netlink.ConntrackTable, unix.AF_INET, flow); err != nil {
		t.Fatalf("conntrack entry for %v: %v", ip, err)
	}
	t.Cleanup(func() { forgetFlows([]netip.Addr{ip}) })
}

// tracked says whether the kernel still has a flow of ip's.
func tracked(t *testing.T, ip netip.Addr) bool {
	t.Helper()
	flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows {
		if f.Reverse.DstIP.Equal(net.IP(ip.AsSlice())) || f.Reverse.SrcIP.Equal(net.IP(ip.AsSlice())) {
			return true
		}
	}
	return false
}

// A removed container's flows are forgotten before its address is handed
// out again: at once when it published ports, otherwise with the next
// shared pass, which a full pool, an address asked for by name, or Wait
// brings on.
func TestConnectionsForgottenBeforeTheAddressReturns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	attach := func(req AttachRequest) *Endpoint {
		t.Helper()
		req.ContainerID = "ct" + testutil.RandomHex(8)
		ep, err := e.m.Attach(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return ep
	}
	detach := func(ep *Endpoint) {
		t.Helper()
		if err := e.m.Detach(ep.ContainerID); err != nil {
			t.Fatal(err)
		}
		e.m.bg.Wait() // the veth is gone; a pass may still be to come
	}

	// published ports: forgotten with the veth, no pass to wait for
	p := attach(AttachRequest{Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	trackFlow(t, p.IP, 5001)
	detach(p)
	if tracked(t, p.IP) {
		t.Errorf("%v: a flow of a container that published ports outlived its removal", p.IP)
	}

	// no ports: the address stays out of the pool while its flow is known
	a := attach(AttachRequest{})
	trackFlow(t, a.IP, 5002)
	detach(a)
	b := attach(AttachRequest{})
	if b.IP == a.IP && tracked(t, a.IP) {
		t.Errorf("%v was handed out again while a flow of the removed container was still tracked", a.IP)
	}
	detach(b)
	if err := e.m.Wait(); err != nil {
		t.Fatal(err)
	}
	if tracked(t, a.IP) {
		t.Errorf("%v: flow still tracked after Wait", a.IP)
	}

	// asked for by name (a user network's --ip), it comes back clean,
	// also when asked for while its veth is still being deleted (a
	// restart): the wait for the address brings its pass on
	sub := testutil.FreeSubnet(t, 29)
	if _, err := e.m.CreateNetwork(NetworkSpec{Name: "tiny", Subnet: sub.String()}); err != nil {
		t.Fatal(err)
	}
	for i, waitVeth := range []bool{true, false} {
		first := attach(AttachRequest{Network: "tiny"})
		trackFlow(t, first.IP, uint16(5003+i))
		if waitVeth {
			detach(first)
		} else if err := e.m.Detach(first.ContainerID); err != nil {
			t.Fatal(err)
		}
		named := attach(AttachRequest{Network: "tiny", IP: first.IP})
		if named.IP != first.IP || tracked(t, first.IP) {
			t.Errorf("asked for %v (veth gone first: %v): got %v, flow still tracked: %v", first.IP, waitVeth, named.IP, tracked(t, first.IP))
		}
		detach(named)
	}

	// a pool of five addresses, all five released with their flows: the
	// sixth container still gets one, and none of the flows is left
	var gone []netip.Addr
	for i := range 5 {
		ep := attach(AttachRequest{Network: "tiny"})
		trackFlow(t, ep.IP, uint16(6000+i))
		gone = append(gone, ep.IP)
	}
	for _, ep := range e.m.Endpoints() {
		if ep.Network == "tiny" {
			detach(ep)
		}
	}
	sixth := attach(AttachRequest{Network: "tiny"})
	for _, ip := range gone {
		if tracked(t, ip) {
			t.Errorf("%v: flow still tracked after the pool was refilled", ip)
		}
	}
	detach(sixth)
	if err := e.m.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := e.m.RemoveNetwork("tiny"); err != nil {
		t.Fatal(err)
	}
	e.assertClean(t)
}

package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// linkNotFound reports whether netlink found no such link.
func linkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

func ipnet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, 32)}
}

// ensureBridge creates the bridge if needed, gives it exactly the gateway
// address, brings it up and turns on route_localnet on it (so packets from
// 127.0.0.1 that our OUTPUT DNAT sends to a container may leave through it).
func ensureBridge(name string, gw netip.Addr, subnet netip.Prefix, mtu int) error {
	l, err := netlink.LinkByName(name)
	if linkNotFound(err) {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		l, err = netlink.LinkByName(name)
	}
	if err != nil {
		return fmt.Errorf("bridge %s: %w", name, err)
	}
	if l.Type() != "bridge" {
		return fmt.Errorf("%s exists and is a %s, not a bridge", name, l.Type())
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return err
	}
	want := ipnet(gw, subnet.Bits())
	have := false
	for _, a := range addrs {
		if a.IPNet.String() == want.String() {
			have = true
			continue
		}
		netlink.AddrDel(l, &a)
	}
	if !have {
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: want}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("address %s on %s: %w", want, name, err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return err
	}
	return setSysctl("/proc/sys/net/ipv4/conf/"+name+"/route_localnet", "1")
}

func setSysctl(path, val string) error {
	cur, err := os.ReadFile(path)
	if err == nil && string(cur) == val+"\n" {
		return nil
	}
	return os.WriteFile(path, []byte(val), 0o644)
}

func (e *Endpoint) ifname() string {
	if e.Interface == "" {
		return "eth0"
	}
	return e.Interface
}

// setupVeth creates the pair with the container end born inside the
// namespace as eth0, puts the host end on the bridge, and configures eth0.
// setupVeth creates the endpoint's veth pair: the host end on the bridge,
// the other end as eth0 in the container's network namespace, with its
// address and default route.
func setupVeth(ep *Endpoint, mtu int) error {
	// exercise:begin 05-veth
	br, err := netlink.LinkByName(ep.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", ep.Bridge, err)
	}
	ns, err := netns.GetFromPath(ep.NetnsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	mac, _ := net.ParseMAC(ep.MacAddress)
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: ep.HostVeth, MTU: mtu, MasterIndex: br.Attrs().Index},
		PeerName:         ep.ifname(),
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.HostVeth, err)
	}
	host, err := netlink.LinkByName(ep.HostVeth)
	if err != nil {
		return err
	}
	// hairpin mode lets the bridge send a frame back out of the port it came
	// in on: a container reaching its own published port through the host
	// (with bridge netfilter the DNAT happens while the frame is bridged).
	if err := netlink.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("hairpin on %s: %w", ep.HostVeth, err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(lo); err != nil {
		return err
	}
	eth0, err := h.LinkByName(ep.ifname())
	if err != nil {
		return err
	}
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: ipnet(ep.IP, ep.PrefixLen)}); err != nil {
		return fmt.Errorf("address on %s: %w", ep.ifname(), err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return err
	}
	if ep.Secondary() || ep.Internal {
		// the default route stays with the first network, and an internal
		// network has none: its containers reach only each other
		return nil
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.IP(ep.Gateway.AsSlice())}); err != nil {
		return fmt.Errorf("default route via %s: %w", ep.Gateway, err)
	}
	return nil
	// exercise:end 05-veth
}

func deleteLink(name string) error {
	if name == "" {
		return nil
	}
	l, err := netlink.LinkByName(name)
	if linkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := netlink.LinkDel(l); err != nil && !linkNotFound(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// bridgePorts lists the interfaces enslaved to the bridge.
func bridgePorts(bridge string) ([]string, error) {
	br, err := netlink.LinkByName(bridge)
	if linkNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var links []netlink.Link
	for i := 0; i < 5; i++ {
		links, err = netlink.LinkList()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out, nil
}

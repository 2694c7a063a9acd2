package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	mobynet "github.com/moby/moby/api/types/network"
	"github.com/vishvananda/netlink"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// host and none are not bridges: the daemon handles those modes itself
// (no Attach). They are listed so `network ls` looks like docker's.
var pseudoNets = []string{"host", "none"}

func pseudoID(name string) string {
	s := sha256.Sum256([]byte("minidocker network " + name))
	return hex.EncodeToString(s[:])
}

// NetworkSpec is what `network create` asks for.
type NetworkSpec struct {
	Name    string
	Subnet  string // "" picks a free /24 from 10.67.0.0/16..10.87.255.0/24
	Gateway string // "" is the first address of the subnet
	Labels  map[string]string
	// Internal networks reach nothing outside their bridge: no default
	// route in the containers, no masquerade, no published ports, and
	// forwarding between the bridge and anything else is dropped.
	Internal bool
}

// CreateNetwork makes a user-defined bridge network (bridge device
// "br-<id12>") and returns its ID.
func (m *Manager) CreateNetwork(spec NetworkSpec) (string, error) {
	if err := checkNetworkName(spec.Name); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nameTakenLocked(spec.Name) {
		return "", errdefs.Conflict("network with name %s already exists", spec.Name)
	}
	pfx, err := m.chooseSubnetLocked(spec.Subnet)
	if err != nil {
		return "", err
	}
	gw, err := chooseGateway(pfx, spec.Gateway)
	if err != nil {
		return "", err
	}
	id := stringid.GenerateRandomID()
	n := &netRecord{
		ID: id, Name: spec.Name, Bridge: "br-" + id[:12], Subnet: pfx, Gateway: gw, Created: time.Now().UTC(),
		Labels: spec.Labels, UserSubnet: spec.Subnet != "", Internal: spec.Internal,
	}
	if err := m.setupNetwork(n); err != nil {
		m.teardownNetwork(n)
		return "", err
	}
	if err := writeJSON(filepath.Join(m.netDir(), id+".json"), n, true); err != nil {
		m.teardownNetwork(n)
		return "", err
	}
	m.nets[id] = n
	return id, nil
}

// nameTakenLocked tells whether a network, or one of the pseudo-networks
// host and none, has that name.
func (m *Manager) nameTakenLocked(name string) bool {
	if slices.Contains(pseudoNets, name) {
		return true
	}
	for _, n := range m.nets {
		if n.Name == name {
			return true
		}
	}
	return false
}

// checkNetworkName refuses an empty name and characters docker refuses.
func checkNetworkName(name string) error {
	if name == "" {
		return errdefs.Invalid("network name is required")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return errdefs.Invalid("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
		}
	}
	return nil
}

// chooseSubnetLocked is the subnet asked for (an IPv4 network address with
// room for containers, overlapping no other network) or, when none was,
// a free one from the pool.
func (m *Manager) chooseSubnetLocked(subnet string) (netip.Prefix, error) {
	if subnet == "" {
		return m.freeSubnetLocked()
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, errdefs.Invalid("invalid subnet %s: want an IPv4 CIDR such as 10.70.0.0/24", subnet)
	}
	if p.Masked() != p {
		return netip.Prefix{}, errdefs.Invalid("invalid subnet %s : it should be %s", subnet, p.Masked())
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, errdefs.Invalid("invalid subnet %s: too small for containers", subnet)
	}
	for _, n := range m.nets {
		if n.Subnet.Overlaps(p) {
			return netip.Prefix{}, errdefs.Forbidden("invalid pool request: Pool overlaps with other one on this address space")
		}
	}
	return p, nil
}

// chooseGateway is the gateway asked for (an address inside the subnet,
// not the network address) or the subnet's first address.
func chooseGateway(pfx netip.Prefix, gateway string) (netip.Addr, error) {
	if gateway == "" {
		return pfx.Addr().Next(), nil
	}
	g, err := netip.ParseAddr(gateway)
	if err != nil || !g.Is4() {
		return netip.Addr{}, errdefs.Invalid("invalid gateway address %s", gateway)
	}
	if !pfx.Contains(g) || g == pfx.Addr() {
		return netip.Addr{}, errdefs.Invalid("no matching subnet for gateway %s", gateway)
	}
	return g, nil
}

// freeSubnetLocked picks a /24 that overlaps neither our networks nor any
// route of the host.
func (m *Manager) freeSubnetLocked() (netip.Prefix, error) {
	// exercise:begin 05-ipam
	var taken []netip.Prefix
	for _, n := range m.nets {
		taken = append(taken, n.Subnet)
	}
	if routes, err := netlink.RouteList(nil, netlink.FAMILY_V4); err == nil {
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			if p, err := netip.ParsePrefix(r.Dst.String()); err == nil && p.Bits() > 0 {
				taken = append(taken, p)
			}
		}
	}
	for b := 67; b <= 87; b++ {
		for c := 0; c < 256; c++ {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), byte(c), 0}), 24)
			free := true
			for _, t := range taken {
				if t.Overlaps(p) {
					free = false
					break
				}
			}
			if free {
				return p, nil
			}
		}
	}
	return netip.Prefix{}, fmt.Errorf("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
	// exercise:end 05-ipam
}

// RemoveNetwork deletes a user-defined network and its bridge and rules.
func (m *Manager) RemoveNetwork(ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range append([]string{DefaultNetwork}, pseudoNets...) {
		if ref == p || ref == pseudoID(p) {
			return errdefs.Forbidden("%s is a pre-defined network and cannot be removed", p)
		}
	}
	n, err := m.findNetLocked(ref)
	if err != nil {
		return err
	}
	if n.Default {
		return errdefs.Forbidden("%s is a pre-defined network and cannot be removed", n.Name)
	}
	var users []string
	for _, ep := range m.eps {
		if ep.NetworkID == n.ID {
			users = append(users, fmt.Sprintf("name:%q id:%q", ep.Name, stringid.TruncateID(ep.ContainerID)))
		}
	}
	if len(users) > 0 {
		sort.Strings(users)
		return errdefs.Forbidden("error while removing network: network %s has active endpoints (%s)", n.Name, strings.Join(users, ", "))
	}
	if err := m.teardownNetwork(n); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(m.netDir(), n.ID+".json")); err != nil && !os.IsNotExist(err) {
		return err
	}
	delete(m.nets, n.ID)
	return nil
}

func (m *Manager) summaryLocked(n *netRecord) mobynet.Network {
	opts := map[string]string{}
	hostBinding := "0.0.0.0"
	if m.cfg.DefaultHostIP != "" {
		hostBinding = m.cfg.DefaultHostIP
	}
	if n.Default {
		opts = map[string]string{
			"com.docker.network.bridge.default_bridge":       "true",
			"com.docker.network.bridge.enable_icc":           "true",
			"com.docker.network.bridge.enable_ip_masquerade": strconv.FormatBool(m.cfg.IPTables),
			"com.docker.network.bridge.host_binding_ipv4":    hostBinding,
			"com.docker.network.bridge.name":                 n.Bridge,
			"com.docker.network.driver.mtu":                  strconv.Itoa(m.cfg.MTU),
		}
	}
	labels := n.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return mobynet.Network{
		Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: "bridge",
		EnableIPv4: true, Internal: n.Internal,
		IPAM:    mobynet.IPAM{Driver: "default", Config: []mobynet.IPAMConfig{{Subnet: n.Subnet, Gateway: n.Gateway}}},
		Options: opts, Labels: labels,
	}
}

func pseudoNetwork(name string) mobynet.Network {
	driver := name
	if name == "none" {
		driver = "null"
	}
	return mobynet.Network{
		Name: name, ID: pseudoID(name), Scope: "local", Driver: driver, EnableIPv4: true,
		IPAM:    mobynet.IPAM{Driver: "default", Config: []mobynet.IPAMConfig{}},
		Options: map[string]string{}, Labels: map[string]string{},
	}
}

// ListNetworks is `network ls`: the bridges plus host and none, by name.
func (m *Manager) ListNetworks() []mobynet.Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mobynet.Summary
	for _, n := range m.nets {
		out = append(out, mobynet.Summary{Network: m.summaryLocked(n)})
	}
	for _, p := range pseudoNets {
		out = append(out, mobynet.Summary{Network: pseudoNetwork(p)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// InspectNetwork is `network inspect NAME|ID` in docker's shape, with the
// attached containers.
func (m *Manager) InspectNetwork(ref string) (*mobynet.Inspect, error) {
	for _, p := range pseudoNets {
		if ref == p || ref == pseudoID(p) {
			return &mobynet.Inspect{Network: pseudoNetwork(p), Containers: map[string]mobynet.EndpointResource{}}, nil
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.findNetLocked(ref)
	if err != nil {
		return nil, err
	}
	res := &mobynet.Inspect{Network: m.summaryLocked(n), Containers: map[string]mobynet.EndpointResource{}}
	for _, ep := range m.eps {
		if ep.NetworkID != n.ID {
			continue
		}
		mac, _ := net.ParseMAC(ep.MacAddress)
		res.Containers[ep.ContainerID] = mobynet.EndpointResource{
			Name: ep.Name, EndpointID: ep.EndpointID, MacAddress: mobynet.HardwareAddr(mac),
			IPv4Address: netip.PrefixFrom(ep.IP, ep.PrefixLen),
		}
	}
	return res, nil
}

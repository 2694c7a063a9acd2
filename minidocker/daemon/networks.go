package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// This file is the seam between containers and networking. The container
// code calls only these hooks: checkNetworking at create, connect at start,
// disconnect when the container stops or is removed; networkSettings for
// inspect and portsSummary for ps. Everything else (bridges, veths, IPs,
// iptables) is package network's business.
//
// A container's network mode is one of
//
//	default, bridge   the default bridge (docker's docker0; ours: --bridge)
//	NAME or ID        a user-defined bridge network (`network create`)
//	host              the host's own network namespace: nothing to make
//	none              a new network namespace with only lo (the runtime's)
//	container:X       join X's network namespace (X must be running)

// initNetworks opens the network manager: the default bridge, iptables
// base rules, the IPAM state under <data-root>/network. Containers are not
// loaded yet, so liveness is read from their records on disk: an endpoint
// of a container whose record is gone or says it is not running is removed
// (with its veth, rules and ports); one whose record says running stays, and
// if its shim turns out to be dead the container code's exit handling
// disconnects it.
func (d *Daemon) initNetworks() error {
	if d.cfg.IPTablesEnabled() {
		// as dockerd does when it manages iptables: containers reach out
		// and published ports are reachable from elsewhere only with it
		if err := network.EnableIPForward(); err != nil {
			slog.Warn("could not turn on net.ipv4.ip_forward", "err", err)
		}
	}
	for _, w := range network.CheckHost() {
		slog.Warn(w)
	}
	m, err := network.New(network.Config{
		BridgeName:  d.cfg.Bridge,
		BridgeCIDR:  d.cfg.Bip,
		ChainPrefix: d.cfg.IPTablesChain,
		IPTables:    d.cfg.IPTablesEnabled(),
		StateDir:    filepath.Join(d.cfg.DataRoot, "network"),
		ExecRoot:    d.cfg.ExecRoot,
		Live:        d.recordSaysRunning,
	})
	if err != nil {
		return fmt.Errorf("setting up networking: %w", err)
	}
	d.networks = m
	return nil
}

// recordSaysRunning reads a container's saved state straight from its
// record (config.v2.json), for reconciling networks before the container
// store is loaded.
func (d *Daemon) recordSaysRunning(id string) bool {
	b, err := os.ReadFile(filepath.Join(d.containersDir(), id, "config.v2.json"))
	if err != nil {
		return false
	}
	var rec struct {
		State struct{ Running, Restarting bool }
	}
	if json.Unmarshal(b, &rec) != nil {
		return false
	}
	return rec.State.Running || rec.State.Restarting
}

func (d *Daemon) closeNetworks() error {
	if d.networks == nil {
		return nil
	}
	if d.cfg.RemoveNetworkOnExit {
		return d.networks.Cleanup()
	}
	return d.networks.Close()
}

// networkWarnings are the host problems `info` reports (ip_forward off,
// bridge netfilter missing).
func (d *Daemon) networkWarnings() []string { return network.CheckHost() }

// netManager is the network manager, or a 503 when networking could not
// be set up (the daemon still answers everything else).
func (d *Daemon) netManager() (*network.Manager, error) {
	if d.networks == nil {
		return nil, errdefs.Unavailable("networking is not initialised")
	}
	return d.networks, nil
}

// InspectNetwork is `docker network inspect`.
func (d *Daemon) InspectNetwork(ref string) (*mobynet.Inspect, error) {
	m, err := d.netManager()
	if err != nil {
		return nil, err
	}
	res, err := m.InspectNetwork(ref)
	return res, err
}

// CreateNetwork is `docker network create`: the bridge driver, with at
// most one IPv4 subnet (and its gateway).
func (d *Daemon) CreateNetwork(req mobynet.CreateRequest) (string, error) {
	m, err := d.netManager()
	if err != nil {
		return "", err
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return "", errdefs.NotFound("plugin %q not found", req.Driver)
	}
	if err := refuseUnsupportedNetworkOptions(req); err != nil {
		return "", err
	}
	if req.Internal && !d.cfg.IPTablesEnabled() {
		// its isolation is made of iptables rules
		return "", errdefs.Invalid("internal networks need iptables, which is disabled in the daemon's settings (--iptables=false)")
	}
	var subnet, gateway string
	if req.IPAM != nil {
		if len(req.IPAM.Config) > 1 {
			return "", errdefs.Invalid("only one subnet per network is supported")
		}
		if len(req.IPAM.Config) == 1 {
			c := req.IPAM.Config[0]
			if c.Subnet.IsValid() {
				subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				gateway = c.Gateway.String()
			}
			if gateway != "" && subnet == "" {
				return "", errdefs.Invalid("invalid gateway %s: a gateway needs a subnet", gateway)
			}
		}
	}
	id, err := m.CreateNetwork(network.NetworkSpec{Name: req.Name, Subnet: subnet, Gateway: gateway, Labels: req.Labels, Internal: req.Internal})
	if err == nil {
		d.networkEvent("create", id, req.Name, "")
	}
	return id, err
}

// refuseUnsupportedNetworkOptions refuses what a request to create a
// network asks for that the bridge driver here does not do, rather than
// make a network that lacks it: driver and IPAM options, IPv6 (or no
// IPv4), IP ranges and auxiliary addresses, another IPAM driver, and the
// swarm ingress and config-only kinds of network. Attachable passes: it
// concerns swarm's networks only, and dockerd takes it on a local one
// without effect too (docker-compose 1.x sets it on every network).
func refuseUnsupportedNetworkOptions(req mobynet.CreateRequest) error {
	unsupported := func(what string) error { return errdefs.Invalid("minidocker does not support %s yet", what) }
	switch {
	case len(req.Options) > 0:
		return unsupported("network driver options (--opt)")
	case req.EnableIPv6 != nil && *req.EnableIPv6:
		return unsupported("IPv6 networks (--ipv6)")
	case req.EnableIPv4 != nil && !*req.EnableIPv4:
		return unsupported("networks without IPv4 (--ipv4=false)")
	case req.Scope != "" && req.Scope != "local":
		return unsupported(fmt.Sprintf("the %q network scope (only local)", req.Scope))
	case req.Ingress:
		return unsupported("swarm ingress networks (--ingress)")
	case req.ConfigOnly || req.ConfigFrom != nil:
		return unsupported("config-only networks (--config-only, --config-from)")
	case req.IPAM == nil:
		return nil
	case req.IPAM.Driver != "" && req.IPAM.Driver != "default":
		return errdefs.NotFound("plugin %q not found", req.IPAM.Driver)
	case len(req.IPAM.Options) > 0:
		return unsupported("IPAM driver options (--ipam-opt)")
	}
	for _, c := range req.IPAM.Config {
		if c.IPRange.IsValid() {
			return unsupported("--ip-range")
		}
		if len(c.AuxAddress) > 0 {
			return unsupported("--aux-address")
		}
	}
	return nil
}

// RemoveNetwork is `docker network rm`.
func (d *Daemon) RemoveNetwork(ref string) error {
	m, err := d.netManager()
	if err != nil {
		return err
	}
	insp, err := m.InspectNetwork(ref)
	if err != nil {
		return err
	}
	if err := m.RemoveNetwork(ref); err != nil {
		return err
	}
	d.networkEvent("destroy", insp.ID, insp.Name, "")
	return nil
}

// netMode is a container's network mode with the default spelled out.
type netMode struct {
	kind string // "bridge" (default or user network), "host", "none", "container"
	arg  string // the network name for bridge, the container reference for container
}

func parseNetMode(m container.NetworkMode) netMode {
	s := string(m)
	switch {
	case s == "" || s == "default" || s == network.DefaultNetwork:
		return netMode{kind: "bridge", arg: network.DefaultNetwork}
	case s == "host" || s == "none":
		return netMode{kind: s}
	case strings.HasPrefix(s, "container:"):
		return netMode{kind: "container", arg: strings.TrimPrefix(s, "container:")}
	}
	return netMode{kind: "bridge", arg: s}
}

// exposedPorts is the container's exposed ports, sorted: -p and
// --expose, and the image's EXPOSE, which create merged into the config
// (so this never reads the image store: ps calls it holding a container).
func exposedPorts(cfg *container.Config) []mobynet.Port {
	seen := map[mobynet.Port]bool{}
	var out []mobynet.Port
	add := func(p mobynet.Port) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if cfg != nil {
		for p := range cfg.ExposedPorts {
			add(p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// portBindings turns HostConfig.PortBindings (what `-p` became in the
// client) and -P into the network package's bindings; errors in docker's
// words ("invalid hostPort: 99999", "invalid proto: xyz").
func portBindings(hc *container.HostConfig, exposed []mobynet.Port) ([]network.PortBinding, error) {
	return network.Bindings(hc.PortBindings, exposed, hc.PublishAllPorts)
}

// checkNetworking validates a container's network settings at create time,
// before anything exists, so a bad mode or a taken port leaves nothing
// (docker leaves a Created container behind on a port conflict; we do not).
func (d *Daemon) checkNetworking(cfg *container.Config, hc *container.HostConfig) error {
	mode := parseNetMode(hc.NetworkMode)
	published := len(hc.PortBindings) > 0 || hc.PublishAllPorts
	switch mode.kind {
	case "host", "none":
		// docker drops -p with --net host (a warning) and keeps it inert
		// with none; there is nothing to check
		return nil
	case "container":
		if mode.arg == "" {
			return errdefs.Invalid("invalid container format container:<name|id>")
		}
		if published {
			return errdefs.Invalid("conflicting options: port publishing and the container type network mode")
		}
		if cfg.Hostname != "" {
			return errdefs.Invalid("conflicting options: hostname and the network mode")
		}
		if _, err := d.GetContainer(mode.arg); err != nil {
			return err
		}
		return nil
	}
	if d.networks == nil {
		return errdefs.Unavailable("networking is not initialised")
	}
	if mode.arg != network.DefaultNetwork {
		insp, err := d.networks.InspectNetwork(mode.arg)
		if errdefs.IsNotFound(err) {
			return nil // the start says so (networkNameAtCreate)
		}
		if err != nil {
			return err
		}
		if insp.Internal {
			return nil // docker publishes nothing there: -p is inert
		}
	}
	bs, err := portBindings(hc, exposedPorts(cfg))
	if err != nil {
		return err
	}
	if len(bs) > 0 && !d.cfg.IPTablesEnabled() {
		return errdefs.Invalid("publishing ports needs iptables, which is disabled in the daemon's settings (--iptables=false)")
	}
	// a taken port is a 500 as in docker; a bad address a 400
	return d.networks.CheckPorts(bs)
}

// connect gives a starting container its network namespace: which one
// init must join, and the IP address for /etc/hosts ("" when none).
func (d *Daemon) connect(c *Container) (net libcontainer.Network, ip string, err error) {
	c.mu.Lock()
	id, cfg, hc := c.ID, c.Config, c.HostConfig
	c.mu.Unlock()
	mode := parseNetMode(hc.NetworkMode)
	switch mode.kind {
	case "host":
		return libcontainer.Network{Mode: "host"}, "", nil
	case "none":
		return libcontainer.Network{Mode: "none"}, "", nil
	case "container":
		other, err := d.GetContainer(mode.arg)
		if err != nil {
			return libcontainer.Network{}, "", err
		}
		other.mu.Lock()
		pid, running, otherID := other.State.Pid, other.State.Running, other.ID
		other.mu.Unlock()
		if otherID == id {
			return libcontainer.Network{}, "", errdefs.Invalid("cannot join own network")
		}
		if !running || pid <= 0 {
			return libcontainer.Network{}, "", errdefs.Conflict("cannot join network namespace of a non running container: %s", otherID)
		}
		if ep, ok := d.networks.Endpoint(otherID); ok {
			ip = ep.IP.String()
		}
		return libcontainer.Network{Mode: "join", NetnsPath: fmt.Sprintf("/proc/%d/ns/net", pid)}, ip, nil
	}
	bs, err := portBindings(hc, exposedPorts(cfg))
	if err != nil {
		return libcontainer.Network{}, "", err
	}
	ep, err := d.attachNetworks(c, bs) // networks_connect.go
	if ep == nil && err == nil {
		return libcontainer.Network{Mode: "none"}, "", nil
	}
	if err != nil {
		if errdefs.IsNotFound(err) {
			return libcontainer.Network{}, "", err
		}
		return libcontainer.Network{}, "", fmt.Errorf("failed to set up container networking: %w", err)
	}
	return libcontainer.Network{Mode: "join", NetnsPath: ep.NetnsPath}, ep.IP.String(), nil
}

// disconnect releases what connect made. It is idempotent: it runs on stop,
// on a failed start and on rm.
func (d *Daemon) disconnect(c *Container) {
	if d.networks == nil || c == nil {
		return
	}
	d.removePeerHosts(c)
	if err := d.networks.Detach(c.ID); err != nil {
		slog.Warn("releasing a container's network", "id", stringid.TruncateID(c.ID), "err", err)
	}
}

// networkSettings is the NetworkSettings of `inspect`, docker's shape:
// SandboxKey, Ports, and one entry per network under Networks. Call with
// c.mu held (inspect holds it); it does not lock the container.
func (d *Daemon) networkSettings(c *Container) *container.NetworkSettings {
	ns := &container.NetworkSettings{Ports: mobynet.PortMap{}, Networks: map[string]*mobynet.EndpointSettings{}}
	mode := parseNetMode(c.HostConfig.NetworkMode)
	running := c.State.Running
	switch mode.kind {
	case "host", "none":
		ns.Networks[mode.kind] = &mobynet.EndpointSettings{NetworkID: pseudoNetworkID(mode.kind)}
		if running && mode.kind == "none" {
			ns.SandboxKey = fmt.Sprintf("/proc/%d/ns/net", c.State.Pid)
		}
		return ns
	case "container":
		return ns
	}
	d.endpointsSettings(c, ns) // every network it is on (networks_connect.go)
	var ep *network.Endpoint
	if running && d.networks != nil {
		ep, _ = d.networks.Endpoint(c.ID)
	}
	if ep == nil {
		return ns
	}
	sum := sha256.Sum256([]byte("sandbox " + ep.EndpointID))
	ns.SandboxID = hex.EncodeToString(sum[:])
	ns.SandboxKey = ep.NetnsPath
	ns.Ports = network.PortMap(ep.Ports, exposedPorts(c.Config))
	return ns
}

// LegacyNetworkFields are the top-level NetworkSettings fields API
// versions before 1.52 carry (docker 28's `inspect -f
// '{{.NetworkSettings.IPAddress}}'`): the default bridge's values.
type LegacyNetworkFields struct {
	EndpointID  string
	Gateway     string
	IPAddress   string
	IPPrefixLen int
	MacAddress  string
	Bridge      string
	HairpinMode bool
}

// LegacyNetworkSettings returns those fields for a container (empty
// unless it is running on a bridge network).
func (d *Daemon) LegacyNetworkSettings(containerID string) LegacyNetworkFields {
	var f LegacyNetworkFields
	if d.networks == nil {
		return f
	}
	if ep, ok := d.networks.Endpoint(containerID); ok && ep.Network == network.DefaultNetwork {
		f.EndpointID, f.Gateway, f.IPAddress = ep.EndpointID, ep.Gateway.String(), ep.IP.String()
		f.IPPrefixLen, f.MacAddress = ep.PrefixLen, ep.MacAddress
	}
	return f
}

func pseudoNetworkID(name string) string {
	s := sha256.Sum256([]byte("minidocker network " + name))
	return hex.EncodeToString(s[:])
}

// portsSummary is the PORTS column of `ps`: published ports while the
// container runs (127.0.0.1:8080->80/tcp), and exposed ports that are not
// published (80/tcp). Call with c.mu held.
func (d *Daemon) portsSummary(c *Container) []container.PortSummary {
	out := []container.PortSummary{}
	var bs []network.PortBinding
	if c.State.Running && d.networks != nil {
		if ep, ok := d.networks.Endpoint(c.ID); ok {
			bs = ep.Ports
		}
	}
	published := map[string]bool{}
	for _, b := range bs {
		ip := netip.IPv4Unspecified()
		if b.HostIP != "" {
			if a, err := netip.ParseAddr(b.HostIP); err == nil {
				ip = a
			}
		}
		proto := b.Proto
		if proto == "" {
			proto = "tcp"
		}
		published[fmt.Sprintf("%d/%s", b.ContainerPort, proto)] = true
		out = append(out, container.PortSummary{IP: ip, PrivatePort: uint16(b.ContainerPort), PublicPort: uint16(b.HostPort), Type: proto})
	}
	if parseNetMode(c.HostConfig.NetworkMode).kind == "bridge" {
		for _, p := range exposedPorts(c.Config) {
			if !published[p.String()] {
				out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
			}
		}

	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PrivatePort != out[j].PrivatePort {
			return out[i].PrivatePort < out[j].PrivatePort
		}
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].PublicPort < out[j].PublicPort
	})
	return out
}

// Names on user-defined networks. The embedded DNS server (127.0.0.11,
// network/dns.go) answers them, aliases and second networks included. The
// names of the containers on the first network are also kept in
// /etc/hosts, minidocker's way before it had the server (and docker's links
// once): a starting container's hosts file gets a line for every container
// already on its network, and theirs get a line for it; when it stops, the
// line goes. The hosts files are bind-mounted into running containers, so
// they are rewritten in place (same inode), never replaced. The default
// bridge has no names, as in docker.

var peerHostsMu sync.Mutex // serialises edits of the hosts files of peers

// hostsLine is the /etc/hosts line that names a container on a network.
func hostsLine(ep *network.Endpoint) string {
	return ep.IP.String() + "\t" + ep.Name
}

// userNetworkPeers are the endpoints on the same user-defined network as
// the container's (none on the default bridge), and its own endpoint.
func (d *Daemon) userNetworkPeers(id string) (self *network.Endpoint, peers []*network.Endpoint) {
	if d.networks == nil {
		return nil, nil
	}
	self, ok := d.networks.Endpoint(id)
	if !ok || self.Network == network.DefaultNetwork {
		return nil, nil
	}
	for _, ep := range d.networks.Endpoints() {
		if ep.NetworkID == self.NetworkID && ep.ContainerID != id && ep.Name != "" {
			peers = append(peers, ep)
		}
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	return self, peers
}

// addPeerHosts is called once the starting container's hosts file is
// written (before it is mounted): it appends the names of the containers
// already on its user-defined network, and adds its own name to theirs.
func (d *Daemon) addPeerHosts(c *Container) {
	self, peers := d.userNetworkPeers(c.ID)
	if self == nil {
		return
	}
	peerHostsMu.Lock()
	defer peerHostsMu.Unlock()
	var lines []string
	for _, p := range peers {
		lines = append(lines, hostsLine(p))
	}
	editHosts(c.HostsPath, func(have []string) []string { return appendMissing(have, lines...) })
	for _, p := range peers {
		if path := d.hostsPathOf(p.ContainerID); path != "" {
			editHosts(path, func(have []string) []string { return appendMissing(have, hostsLine(self)) })
		}
	}
}

// removePeerHosts takes a leaving container's name out of its peers' hosts files.
func (d *Daemon) removePeerHosts(c *Container) {
	self, peers := d.userNetworkPeers(c.ID)
	if self == nil {
		return
	}
	line := hostsLine(self)
	peerHostsMu.Lock()
	defer peerHostsMu.Unlock()
	for _, p := range peers {
		if path := d.hostsPathOf(p.ContainerID); path != "" {
			editHosts(path, func(have []string) []string {
				out := have[:0]
				for _, l := range have {
					if l != line {
						out = append(out, l)
					}
				}
				return out
			})
		}
	}
}

func (d *Daemon) hostsPathOf(id string) string {
	c, err := d.GetContainer(id)
	if err != nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.HostsPath
}

func appendMissing(have []string, lines ...string) []string {
	for _, l := range lines {
		found := false
		for _, h := range have {
			if h == l {
				found = true
				break
			}
		}
		if !found {
			have = append(have, l)
		}
	}
	return have
}

// editHosts rewrites a hosts file in place (truncate + write on the same
// inode, which a running container has bind-mounted).
func editHosts(path string, edit func([]string) []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = edit(lines)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		slog.Warn("updating a container's /etc/hosts", "path", path, "err", err)
	}
}

package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mobynet "github.com/moby/moby/api/types/network"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// Config holds the daemon settings the network package needs.
type Config struct {
	BridgeName  string // default bridge device, e.g. "minidocker0" (at most 15 bytes)
	BridgeCIDR  string // "bip": gateway/prefix of the default bridge, e.g. "10.66.0.1/16"
	ChainPrefix string // iptables chains: PREFIX, PREFIX-POSTROUTING, PREFIX-FORWARD
	IPTables    bool   // program nat/filter rules (port mapping, masquerade)
	StateDir    string // networks/ and endpoints/ JSON records
	ExecRoot    string // netns files live in ExecRoot/netns
	MTU         int    // 0 = 1500
	// DefaultHostIP is used for bindings without a host IP (dockerd's "ip"
	// setting); "" = every address (0.0.0.0).
	DefaultHostIP string

	// Live tells whether a container is running (its network must stay).
	// New removes everything recorded for containers that are not live, and
	// for endpoints whose namespace file or veth is gone (after a reboot).
	// nil = keep all intact records (call Reconcile later, once the daemon
	// knows its containers). A stopped container is re-attached on start.
	Live func(containerID string) bool
}

// Defaults used for empty Config fields.
const (
	DefaultBridgeName  = "minidocker0"
	DefaultBridgeCIDR  = "10.66.0.1/16"
	DefaultChainPrefix = "MINIDOCKER"
	DefaultNetwork     = "bridge"
)

// Manager owns the bridges, the endpoints of containers, their IPs, ports and
// iptables rules. It is safe for concurrent use.
type Manager struct {
	cfg Config
	t   ipt

	mu    sync.Mutex
	nets  map[string]*netRecord // by ID
	eps   map[string]*Endpoint  // by key(): the container ID, ID.network for a second network
	ports []*reservation
	// resolvers are the embedded DNS servers, by container ID (dns.go)
	resolvers map[string]*resolver

	// plumbing is the veth work of AttachBegin still under way, by container ID
	plumbing map[string]*plumbing
	dying    map[netip.Addr]int // IPs whose veth is still being deleted, or whose conntrack entries are still to flush
	bg       sync.WaitGroup
	bgErrs   []error
	// ctPending are released IPs whose conntrack entries wait for the
	// next pass over the kernel's table (conntrack.go); ctPass runs one
	// pass at a time.
	ctPending []netip.Addr
	ctPass    sync.Mutex

	testHookAfterVeth func(*Endpoint) error // lets tests fail Attach half-way
}

type netRecord struct {
	ID      string            `json:"ID"`
	Name    string            `json:"Name"`
	Bridge  string            `json:"Bridge"`
	Subnet  netip.Prefix      `json:"Subnet"`
	Gateway netip.Addr        `json:"Gateway"`
	Created time.Time         `json:"Created"`
	Default bool              `json:"Default,omitempty"`
	Labels  map[string]string `json:"Labels,omitempty"`
	// UserSubnet: the subnet was given at create (--subnet); only then may
	// a container ask for its own address (--ip), as in docker.
	UserSubnet bool `json:"UserSubnet,omitempty"`
	Internal   bool `json:"Internal,omitempty"` // see NetworkSpec.Internal
}

// Endpoint is a container's place on a network.
type Endpoint struct {
	ContainerID string        `json:"ContainerID"`
	Name        string        `json:"Name"` // container name, for network inspect
	EndpointID  string        `json:"EndpointID"`
	Network     string        `json:"Network"` // network name ("bridge" for the default)
	NetworkID   string        `json:"NetworkID"`
	Bridge      string        `json:"Bridge"`
	HostVeth    string        `json:"HostVeth"`  // host end of the veth pair, on Bridge
	NetnsPath   string        `json:"NetnsPath"` // docker's SandboxKey: join this to run the container
	IP          netip.Addr    `json:"IP"`
	PrefixLen   int           `json:"PrefixLen"`
	Gateway     netip.Addr    `json:"Gateway"`
	MacAddress  string        `json:"MacAddress"`
	Ports       []PortBinding `json:"Ports,omitempty"` // host ports resolved
	// Interface is the container's end of the veth: eth0 for the first
	// network (which has the namespace, the default route and the ports),
	// eth1... for the networks joined later (AttachSecondary).
	Interface string   `json:"Interface,omitempty"`
	Aliases   []string `json:"Aliases,omitempty"` // more names on this network (DNS)
	// Internal: the network is internal, so eth0 gets no default route.
	Internal bool `json:"Internal,omitempty"`
}

// Secondary reports whether the endpoint joins a namespace that its
// container's first endpoint owns.
func (e *Endpoint) Secondary() bool { return e.Interface != "" && e.Interface != "eth0" }

// key is the endpoint's key in Manager.eps and the name of its record.
func (e *Endpoint) key() string {
	if e.Secondary() {
		return e.ContainerID + "." + e.NetworkID
	}
	return e.ContainerID
}

// AttachRequest asks for a container's endpoint.
type AttachRequest struct {
	ContainerID string
	Name        string // container name (without the leading slash)
	Network     string // "" or "bridge" = default bridge; or a user network's name or ID
	Ports       []PortBinding
	Aliases     []string // more names for the embedded DNS
	MacAddress  string   // the container side's (--mac-address); "" makes one from the IP
	// IP is the address asked for (--ip, checked with CheckStaticIP); the
	// zero Addr takes the next free one.
	IP netip.Addr
}

func (e *Endpoint) clone() *Endpoint {
	c := *e
	c.Ports = append([]PortBinding(nil), e.Ports...)
	c.Aliases = append([]string(nil), e.Aliases...)
	return &c
}

// Settings is the entry of NetworkSettings.Networks[e.Network] in docker inspect.
func (e *Endpoint) Settings() *mobynet.EndpointSettings {
	mac, _ := net.ParseMAC(e.MacAddress)
	return &mobynet.EndpointSettings{
		NetworkID:   e.NetworkID,
		EndpointID:  e.EndpointID,
		Gateway:     e.Gateway,
		IPAddress:   e.IP,
		IPPrefixLen: e.PrefixLen,
		MacAddress:  mobynet.HardwareAddr(mac),
		Aliases:     append([]string(nil), e.Aliases...),
	}
}

func (m *Manager) netDir() string { return filepath.Join(m.cfg.StateDir, "networks") }
func (m *Manager) epDir() string  { return filepath.Join(m.cfg.StateDir, "endpoints") }
func (m *Manager) nsDir() string  { return filepath.Join(m.cfg.ExecRoot, "netns") }

// New prepares networking: state directories, the default bridge with its
// gateway address, the base iptables chains and the rules of every network;
// then it reconciles what a previous run left behind (see Reconcile).
func New(cfg Config) (*Manager, error) {
	gwPrefix, err := cfg.check()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, t: ipt{prefix: cfg.ChainPrefix}, nets: map[string]*netRecord{}, eps: map[string]*Endpoint{}, resolvers: map[string]*resolver{}, dying: map[netip.Addr]int{}, plumbing: map[string]*plumbing{}}
	for _, d := range []string{m.netDir(), m.epDir(), m.nsDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	if err := m.readRecords(); err != nil {
		return nil, err
	}
	if cfg.IPTables {
		if err := m.t.setupBase(); err != nil {
			return nil, err
		}
	}
	if err := m.ensureDefaultNetwork(gwPrefix); err != nil {
		return nil, err
	}
	for _, n := range m.nets {
		if err := m.setupNetwork(n); err != nil {
			return nil, err
		}
	}
	if err := m.Reconcile(cfg.Live); err != nil {
		return nil, err
	}
	return m, nil
}

// check fills in the defaults of cfg and refuses what cannot work. It
// returns the bridge's gateway/prefix (bip).
func (cfg *Config) check() (netip.Prefix, error) {
	if cfg.BridgeName == "" {
		cfg.BridgeName = DefaultBridgeName
	}
	if cfg.BridgeCIDR == "" {
		cfg.BridgeCIDR = DefaultBridgeCIDR
	}
	if cfg.ChainPrefix == "" {
		cfg.ChainPrefix = DefaultChainPrefix
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.DefaultHostIP != "" {
		if a, err := netip.ParseAddr(cfg.DefaultHostIP); err != nil || !a.Is4() {
			return netip.Prefix{}, fmt.Errorf("network: invalid default host IP %q", cfg.DefaultHostIP)
		}
	}
	if cfg.StateDir == "" || cfg.ExecRoot == "" {
		return netip.Prefix{}, errors.New("network: StateDir and ExecRoot must be set")
	}
	if len(cfg.BridgeName) > 15 {
		return netip.Prefix{}, fmt.Errorf("network: bridge name %q is longer than 15 characters", cfg.BridgeName)
	}
	gwPrefix, err := netip.ParsePrefix(cfg.BridgeCIDR)
	if err != nil || !gwPrefix.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("network: invalid bip %q: want an IPv4 gateway/prefix such as %s", cfg.BridgeCIDR, DefaultBridgeCIDR)
	}
	if gwPrefix.Bits() > 30 {
		return netip.Prefix{}, fmt.Errorf("network: bip %q leaves no room for containers", cfg.BridgeCIDR)
	}
	return gwPrefix, nil
}

// readRecords loads the network and endpoint records a previous run left.
func (m *Manager) readRecords() error {
	if err := readJSONDir(m.netDir(), func(_ string, data []byte) error {
		var n netRecord
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		m.nets[n.ID] = &n
		return nil
	}); err != nil {
		return fmt.Errorf("network: reading networks: %w", err)
	}
	if err := readJSONDir(m.epDir(), func(name string, data []byte) error {
		var e Endpoint
		if err := json.Unmarshal(data, &e); err != nil {
			// only a power loss cuts one short (they are not fsynced:
			// writeJSON), and it took the endpoint's kernel side too
			slog.Warn("network: dropping an unreadable endpoint record", "file", name, "err", err)
			return os.Remove(filepath.Join(m.epDir(), name))
		}
		m.eps[e.key()] = &e
		return nil
	}); err != nil {
		return fmt.Errorf("network: reading endpoints: %w", err)
	}
	return nil
}

// ensureDefaultNetwork makes the default "bridge" network follow the
// configuration: created on the first start, its bridge torn down and its
// record rewritten when the bridge name or bip changed since.
func (m *Manager) ensureDefaultNetwork(gwPrefix netip.Prefix) error {
	want := &netRecord{Name: DefaultNetwork, Bridge: m.cfg.BridgeName, Subnet: gwPrefix.Masked(), Gateway: gwPrefix.Addr(), Default: true}
	var def *netRecord
	for _, n := range m.nets {
		if n.Default {
			def = n
		}
	}
	if def == nil {
		want.ID = stringid.GenerateRandomID()
		want.Created = time.Now().UTC()
		if err := writeJSON(filepath.Join(m.netDir(), want.ID+".json"), want, true); err != nil {
			return err
		}
		m.nets[want.ID] = want
		return nil
	}
	if def.Bridge != want.Bridge || def.Subnet != want.Subnet || def.Gateway != want.Gateway {
		m.teardownNetwork(def)
		def.Bridge, def.Subnet, def.Gateway = want.Bridge, want.Subnet, want.Gateway
		return writeJSON(filepath.Join(m.netDir(), def.ID+".json"), def, true)
	}
	return nil
}

func (m *Manager) setupNetwork(n *netRecord) error {
	if err := ensureBridge(n.Bridge, n.Gateway, n.Subnet, m.cfg.MTU); err != nil {
		return err
	}
	if m.cfg.IPTables {
		if err := m.t.setupNetwork(n.Bridge, n.Subnet, n.Internal); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) teardownNetwork(n *netRecord) error {
	var errs []error
	if m.cfg.IPTables {
		errs = append(errs, m.t.teardownNetwork(n.Bridge, n.Subnet, n.Internal))
	}
	errs = append(errs, deleteLink(n.Bridge))
	return errors.Join(errs...)
}

// findNetLocked looks a network up by name, full ID or unique ID prefix.
func (m *Manager) findNetLocked(ref string) (*netRecord, error) {
	if ref == "" || ref == "default" {
		ref = DefaultNetwork
	}
	for _, n := range m.nets {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
	}
	var found *netRecord
	for _, n := range m.nets {
		if strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil, errdefs.Invalid("network %s is ambiguous (%d matches found based on ID prefix)", ref, 2)
			}
			found = n
		}
	}
	if found == nil {
		return nil, errdefs.NotFound("network %s not found", ref)
	}
	return found, nil
}

// allocIPLocked picks the first free address of network n for a new
// endpoint (IPAM: docker's libnetwork/ipams/defaultipam).
func (m *Manager) allocIPLocked(n *netRecord) (netip.Addr, error) {
	// exercise:begin 05-ipam
	used := map[netip.Addr]bool{n.Gateway: true}
	for ip := range m.dying {
		used[ip] = true
	}
	for _, e := range m.eps {
		if e.NetworkID == n.ID {
			used[e.IP] = true
		}
	}
	for a := n.Subnet.Masked().Addr().Next(); n.Subnet.Contains(a.Next()); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no available IPv4 addresses on this network's address pools: %s (%s)", n.Name, n.ID)
	// exercise:end 05-ipam
}

// macFor is docker's classic MAC: 02:42 followed by the IPv4 address.
func macFor(ip netip.Addr) net.HardwareAddr {
	b := ip.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

func validContainerID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\x00 ") || id == "." || id == ".." || len(id) > 128 {
		return errdefs.Invalid("invalid container ID %q", id)
	}
	return nil
}

// Attach gives a container its own network namespace (a file under
// ExecRoot/netns), a veth pair whose host end is on the network's bridge and
// whose other end is eth0 in the namespace with an IP from the network's
// pool, a default route via the gateway, and the port mappings. The host
// ports are reserved first. On any error everything done so far is undone.
// It is AttachBegin and Ready in one call.
func (m *Manager) Attach(ctx context.Context, req AttachRequest) (*Endpoint, error) {
	ep, err := m.AttachBegin(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := m.Ready(req.ContainerID); err != nil {
		return nil, err
	}
	return ep, nil
}

// AttachBegin is the part of Attach a container's start must wait for: the
// host ports, the IP and the record, and the namespace file init joins. The
// veth pair, its address and route and the port rules (milliseconds of
// netlink and iptables work) are made on a goroutine of their own, while
// the runtime prepares init; Ready waits for them, and must return nil
// before the container's first instruction runs. If that work fails it
// undoes the whole endpoint, as Attach would. Detach waits for it too, so
// a start that fails in between leaves nothing either.
func (m *Manager) AttachBegin(ctx context.Context, req AttachRequest) (_ *Endpoint, err error) {
	if err := validContainerID(req.ContainerID); err != nil {
		return nil, err
	}
	if len(req.Ports) > 0 && !m.cfg.IPTables {
		return nil, errdefs.Invalid("publishing ports needs iptables, which is disabled in the daemon's settings")
	}
	m.waitReleased(req.IP)
	ep, err := m.recordEndpoint(req)
	if err != nil && m.flushConnections() { // the pool may have been full of them
		ep, err = m.recordEndpoint(req)
	}
	if err != nil {
		return nil, err
	}
	if err = ctx.Err(); err == nil {
		removeNetns(ep.NetnsPath) // a stale file no record explains (crash)
		err = createNetns(ep.NetnsPath)
	}
	if err != nil {
		m.undo(ep)
		return nil, err
	}
	p := &plumbing{done: make(chan struct{})}
	m.mu.Lock()
	m.plumbing[ep.ContainerID] = p
	m.mu.Unlock()
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if p.err = m.plumbEndpoint(ep); p.err != nil {
			m.undo(ep)
		}
		close(p.done)
	}()
	return ep.clone(), nil
}

// plumbing is the veth and rules work of one AttachBegin.
type plumbing struct {
	done chan struct{} // closed when it has ended, undone if it failed
	err  error
}

// Ready waits until the container's endpoint is made in the kernel (its
// AttachBegin's veth pair, address, route and port rules) and returns what
// failed; the endpoint is then already undone. A container with no such
// work under way is ready.
func (m *Manager) Ready(containerID string) error {
	m.mu.Lock()
	p := m.plumbing[containerID]
	m.mu.Unlock()
	if p == nil {
		return nil
	}
	<-p.done
	m.mu.Lock()
	if m.plumbing[containerID] == p {
		delete(m.plumbing, containerID)
	}
	m.mu.Unlock()
	return p.err
}

// recordEndpoint is Attach's part under the manager's lock: it reserves
// the host ports and an IP and writes the endpoint's record. The record
// goes to disk before anything exists in the kernel, so a crash at any
// later point leaves something Reconcile can find and undo.
func (m *Manager) recordEndpoint(req AttachRequest) (_ *Endpoint, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.eps[req.ContainerID]; ok {
		return nil, errdefs.Conflict("container %s is already attached to a network", req.ContainerID)
	}
	n, err := m.findNetLocked(req.Network)
	if err != nil {
		return nil, err
	}
	ports := req.Ports
	if n.Internal {
		ports = nil // docker publishes nothing on an internal network
	}
	rs, err := m.reserveLocked(req.ContainerID, ports)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			m.releaseLocked(rs)
		}
	}()
	ip, err := m.ipForLocked(n, req.IP)
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{
		ContainerID: req.ContainerID,
		Name:        strings.TrimPrefix(req.Name, "/"),
		EndpointID:  stringid.GenerateRandomID(),
		Network:     n.Name,
		NetworkID:   n.ID,
		Bridge:      n.Bridge,
		HostVeth:    "veth" + stringid.RandomHex(4)[:7],
		NetnsPath:   filepath.Join(m.nsDir(), req.ContainerID),
		IP:          ip,
		PrefixLen:   n.Subnet.Bits(),
		Gateway:     n.Gateway,
		MacAddress:  macOr(req.MacAddress, ip),
		Aliases:     req.Aliases,
		Internal:    n.Internal,
	}
	for _, r := range rs {
		ep.Ports = append(ep.Ports, r.b)
	}
	if err := writeJSON(m.epFile(ep.key()), ep, false); err != nil {
		return nil, err
	}
	m.eps[ep.key()] = ep
	return ep, nil
}

// plumbEndpoint makes what the record describes in the namespace
// AttachBegin pinned: the veth pair and the port rules. The DNAT rules (one
// exec of iptables-restore, the slowest step) go in while the veth is
// made; for those few milliseconds they point at an address nobody
// answers on yet, which is harmless.
func (m *Manager) plumbEndpoint(ep *Endpoint) error {
	rules := make(chan error, 1)
	if m.cfg.IPTables && len(ep.Ports) > 0 {
		go func() { rules <- m.t.addPorts(ep.ContainerID, ep.IP, ep.Ports) }()
	} else {
		rules <- nil
	}
	err := setupVeth(ep, m.cfg.MTU)
	if err == nil && m.testHookAfterVeth != nil {
		err = m.testHookAfterVeth(ep)
	}
	if rerr := <-rules; err == nil {
		err = rerr
	}
	return err
}

func (m *Manager) epFile(key string) string { return filepath.Join(m.epDir(), key+".json") }

// undo removes what Attach made for ep. Rules, the namespace file, the
// record and the host ports go before it returns. Deleting the veth pair
// costs the kernel ~20 ms of RCU grace periods, so that part (and the
// conntrack flush, conntrack.go) runs in the background; the IP stays out
// of the pool until both are done, and Wait, Reconcile, Close and Cleanup
// wait for them.
func (m *Manager) undo(ep *Endpoint) error {
	var errs []error
	if m.cfg.IPTables && len(ep.Ports) > 0 {
		errs = append(errs, m.t.removePorts(ep.ContainerID, ep.IP, ep.Ports))
	}
	if !ep.Secondary() {
		errs = append(errs, removeNetns(ep.NetnsPath))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.eps[ep.key()]; ok && cur == ep {
		if err := os.Remove(m.epFile(ep.key())); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		delete(m.eps, ep.key())
		if !ep.Secondary() {
			m.releaseOwnerLocked(ep.ContainerID)
		}
		m.dying[ep.IP]++
		m.bg.Add(1)
		go func() {
			defer m.bg.Done()
			err := deleteLink(ep.HostVeth)
			m.mu.Lock()
			if err != nil {
				m.bgErrs = append(m.bgErrs, err)
			}
			m.mu.Unlock()
			m.forgetConnections(ep.IP, len(ep.Ports) > 0) // conntrack.go
		}()
	}
	return errors.Join(errs...)
}

// Wait blocks until background veth work (AttachBegin's, and the
// deletions of earlier Detach calls) is done and returns the deletions'
// errors, if any.
func (m *Manager) Wait() error {
	m.bg.Wait()
	m.flushConnections() // conntrack.go
	m.mu.Lock()
	defer m.mu.Unlock()
	err := errors.Join(m.bgErrs...)
	m.bgErrs = nil
	return err
}

// Detach removes everything Attach made for the container: port rules, the
// veth pair, the namespace file, the IP and the port reservations.
// Detaching a container without an endpoint is not an error.
func (m *Manager) Detach(containerID string) error {
	m.Ready(containerID) // a failed one has undone itself
	m.mu.Lock()
	ep, ok := m.eps[containerID]
	var second []*Endpoint
	for _, e := range m.eps {
		if e.ContainerID == containerID && e.Secondary() {
			second = append(second, e)
		}
	}
	m.mu.Unlock()
	m.StopResolver(containerID)
	var errs []error
	for _, e := range second { // before the namespace they live in goes
		errs = append(errs, m.undo(e))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !ok {
		if validContainerID(containerID) == nil {
			return removeNetns(filepath.Join(m.nsDir(), containerID))
		}
		return nil
	}
	return m.undo(ep)
}

// Endpoint returns a copy of the container's first endpoint (eth0).
func (m *Manager) Endpoint(containerID string) (*Endpoint, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep, ok := m.eps[containerID]
	if !ok {
		return nil, false
	}
	return ep.clone(), true
}

// Endpoints returns copies of all endpoints.
func (m *Manager) Endpoints() []*Endpoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Endpoint
	for _, ep := range m.eps {
		out = append(out, ep.clone())
	}
	return out
}

// Reconcile removes what belongs to containers that are no longer live (live
// nil = all recorded containers are live) and whatever no record explains:
// veths on our bridges, namespace files and DNAT rules. For live containers
// it makes sure their host ports are held and their DNAT rules exist.
func (m *Manager) Reconcile(live func(containerID string) bool) error {
	errs := []error{m.Wait()}
	m.mu.Lock()
	var eps []*Endpoint
	for _, ep := range m.eps {
		eps = append(eps, ep)
	}
	m.mu.Unlock()
	for _, ep := range eps {
		errs = append(errs, m.reconcileEndpoint(ep, live))
	}
	errs = append(errs, m.removeLeftovers())
	return errors.Join(errs...)
}

// reconcileEndpoint undoes the endpoint of a container that is gone (or
// whose veth or namespace is), and otherwise holds its host ports again
// and puts back any missing DNAT rule.
func (m *Manager) reconcileEndpoint(ep *Endpoint, live func(containerID string) bool) error {
	if (live != nil && !live(ep.ContainerID)) || !endpointIntact(ep) {
		return m.undo(ep)
	}
	err := m.holdPorts(ep)
	if m.cfg.IPTables && len(ep.Ports) > 0 {
		err = errors.Join(err, m.t.ensurePorts(ep.ContainerID, ep.IP, ep.Ports))
	}
	return err
}

// holdPorts reserves a live endpoint's host ports unless it holds them.
func (m *Manager) holdPorts(ep *Endpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ports {
		if r.owner == ep.ContainerID {
			return nil
		}
	}
	if len(ep.Ports) == 0 {
		return nil
	}
	if _, err := m.reserveLocked(ep.ContainerID, ep.Ports); err != nil {
		return fmt.Errorf("container %s: %w", ep.ContainerID, err)
	}
	return nil
}

// removeLeftovers removes the veths on our bridges, the namespace files
// and the DNAT rules that no endpoint record explains. It lists first, then
// compares with the records under the lock: Attach records an endpoint
// before it creates anything, so an Attach running meanwhile never loses
// its fresh veth, netns file or rules.
func (m *Manager) removeLeftovers() error {
	vethNames, nsFiles, rules, errs := m.listNetworkObjects()
	m.mu.Lock()
	known := map[string]bool{}
	veths := map[string]bool{}
	for _, ep := range m.eps {
		known[ep.ContainerID] = true
		veths[ep.HostVeth] = true
	}
	m.mu.Unlock()
	for _, name := range vethNames {
		if !veths[name] {
			errs = append(errs, deleteLink(name))
		}
	}
	for _, name := range nsFiles {
		if !known[name] {
			errs = append(errs, removeNetns(filepath.Join(m.nsDir(), name)))
		}
	}
	for owner, rs := range rules {
		if known[owner] {
			continue
		}
		for _, r := range rs {
			errs = append(errs, deleteRule("nat", m.t.nat(), r...))
		}
	}
	return errors.Join(errs...)
}

// listNetworkObjects lists what the manager may have made in the kernel:
// the veths on its bridges, the files in its netns directory and its DNAT
// rules by owner.
func (m *Manager) listNetworkObjects() (vethNames, nsFiles []string, rules map[string][][]string, errs []error) {
	m.mu.Lock()
	var bridges []string
	for _, n := range m.nets {
		bridges = append(bridges, n.Bridge)
	}
	m.mu.Unlock()
	for _, br := range bridges {
		names, err := bridgePorts(br)
		errs = append(errs, err)
		vethNames = append(vethNames, names...)
	}
	if ents, err := os.ReadDir(m.nsDir()); err == nil {
		for _, e := range ents {
			nsFiles = append(nsFiles, e.Name())
		}
	}
	if m.cfg.IPTables {
		var err error
		rules, err = m.t.portRules()
		errs = append(errs, err)
	}
	return vethNames, nsFiles, rules, errs
}

// endpointIntact tells whether the endpoint's namespace is still pinned and
// its veth still exists (both vanish on a reboot, while records persist).
func endpointIntact(ep *Endpoint) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(ep.NetnsPath, &st); err != nil || st.Type != unix.NSFS_MAGIC {
		return false
	}
	_, err := netlink.LinkByName(ep.HostVeth)
	return !linkNotFound(err)
}

// Close lets go of the host port reservations (daemon shutdown). Kernel
// state stays: running containers keep their network.
func (m *Manager) Close() error {
	m.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releaseLocked(append([]*reservation(nil), m.ports...))
	return nil
}

// Cleanup detaches every endpoint and removes every bridge, rule and chain
// this manager owns (uninstall, tests). Network records stay.
func (m *Manager) Cleanup() error {
	var errs []error
	for _, ep := range m.Endpoints() {
		errs = append(errs, m.Detach(ep.ContainerID))
	}
	errs = append(errs, m.Wait(), m.Reconcile(nil))
	m.mu.Lock()
	nets := make([]*netRecord, 0, len(m.nets))
	for _, n := range m.nets {
		nets = append(nets, n)
	}
	m.mu.Unlock()
	for _, n := range nets {
		errs = append(errs, m.teardownNetwork(n))
	}
	if m.cfg.IPTables {
		errs = append(errs, m.t.teardownBase())
	}
	m.Close()
	return errors.Join(errs...)
}

// Purge removes everything a configuration left on the host — endpoints,
// veths, namespace files, rules, chains, bridges — without a running
// manager: for test harnesses after killing a daemon, and for uninstall.
func Purge(cfg Config) error {
	cfg.Live = func(string) bool { return false }
	m, err := New(cfg)
	if err != nil {
		return err
	}
	return m.Cleanup()
}

// AttachSecondary puts a container that already has its first endpoint on
// one more network: a second veth into the same namespace (eth1, eth2...),
// with an address but no default route and no published ports, as docker
// does for `network connect`. It works while the container runs.
func (m *Manager) AttachSecondary(req AttachRequest) (_ *Endpoint, err error) {
	m.waitReleased(req.IP)
	m.mu.Lock()
	first, ok := m.eps[req.ContainerID]
	if !ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("container %s has no network namespace to join", req.ContainerID)
	}
	n, err := m.findNetLocked(req.Network)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	used := map[string]bool{first.Interface: true, "eth0": true}
	for _, e := range m.eps {
		if e.ContainerID == req.ContainerID {
			if e.NetworkID == n.ID {
				m.mu.Unlock()
				return nil, errdefs.Forbidden("endpoint with name %s already exists in network %s", first.Name, n.Name)
			}
			used[e.Interface] = true
		}
	}
	ip, err := m.ipForLocked(n, req.IP)
	if err != nil {
		m.mu.Unlock()
		if m.flushConnections() { // the pool may have been full of them (conntrack.go)
			return m.AttachSecondary(req)
		}
		return nil, err
	}
	ep := &Endpoint{
		ContainerID: req.ContainerID, Name: strings.TrimPrefix(req.Name, "/"), EndpointID: stringid.GenerateRandomID(),
		Network: n.Name, NetworkID: n.ID, Bridge: n.Bridge, HostVeth: "veth" + stringid.RandomHex(4)[:7],
		NetnsPath: first.NetnsPath, IP: ip, PrefixLen: n.Subnet.Bits(), Gateway: n.Gateway,
		MacAddress: macOr(req.MacAddress, ip), Aliases: req.Aliases, Internal: n.Internal,
	}
	for i := 1; ep.Interface == ""; i++ {
		if name := fmt.Sprintf("eth%d", i); !used[name] {
			ep.Interface = name
		}
	}
	if err := writeJSON(m.epFile(ep.key()), ep, false); err != nil {
		m.mu.Unlock()
		return nil, err
	}
	m.eps[ep.key()] = ep
	m.mu.Unlock()
	if err := setupVeth(ep, m.cfg.MTU); err != nil {
		m.undo(ep)
		return nil, err
	}
	return ep.clone(), nil
}

// DetachSecondary takes a container off a network it joined with
// AttachSecondary (`network disconnect`).
func (m *Manager) DetachSecondary(containerID, networkID string) error {
	m.mu.Lock()
	ep, ok := m.eps[containerID+"."+networkID]
	m.mu.Unlock()
	if !ok {
		return errdefs.NotFound("container %s is not connected to network %s", containerID, networkID)
	}
	return m.undo(ep)
}

// macOr is the MAC address asked for (--mac-address), or docker's own
// made from the IP when none was.
func macOr(asked string, ip netip.Addr) string {
	if asked != "" {
		return asked
	}
	return macFor(ip).String()
}

package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

type tenv struct {
	m      *Manager
	cfg    Config
	subnet netip.Prefix
}

func newEnv(t testing.TB, opts ...func(*Config)) *tenv {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatal("iptables is not installed (apt-get install -y iptables)")
	}
	if err := EnableIPForward(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sub := testutil.FreeSubnet(t, 24)
	id := testutil.RandomHex(3)
	cfg := Config{
		BridgeName:  "mdt" + id,
		BridgeCIDR:  netip.PrefixFrom(sub.Addr().Next(), 24).String(),
		ChainPrefix: "MDT" + strings.ToUpper(id),
		IPTables:    true,
		StateDir:    filepath.Join(dir, "state"),
		ExecRoot:    filepath.Join(dir, "run"),
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &tenv{m: m, cfg: cfg, subnet: sub}
	t.Cleanup(func() {
		if err := m.Cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		e.assertNoChains(t)
		if _, err := netlink.LinkByName(cfg.BridgeName); err == nil {
			t.Errorf("bridge %s left behind", cfg.BridgeName)
		}
	})
	return e
}

func (e *tenv) assertNoChains(t testing.TB) {
	t.Helper()
	for _, table := range []string{"nat", "filter"} {
		out, _ := exec.Command("iptables", "-w", "-t", table, "-S").CombinedOutput()
		if strings.Contains(string(out), e.cfg.ChainPrefix) {
			t.Errorf("%s table still mentions %s:\n%s", table, e.cfg.ChainPrefix, out)
		}
	}
}

// assertClean checks that no container is left: no DNAT rule, no veth on
// the bridge, no netns file, no endpoint record.
func (e *tenv) assertClean(t testing.TB) {
	t.Helper()
	if err := e.m.Wait(); err != nil {
		t.Error(err)
	}
	out, err := exec.Command("iptables", "-w", "-t", "nat", "-S", e.cfg.ChainPrefix).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(string(out), "DNAT") {
		t.Errorf("DNAT rules left:\n%s", out)
	}
	ports, err := bridgePorts(e.cfg.BridgeName)
	if err != nil || len(ports) != 0 {
		t.Errorf("veths left on the bridge: %v %v", ports, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.cfg.ExecRoot, "netns")); len(ents) != 0 {
		t.Errorf("netns files left: %d", len(ents))
	}
	if ents, _ := os.ReadDir(filepath.Join(e.cfg.StateDir, "endpoints")); len(ents) != 0 {
		t.Errorf("endpoint records (IPs) left: %d", len(ents))
	}
	if n := len(e.m.Endpoints()); n != 0 {
		t.Errorf("%d endpoints in memory", n)
	}
	e.m.mu.Lock()
	if len(e.m.ports) != 0 {
		t.Errorf("port reservations left: %d", len(e.m.ports))
	}
	e.m.mu.Unlock()
}

// serve runs a TCP server on :port inside the namespace at nsPath; each
// connection gets "hello from NAME (peer ADDR)\n".
func serve(t testing.TB, nsPath string, port int, name string) {
	t.Helper()
	var ln net.Listener
	err := RunInNetns(nsPath, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello from %s (peer %s)\n", name, c.RemoteAddr().(*net.TCPAddr).IP)
			c.Close()
		}
	}()
}

// fetch connects to addr from the namespace at nsPath ("" = the host) and
// returns what the server says.
func fetch(nsPath, addr string) (string, error) {
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, 3*time.Second)
		return err
	}
	var err error
	if nsPath == "" {
		err = dial()
	} else {
		err = RunInNetns(nsPath, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

func mustFetch(t testing.TB, what, nsPath, addr, want string) string {
	t.Helper()
	got, err := fetch(nsPath, addr)
	if err != nil {
		t.Fatalf("%s: %s: %v", what, addr, err)
	}
	if !strings.HasPrefix(got, want) {
		t.Fatalf("%s: %s: got %q, want %q...", what, addr, got, want)
	}
	return got
}

func hostPort(ep *Endpoint, hostIP string) int {
	for _, b := range ep.Ports {
		if b.HostIP == hostIP {
			return b.HostPort
		}
	}
	return 0
}

func TestBridgeTrafficAndPorts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.m.Attach(ctx, AttachRequest{ContainerID: "a" + testutil.RandomHex(8), Name: "ca"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.m.Attach(ctx, AttachRequest{ContainerID: "b" + testutil.RandomHex(8), Name: "cb", Ports: []PortBinding{
		{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"},
		{ContainerPort: 80, Proto: "tcp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	gw := e.subnet.Addr().Next()
	if a.IP != gw.Next() || b.IP != gw.Next().Next() || a.Gateway != gw || a.PrefixLen != 24 {
		t.Errorf("addresses: a=%v b=%v gw=%v/%d", a.IP, b.IP, a.Gateway, a.PrefixLen)
	}
	if want := macFor(a.IP).String(); a.MacAddress != want || !strings.HasPrefix(want, "02:42:") {
		t.Errorf("mac %s, want %s", a.MacAddress, want)
	}

	// the veth's host end is enslaved to the bridge (netlink)
	br, err := netlink.LinkByName(e.cfg.BridgeName)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []*Endpoint{a, b} {
		l, err := netlink.LinkByName(ep.HostVeth)
		if err != nil {
			t.Fatal(err)
		}
		if l.Type() != "veth" || l.Attrs().MasterIndex != br.Attrs().Index || l.Attrs().OperState != netlink.OperUp {
			t.Errorf("%s: type %s master %d (bridge %d) state %v", ep.HostVeth, l.Type(), l.Attrs().MasterIndex, br.Attrs().Index, l.Attrs().OperState)
		}
	}
	// inside: eth0 with the address and MAC, a default route via the gateway
	ns, err := netns.GetFromPath(a.NetnsPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := netlink.NewHandleAt(ns)
	ns.Close()
	if err != nil {
		t.Fatal(err)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := h.AddrList(eth0, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != netip.PrefixFrom(a.IP, 24).String() || eth0.Attrs().HardwareAddr.String() != a.MacAddress {
		t.Errorf("eth0: %v %v", addrs, eth0.Attrs().HardwareAddr)
	}
	routes, _ := h.RouteList(nil, netlink.FAMILY_V4)
	def := false
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == gw.String() {
			def = true
		}
	}
	h.Close()
	if !def {
		t.Errorf("no default route via %s: %v", gw, routes)
	}

	serve(t, b.NetnsPath, 80, "b")
	// A reaches B by IP across the bridge
	got := mustFetch(t, "a->b", a.NetnsPath, net.JoinHostPort(b.IP.String(), "80"), "hello from b")
	if !strings.Contains(got, "peer "+a.IP.String()) {
		t.Errorf("a->b should not be NATed: %q", got)
	}
	// the host's own 127.0.0.1:PORT (route_localnet + masquerade)
	lp := hostPort(b, "127.0.0.1")
	mustFetch(t, "host 127.0.0.1", "", fmt.Sprintf("127.0.0.1:%d", lp), "hello from b")
	ap := hostPort(b, "")
	mustFetch(t, "host 127.0.0.1 via 0.0.0.0 binding", "", fmt.Sprintf("127.0.0.1:%d", ap), "hello from b")
	// hairpin: A -> gateway:PORT -> B, and B -> gateway:PORT -> itself
	mustFetch(t, "hairpin a", a.NetnsPath, fmt.Sprintf("%s:%d", gw, ap), "hello from b")
	mustFetch(t, "hairpin self", b.NetnsPath, fmt.Sprintf("%s:%d", gw, ap), "hello from b")
	// the 127.0.0.1 binding is not reachable through the gateway address
	if _, err := fetch(a.NetnsPath, fmt.Sprintf("%s:%d", gw, lp)); err == nil {
		t.Errorf("127.0.0.1-only binding answered on %s", gw)
	}

	// a "remote" client: its own namespace, linked to the host by a veth
	// pair with a /30, reaching the host's address on that link
	rsub := testutil.FreeSubnet(t, 30)
	hostAddr, remAddr := rsub.Addr().Next(), rsub.Addr().Next().Next()
	rpath := filepath.Join(t.TempDir(), "remote")
	if err := createNetns(rpath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeNetns(rpath) })
	rns, err := netns.GetFromPath(rpath)
	if err != nil {
		t.Fatal(err)
	}
	defer rns.Close()
	rname := "mdr" + testutil.RandomHex(3)
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: rname}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(rns))}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteLink(rname) })
	rl, _ := netlink.LinkByName(rname)
	if err := netlink.AddrAdd(rl, &netlink.Addr{IPNet: ipnet(hostAddr, 30)}); err != nil {
		t.Fatal(err)
	}
	netlink.LinkSetUp(rl)
	rh, err := netlink.NewHandleAt(rns)
	if err != nil {
		t.Fatal(err)
	}
	re, _ := rh.LinkByName("eth0")
	rh.AddrAdd(re, &netlink.Addr{IPNet: ipnet(remAddr, 30)})
	rh.LinkSetUp(re)
	if err := rh.RouteAdd(&netlink.Route{LinkIndex: re.Attrs().Index, Gw: net.IP(hostAddr.AsSlice())}); err != nil {
		t.Fatal(err)
	}
	rh.Close()
	got = mustFetch(t, "remote", rpath, fmt.Sprintf("%s:%d", hostAddr, ap), "hello from b")
	if !strings.Contains(got, "peer "+remAddr.String()) {
		t.Errorf("remote client should be seen with its own address: %q", got)
	}
	if _, err := fetch(rpath, fmt.Sprintf("%s:%d", hostAddr, lp)); err == nil {
		t.Errorf("127.0.0.1-only binding answered to the remote client")
	}

	// inspect shapes
	ep, ok := e.m.Endpoint(b.ContainerID)
	if !ok || ep.IP != b.IP || len(ep.Ports) != 2 {
		t.Errorf("Endpoint: %+v %v", ep, ok)
	}
	ins, err := e.m.InspectNetwork("bridge")
	if err != nil || len(ins.Containers) != 2 || ins.Containers[a.ContainerID].Name != "ca" {
		t.Errorf("inspect: %+v %v", ins, err)
	}

	for _, ep := range []*Endpoint{a, b} {
		if err := e.m.Detach(ep.ContainerID); err != nil {
			t.Fatal(err)
		}
		if err := e.m.Detach(ep.ContainerID); err != nil {
			t.Fatalf("second detach: %v", err)
		}
		e.m.Wait()
		if _, err := netlink.LinkByName(ep.HostVeth); err == nil {
			t.Errorf("%s still exists", ep.HostVeth)
		}
	}
	e.assertClean(t)
	if _, err := fetch("", fmt.Sprintf("127.0.0.1:%d", lp)); err == nil {
		t.Errorf("port still answers after detach")
	}
}

func TestPortConflictLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.m.Attach(ctx, AttachRequest{ContainerID: "a" + testutil.RandomHex(8), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	p := a.Ports[0].HostPort
	want := fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", p)
	same := []PortBinding{{HostIP: "127.0.0.1", HostPort: p, ContainerPort: 80, Proto: "tcp"}}
	if err := e.m.CheckPorts(same); err == nil || err.Error() != want {
		t.Errorf("CheckPorts: %v", err)
	}
	if err := e.m.CheckPorts([]PortBinding{{HostPort: p, ContainerPort: 80}}); err == nil || err.Error() != fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", p) {
		t.Errorf("CheckPorts 0.0.0.0: %v", err)
	}
	if err := e.m.CheckPorts([]PortBinding{{HostPort: p, ContainerPort: 80, Proto: "udp"}}); err != nil {
		t.Errorf("udp on the same number should be free: %v", err)
	}
	bid := "b" + testutil.RandomHex(8)
	// the second port conflicts, after a first one that would be fine
	_, err = e.m.Attach(ctx, AttachRequest{ContainerID: bid, Ports: []PortBinding{{ContainerPort: 81}, same[0]}})
	if err == nil || err.Error() != want {
		t.Fatalf("Attach: %v", err)
	}
	if _, ok := e.m.Endpoint(bid); ok {
		t.Error("endpoint left")
	}
	if _, err := os.Stat(filepath.Join(e.cfg.ExecRoot, "netns", bid)); err == nil {
		t.Error("netns file left")
	}
	if ports, _ := bridgePorts(e.cfg.BridgeName); len(ports) != 1 {
		t.Errorf("veths on bridge: %v", ports)
	}
	e.m.mu.Lock()
	held := len(e.m.ports)
	e.m.mu.Unlock()
	if held != 1 {
		t.Errorf("%d reservations held, want 1", held)
	}
	// a port some other program listens on is refused too
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	q := ln.Addr().(*net.TCPAddr).Port
	_, err = e.m.Attach(ctx, AttachRequest{ContainerID: bid, Ports: []PortBinding{{HostIP: "127.0.0.1", HostPort: q, ContainerPort: 80}}})
	if err == nil || err.Error() != fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", q) {
		t.Errorf("external conflict: %v", err)
	}
	// and the held port keeps other programs off it
	if l2, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
		l2.Close()
		t.Error("another program could listen on a published port")
	}
	// a failure half-way (after netns and veth exist) undoes everything
	e.m.testHookAfterVeth = func(*Endpoint) error { return fmt.Errorf("injected") }
	_, err = e.m.Attach(ctx, AttachRequest{ContainerID: bid, Ports: []PortBinding{{ContainerPort: 80}}})
	e.m.testHookAfterVeth = nil
	if err == nil || err.Error() != "injected" {
		t.Fatalf("hook: %v", err)
	}
	if err := e.m.Detach(a.ContainerID); err != nil {
		t.Fatal(err)
	}
	e.assertClean(t)
	// the freed port can be published again
	c, err := e.m.Attach(ctx, AttachRequest{ContainerID: "c" + testutil.RandomHex(8), Ports: same})
	if err != nil {
		t.Fatal(err)
	}
	if c.IP != a.IP {
		t.Errorf("freed IP %v not reused: %v", a.IP, c.IP)
	}
	e.m.Detach(c.ContainerID)
	e.assertClean(t)
}

// AttachBegin returns before the veth pair and the port rules exist: they
// are made while the runtime prepares init. A start that fails meanwhile
// detaches at once; Detach waits for that work and then undoes all of it
// (no rule, veth, netns file, record or port left). A failure of the work
// itself is Ready's error, with nothing left either.
func TestAttachBeginThenDetach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := "a" + testutil.RandomHex(8)
	// the veth work is held (the veth exists, the rules are going in) and
	// let go a moment later, from a timer: Detach, called meanwhile, must
	// not return before that work is over
	inVeth, release := make(chan struct{}), make(chan struct{})
	var workOver atomic.Bool
	e.m.testHookAfterVeth = func(*Endpoint) error {
		close(inVeth)
		<-release
		workOver.Store(true)
		return nil
	}
	ep, err := e.m.AttachBegin(ctx, AttachRequest{ContainerID: id, Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(ep.NetnsPath, &fs); err != nil || fs.Type != unix.NSFS_MAGIC {
		t.Errorf("AttachBegin returned before the namespace file was pinned (%v)", err)
	}
	<-inVeth
	time.AfterFunc(200*time.Millisecond, func() { close(release) })
	if err := e.m.Detach(id); err != nil {
		t.Fatal(err)
	}
	if !workOver.Load() {
		t.Error("Detach returned while the endpoint's veth work was still under way")
	}
	e.assertClean(t)

	e.m.testHookAfterVeth = func(*Endpoint) error { return fmt.Errorf("injected") }
	id = "b" + testutil.RandomHex(8)
	if _, err := e.m.AttachBegin(ctx, AttachRequest{ContainerID: id, Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Ready(id); err == nil || err.Error() != "injected" {
		t.Errorf("Ready after a failed veth: %v, want the injected error", err)
	}
	e.m.testHookAfterVeth = nil
	e.assertClean(t)
}

func TestCycles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := 200
	if testing.Short() {
		n = 20
	}
	before, _ := netlink.LinkList()
	start := time.Now()
	for i := 0; i < n; i++ {
		ep, err := e.m.Attach(context.Background(), AttachRequest{ContainerID: fmt.Sprintf("cycle%d-%s", i, testutil.RandomHex(4)), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := e.m.Detach(ep.ContainerID); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	t.Logf("%d attach+detach cycles in %v (%v each)", n, time.Since(start), time.Since(start)/time.Duration(n))
	e.assertClean(t)
	after, _ := netlink.LinkList()
	mine := func(ls []netlink.Link) (k int) {
		for _, l := range ls {
			if l.Attrs().MasterIndex != 0 && strings.HasPrefix(l.Attrs().Name, "veth") {
				if br, err := netlink.LinkByIndex(l.Attrs().MasterIndex); err == nil && br.Attrs().Name == e.cfg.BridgeName {
					k++
				}
			}
		}
		return
	}
	if mine(after) != 0 || mine(before) != 0 {
		t.Errorf("veths of ours: before %d after %d", mine(before), mine(after))
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.m.Attach(ctx, AttachRequest{ContainerID: "a" + testutil.RandomHex(8), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.m.Attach(ctx, AttachRequest{ContainerID: "b" + testutil.RandomHex(8), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	// leftovers no record explains: a veth on the bridge, a netns file, a rule
	ghost := "vethghost01"
	br, _ := netlink.LinkByName(e.cfg.BridgeName)
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ghost, MasterIndex: br.Attrs().Index}, PeerName: "mdg" + testutil.RandomHex(3)}); err != nil {
		t.Fatal(err)
	}
	ghostNs := filepath.Join(e.cfg.ExecRoot, "netns", "ghost")
	if err := createNetns(ghostNs); err != nil {
		t.Fatal(err)
	}
	if err := e.m.t.addPorts("ghost", netip.MustParseAddr("10.1.1.1"), []PortBinding{{HostPort: 1, ContainerPort: 1, Proto: "tcp"}}); err != nil {
		t.Fatal(err)
	}
	// the daemon dies (kill -9: sockets gone, kernel state stays) and comes
	// back; only a is still a container
	serve(t, a.NetnsPath, 80, "a")
	e.m.Close()
	mustFetch(t, "a while the daemon is down", "", fmt.Sprintf("127.0.0.1:%d", a.Ports[0].HostPort), "hello from a")
	cfg := e.cfg
	cfg.Live = func(id string) bool { return id == a.ContainerID }
	m2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m2
	if _, ok := m2.Endpoint(b.ContainerID); ok {
		t.Error("b survived")
	}
	m2.Wait()
	if _, err := netlink.LinkByName(b.HostVeth); err == nil {
		t.Error("b's veth survived")
	}
	if _, err := netlink.LinkByName(ghost); err == nil {
		t.Error("ghost veth survived")
	}
	if _, err := os.Stat(ghostNs); err == nil {
		t.Error("ghost netns survived")
	}
	out, _ := exec.Command("iptables", "-w", "-t", "nat", "-S", cfg.ChainPrefix).CombinedOutput()
	if strings.Contains(string(out), "ghost") || strings.Contains(string(out), b.ContainerID) || !strings.Contains(string(out), a.ContainerID) {
		t.Errorf("rules after reconcile:\n%s", out)
	}
	got, ok := m2.Endpoint(a.ContainerID)
	if !ok || got.IP != a.IP {
		t.Fatalf("a lost: %+v", got)
	}
	if err := m2.CheckPorts(a.Ports); err == nil {
		t.Error("a's port was not taken back")
	}
	mustFetch(t, "a after restart", "", fmt.Sprintf("127.0.0.1:%d", a.Ports[0].HostPort), "hello from a")
	// a new container does not get a's IP, and gets b's old one
	c, err := m2.Attach(ctx, AttachRequest{ContainerID: "c" + testutil.RandomHex(8)})
	if err != nil {
		t.Fatal(err)
	}
	if c.IP != b.IP {
		t.Errorf("c got %v, want b's freed %v", c.IP, b.IP)
	}
	m2.Detach(c.ContainerID)
	m2.Detach(a.ContainerID)
	e.assertClean(t)
}

func TestUserNetworks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub := testutil.FreeSubnet(t, 24)
	id, err := e.m.CreateNetwork(NetworkSpec{Name: "mynet", Subnet: sub.String()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.CreateNetwork(NetworkSpec{Name: "mynet"}); err == nil || err.Error() != "network with name mynet already exists" {
		t.Errorf("dup: %v", err)
	}
	if _, err := e.m.CreateNetwork(NetworkSpec{Name: "other", Subnet: e.subnet.String()}); err == nil || err.Error() != "invalid pool request: Pool overlaps with other one on this address space" {
		t.Errorf("overlap: %v", err)
	}
	if _, err := e.m.InspectNetwork("bogus"); err == nil || err.Error() != "network bogus not found" {
		t.Errorf("bogus: %v", err)
	}
	if _, err := e.m.Attach(ctx, AttachRequest{ContainerID: "x" + testutil.RandomHex(4), Network: "bogus"}); err == nil || err.Error() != "network bogus not found" {
		t.Errorf("attach bogus: %v", err)
	}
	if err := e.m.RemoveNetwork("bogus"); err == nil || err.Error() != "network bogus not found" {
		t.Errorf("rm bogus: %v", err)
	}
	if err := e.m.RemoveNetwork("bridge"); err == nil {
		t.Error("removed the default bridge")
	}
	a, err := e.m.Attach(ctx, AttachRequest{ContainerID: "a" + testutil.RandomHex(8), Name: "web", Network: "mynet"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.m.Attach(ctx, AttachRequest{ContainerID: "b" + testutil.RandomHex(8), Network: id[:12]})
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Contains(a.IP) || a.NetworkID != id || a.Network != "mynet" || a.Bridge != "br-"+id[:12] {
		t.Errorf("%+v", a)
	}
	serve(t, a.NetnsPath, 8080, "a")
	mustFetch(t, "b->a", b.NetnsPath, net.JoinHostPort(a.IP.String(), "8080"), "hello from a")
	err = e.m.RemoveNetwork("mynet")
	if err == nil || !strings.HasPrefix(err.Error(), "error while removing network: network mynet has active endpoints (") || !strings.Contains(err.Error(), "name:\"web\" id:\""+a.ContainerID[:12]) {
		t.Errorf("rm in use: %v", err)
	}
	ins, err := e.m.InspectNetwork("mynet")
	if err != nil || len(ins.Containers) != 2 || ins.IPAM.Config[0].Subnet != sub {
		t.Errorf("inspect: %+v %v", ins, err)
	}
	names := []string{}
	for _, n := range e.m.ListNetworks() {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "bridge,host,mynet,none" {
		t.Errorf("ls: %v", names)
	}
	e.m.Detach(a.ContainerID)
	e.m.Detach(b.ContainerID)
	if err := e.m.RemoveNetwork("mynet"); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName("br-" + id[:12]); err == nil {
		t.Error("user bridge left")
	}
	e.assertClean(t)
}

func BenchmarkAttachDetach(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	run := func(b *testing.B, ports []PortBinding) {
		var att, det time.Duration
		for i := 0; i < b.N; i++ {
			s := time.Now()
			ep, err := e.m.Attach(ctx, AttachRequest{ContainerID: fmt.Sprintf("bench%d-%s", i, testutil.RandomHex(3)), Ports: ports})
			if err != nil {
				b.Fatal(err)
			}
			att += time.Since(s)
			s = time.Now()
			if err := e.m.Detach(ep.ContainerID); err != nil {
				b.Fatal(err)
			}
			det += time.Since(s)
		}
		b.ReportMetric(float64(att.Microseconds())/1000/float64(b.N), "ms-attach")
		b.ReportMetric(float64(det.Microseconds())/1000/float64(b.N), "ms-detach")
	}
	b.Run("noports", func(b *testing.B) { run(b, nil) })
	b.Run("oneport", func(b *testing.B) { run(b, []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}) })
}

// After a reboot the records in StateDir survive but namespaces, veths and
// rules do not: New drops such endpoints even when Live says nothing.
func TestReconcileAfterReboot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d, err := e.m.Attach(context.Background(), AttachRequest{ContainerID: "d" + testutil.RandomHex(8), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}})
	if err != nil {
		t.Fatal(err)
	}
	e.m.Close()
	removeNetns(d.NetnsPath)
	deleteLink(d.HostVeth)
	e.m.t.removePorts(d.ContainerID, d.IP, d.Ports)
	m2, err := New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m2
	if _, ok := m2.Endpoint(d.ContainerID); ok {
		t.Error("stale endpoint kept")
	}
	e.assertClean(t)
	// endpoint records are not fsynced (their kernel side dies with a
	// reboot too): one a power loss cut short is dropped, not fatal
	m2.Close()
	cut := filepath.Join(e.cfg.StateDir, "endpoints", "c"+testutil.RandomHex(8)+".json")
	if err := os.WriteFile(cut, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if m2, err = New(e.cfg); err != nil {
		t.Fatalf("a daemon with an endpoint record cut short by a power loss: %v", err)
	}
	e.m = m2
	if _, err := os.Stat(cut); !os.IsNotExist(err) {
		t.Errorf("the cut-short endpoint record is still there (%v)", err)
	}
	d2, err := m2.Attach(context.Background(), AttachRequest{ContainerID: d.ContainerID, Ports: d.Ports})
	if err != nil {
		t.Fatalf("re-attach with the same ID and port: %v", err)
	}
	if d2.IP != d.IP {
		t.Errorf("IP %v, want %v again", d2.IP, d.IP)
	}
	m2.Detach(d.ContainerID)
	e.assertClean(t)
	// a daemon killed with endpoints in place: Purge takes everything away
	if _, err := m2.Attach(context.Background(), AttachRequest{ContainerID: "p" + testutil.RandomHex(8), Ports: d.Ports}); err != nil {
		t.Fatal(err)
	}
	m2.Close()
	if err := Purge(e.cfg); err != nil {
		t.Fatal(err)
	}
	e.assertNoChains(t)
	if _, err := netlink.LinkByName(e.cfg.BridgeName); err == nil {
		t.Error("bridge left after Purge")
	}
	if ents, _ := os.ReadDir(filepath.Join(e.cfg.ExecRoot, "netns")); len(ents) != 0 {
		t.Errorf("netns files left: %d", len(ents))
	}
	e.m = &Manager{cfg: e.cfg, t: ipt{prefix: e.cfg.ChainPrefix}, nets: map[string]*netRecord{}, eps: map[string]*Endpoint{}, dying: map[netip.Addr]int{}}
}

func TestDefaultHostIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.DefaultHostIP = "127.0.0.1" })
	bs, err := Bindings(mobynet.PortMap{mobynet.MustParsePort("80/tcp"): nil}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.m.Attach(context.Background(), AttachRequest{ContainerID: "h" + testutil.RandomHex(8), Ports: bs})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Ports[0].HostIP != "127.0.0.1" || !strings.HasPrefix(PSPorts(ep.Ports, nil), "127.0.0.1:") {
		t.Errorf("%+v", ep.Ports)
	}
	serve(t, ep.NetnsPath, 80, "h")
	mustFetch(t, "host", "", fmt.Sprintf("127.0.0.1:%d", ep.Ports[0].HostPort), "hello from h")
	if _, err := fetch(ep.NetnsPath, fmt.Sprintf("%s:%d", ep.Gateway, ep.Ports[0].HostPort)); err == nil {
		t.Error("a 127.0.0.1 binding answered on the gateway address")
	}
	e.m.Detach(ep.ContainerID)
	e.assertClean(t)
}

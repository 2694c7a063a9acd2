// Lab 05 — networking (chapters/05-networking).
//
// The article's section 5 asks three questions: how do containers talk to
// each other, how do they talk to the host, and what does -p really do? It
// answers with docker's four network modes, the docker0 bridge with one
// veth pair per container, and iptables DNAT/SNAT. This lab proves each
// claim against an isolated minidocker daemon (its own bridge, subnet and
// iptables chains). Traffic only ever goes to 127.0.0.1 and to addresses in
// network namespaces this lab or its daemon made. Run it as root:
// `make lab-05`.
package networking

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Step 1 — bridge mode (the default): the container has its own network
// namespace with lo and eth0, an address from the daemon's subnet, and a
// default route via the bridge. Its /etc/hosts names it. The veth's host
// end is a port of the bridge — the bridge is the switch the article draws.
func TestBridgeMode(t *testing.T) {
	d := startDaemon(t)
	id := runD(t, d, "--name", "box", "busybox", "sleep", "300")
	ip := containerIP(t, d, id)
	require.True(t, netip.MustParsePrefix(d.Bip).Masked().Contains(ip), "%s is in the daemon's subnet %s", ip, d.Bip)

	addrs := d.MustCLI("exec", "box", "ip", "-o", "-4", "addr")
	assert.Contains(t, addrs, "lo    inet 127.0.0.1/8")
	assert.Contains(t, addrs, "eth0    inet "+ip.String()+"/24")
	assert.Equal(t, 2, strings.Count(addrs, "inet "), "exactly lo and eth0:\n%s", addrs)
	routes := d.MustCLI("exec", "box", "ip", "route")
	assert.Contains(t, routes, "default via "+gateway(d).String()+" dev eth0")
	hosts := d.MustCLI("exec", "box", "cat", "/etc/hosts")
	assert.Contains(t, hosts, ip.String()+"\t"+id[:12])

	// a namespace of its own: not the host's
	self, _ := os.Readlink("/proc/self/ns/net")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", d.ContainerPid(id)))
	assert.NotEqual(t, self, theirs)

	// the host end of the pair is enslaved to the bridge
	veth := vethOf(t, d, id)
	br, err := netlink.LinkByName(d.Bridge)
	require.NoError(t, err)
	assert.Equal(t, "veth", veth.Type())
	assert.True(t, strings.HasPrefix(veth.Attrs().Name, "veth"), veth.Attrs().Name)
	assert.Equal(t, br.Attrs().Index, veth.Attrs().MasterIndex, "%s is a port of %s", veth.Attrs().Name, d.Bridge)
	assert.Equal(t, "bridge", br.Type())

	// inspect shows it as docker does
	ns := inspect(t, d, id).NetworkSettings
	ep := ns.Networks["bridge"]
	require.NotNil(t, ep)
	assert.Equal(t, gateway(d), ep.Gateway)
	assert.Equal(t, 24, ep.IPPrefixLen)
	b := ip.As4()
	assert.Equal(t, fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]), ep.MacAddress.String())
	assert.NotEmpty(t, ns.SandboxKey)
	// docker's own CLI reads the old top-level fields
	if r := d.Docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", id); r.Code == 0 {
		assert.Equal(t, ip.String(), strings.TrimSpace(r.Stdout))
	}
}

// Step 2 — none mode: a network namespace with only the loopback device.
func TestNoneMode(t *testing.T) {
	d := startDaemon(t)
	out := d.MustCLI("run", "--rm", "--net", "none", "busybox", "ip", "-o", "link")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(out), "\n")+1, "only lo:\n%s", out)
	assert.Contains(t, out, "1: lo:")
	assert.Empty(t, traces(d, ""))
}

// hostLinkNames is the set of the host's interface names.
func hostLinkNames(t *testing.T) map[string]bool {
	links, err := netlink.LinkList()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, l := range links {
		names[l.Attrs().Name] = true
	}
	return names
}

// Step 3 — host mode: no namespace of its own; the container sees the
// host's interfaces and hostname, like a process started on the host.
func TestHostMode(t *testing.T) {
	d := startDaemon(t)
	id := runD(t, d, "--net", "host", "busybox", "sleep", "300")
	self, _ := os.Readlink("/proc/self/ns/net")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", d.ContainerPid(id)))
	assert.Equal(t, self, theirs, "the host's network namespace")

	// Other tests add and remove interfaces meanwhile: compare only those
	// that are on the host both before and after the container looks.
	before := hostLinkNames(t)
	inside := d.MustCLI("exec", id, "ip", "-o", "link")
	after := hostLinkNames(t)
	for name := range before {
		if after[name] {
			assert.Contains(t, inside, ": "+name, "the container sees the host's %s", name)
		}
	}
	assert.Contains(t, inside, d.Bridge, "even the daemon's bridge")
	host, _ := os.Hostname()
	assert.Equal(t, host, strings.TrimSpace(d.MustCLI("exec", id, "hostname")))
}

// Step 4 — container mode: the second container joins the first one's
// network namespace (same /proc/<pid>/ns/net), reaches its web server on
// 127.0.0.1, and keeps its own hostname and file system: a Kubernetes pod.
func TestContainerMode(t *testing.T) {
	d := startDaemon(t)
	web := webServer(t, d, "pod-infra")
	side := runD(t, d, "--net", "container:pod-infra", "busybox", "sleep", "300")

	nsWeb, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", d.ContainerPid(web)))
	require.NoError(t, err)
	nsSide, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", d.ContainerPid(side)))
	require.NoError(t, err)
	assert.Equal(t, nsWeb, nsSide, "one network namespace for both")
	utsWeb, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", d.ContainerPid(web)))
	utsSide, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", d.ContainerPid(side)))
	assert.NotEqual(t, utsWeb, utsSide, "but each its own hostname")

	ip := containerIP(t, d, web)
	assert.Contains(t, d.MustCLI("exec", side, "ip", "-o", "-4", "addr"), "eth0    inet "+ip.String(), "the same eth0")
	var got string
	for i := 0; i < 30; i++ {
		r := d.CLI("exec", side, "timeout", "5", "wget", "-q", "-O-", "http://127.0.0.1/")
		if got = r.Stdout; r.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "hello from pod-infra\n", got, "the neighbour's server on localhost")

	// the joined container must run, and must exist
	d.MustCLI("stop", "-t", "1", side)
	d.MustCLI("stop", "-t", "1", web)
	r := d.CLI("start", side)
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "cannot join network namespace of a non running container")
	r = d.CLI("run", "--rm", "--net", "container:nosuch", "busybox", "true")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, "No such container: nosuch")
}

// Step 5 — two containers on the bridge reach each other by IP: the
// bridge switches frames between its ports.
func TestContainersReachEachOther(t *testing.T) {
	d := startDaemon(t)
	webServer(t, d, "server")
	client := runD(t, d, "--name", "client", "busybox", "sleep", "300")
	srvIP := containerIP(t, d, "server")
	cliIP := containerIP(t, d, client)
	assert.NotEqual(t, srvIP, cliIP)

	out := d.MustCLI("exec", "client", "ping", "-c", "1", "-W", "2", srvIP.String())
	assert.Contains(t, out, "1 packets received")
	var page string
	for i := 0; i < 30; i++ {
		r := d.CLI("exec", "client", "timeout", "5", "wget", "-q", "-O-", "http://"+srvIP.String()+"/")
		if page = r.Stdout; r.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "hello from server\n", page)
	// and the gateway (the host's address on the bridge) answers too
	assert.Contains(t, d.MustCLI("exec", "client", "ping", "-c", "1", "-W", "2", gateway(d).String()), "1 packets received")
}

// Step 6 — the article's manual wiring of a --net none container, done
// with netlink instead of `ip`: a veth pair, one end on the bridge, the
// other moved into the container's namespace, renamed eth0, addressed and
// given a default route. Another container then reaches it.
func TestManualWiringOfANoneContainer(t *testing.T) {
	d := startDaemon(t)
	id := runD(t, d, "--name", "network-none", "--net", "none", "busybox", "sleep", "300")
	pid := d.ContainerPid(id)
	pfx := netip.MustParsePrefix(d.Bip)
	manualIP := netip.AddrFrom4(func() [4]byte { b := pfx.Addr().As4(); b[3] = 200; return b }())

	// ip link add A type veth peer name B
	a, b := "mdA"+testutil.RandomHex(3), "mdB"+testutil.RandomHex(3)
	require.NoError(t, netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b}))
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(a); err == nil {
			netlink.LinkDel(l)
		}
	})
	// brctl addif docker0 A; ip link set A up
	la, err := netlink.LinkByName(a)
	require.NoError(t, err)
	br, err := netlink.LinkByName(d.Bridge)
	require.NoError(t, err)
	require.NoError(t, netlink.LinkSetMaster(la, br))
	require.NoError(t, netlink.LinkSetUp(la))
	// ip link set B netns $PID
	ns, err := netns.GetFromPid(pid)
	require.NoError(t, err)
	defer ns.Close()
	lb, err := netlink.LinkByName(b)
	require.NoError(t, err)
	require.NoError(t, netlink.LinkSetNsFd(lb, int(ns)))
	// ip netns exec $PID ip link set dev B name eth0; ... up; addr add; route add default
	h, err := netlink.NewHandleAt(ns)
	require.NoError(t, err)
	defer h.Close()
	lb, err = h.LinkByName(b)
	require.NoError(t, err)
	require.NoError(t, h.LinkSetName(lb, "eth0"))
	require.NoError(t, h.LinkSetUp(lb))
	require.NoError(t, h.AddrAdd(lb, &netlink.Addr{IPNet: &net.IPNet{IP: manualIP.AsSlice(), Mask: net.CIDRMask(pfx.Bits(), 32)}}))
	require.NoError(t, h.RouteAdd(&netlink.Route{LinkIndex: lb.Attrs().Index, Gw: pfx.Addr().AsSlice()}))

	inside := d.MustCLI("exec", id, "ip", "-o", "-4", "addr")
	assert.Contains(t, inside, "eth0    inet "+manualIP.String())
	assert.Contains(t, d.MustCLI("exec", id, "ip", "route"), "default via "+pfx.Addr().String())
	// test the wiring: the gateway from inside, and the wired container from another one
	assert.Contains(t, d.MustCLI("exec", id, "ping", "-c", "1", "-W", "2", pfx.Addr().String()), "1 packets received")
	other := runD(t, d, "busybox", "sleep", "300")
	assert.Contains(t, d.MustCLI("exec", other, "ping", "-c", "1", "-W", "2", manualIP.String()), "1 packets received")
	// what we made by hand we remove by hand (the daemon knows nothing of it)
	require.NoError(t, netlink.LinkDel(la))
}

// Step 7 — -p: the published port answers on the host's 127.0.0.1, from a
// separate network namespace acting as another machine, and from another
// container through the host (hairpin). Each is a DNAT rule in our chain.
func TestPublishedPort(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)
	id := webServer(t, d, "web", "-p", strconv.Itoa(port)+":80")
	ip := containerIP(t, d, id)

	// the host's loopback (route_localnet on our bridge + masquerade)
	assert.Equal(t, "hello from web\n", httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), nil))

	// a "remote" client: a namespace of its own, wired to the host by a
	// veth pair with a private /30
	sub := testutil.FreeSubnet(t, 30)
	hostAddr, remoteAddr := sub.Addr().Next(), sub.Addr().Next().Next()
	dial := remoteClient(t, hostAddr, remoteAddr, sub.Bits())
	assert.Equal(t, "hello from web\n", httpGet(t, fmt.Sprintf("http://%s:%d/", hostAddr, port), dial))

	// hairpin: another container, through the host's address on the bridge
	other := runD(t, d, "busybox", "sleep", "300")
	var page string
	for i := 0; i < 30; i++ {
		r := d.CLI("exec", other, "timeout", "5", "wget", "-q", "-O-", fmt.Sprintf("http://%s:%d/", gateway(d), port))
		if page = r.Stdout; r.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "hello from web\n", page)

	// what -p added: a DNAT rule naming the container, in our chain
	rules, err := exec.Command("iptables", "-w", "-t", "nat", "-S", d.Chain).Output()
	require.NoError(t, err)
	assert.Contains(t, string(rules), fmt.Sprintf("--dport %d", port))
	assert.Contains(t, string(rules), fmt.Sprintf("-j DNAT --to-destination %s:80", ip))
	assert.Contains(t, string(rules), id)

	// ps, port and inspect show it as docker does
	assert.Contains(t, d.MustCLI("ps"), fmt.Sprintf("0.0.0.0:%d->80/tcp", port))
	assert.Equal(t, fmt.Sprintf("80/tcp -> 0.0.0.0:%d\n", port), d.MustCLI("port", "web"))
	assert.Equal(t, fmt.Sprintf("0.0.0.0:%d\n", port), d.MustCLI("port", "web", "80"))

	// rm takes everything away
	veth := vethOf(t, d, id).Attrs().Name
	d.MustCLI("rm", "-f", id, other)
	assertNoTraces(t, d, "")
	_, err = netlink.LinkByName(veth)
	assert.Error(t, err, "the veth %s is gone", veth)
	c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		c.Close()
		t.Errorf("port %d still answers after rm", port)
	}
	// and the port is free for anyone again
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err, "the host port is released")
	ln.Close()
}

// remoteClient makes a network namespace wired to the host by a veth pair
// (host end hostAddr, namespace end remoteAddr) and returns a dialer that
// connects from inside it. Everything is removed when the test ends.
func remoteClient(t *testing.T, hostAddr, remoteAddr netip.Addr, bits int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	t.Helper()
	name := "mdlab" + testutil.RandomHex(3)
	runtime.LockOSThread()
	orig, err := netns.Get()
	require.NoError(t, err)
	ns, err := netns.NewNamed(name) // like `ip netns add`; switches this thread into it
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	require.NoError(t, netns.Set(orig))
	runtime.UnlockOSThread()
	orig.Close()
	t.Cleanup(func() {
		ns.Close()
		netns.DeleteNamed(name)
	})
	hostEnd, peer := "mdh"+testutil.RandomHex(3), "mdr"+testutil.RandomHex(3)
	require.NoError(t, netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostEnd}, PeerName: peer}))
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(hostEnd); err == nil {
			netlink.LinkDel(l)
		}
	})
	lh, err := netlink.LinkByName(hostEnd)
	require.NoError(t, err)
	require.NoError(t, netlink.AddrAdd(lh, &netlink.Addr{IPNet: &net.IPNet{IP: hostAddr.AsSlice(), Mask: net.CIDRMask(bits, 32)}}))
	require.NoError(t, netlink.LinkSetUp(lh))
	lp, err := netlink.LinkByName(peer)
	require.NoError(t, err)
	require.NoError(t, netlink.LinkSetNsFd(lp, int(ns)))
	h, err := netlink.NewHandleAt(ns)
	require.NoError(t, err)
	defer h.Close()
	lp, err = h.LinkByName(peer)
	require.NoError(t, err)
	require.NoError(t, h.AddrAdd(lp, &netlink.Addr{IPNet: &net.IPNet{IP: remoteAddr.AsSlice(), Mask: net.CIDRMask(bits, 32)}}))
	require.NoError(t, h.LinkSetUp(lp))
	lo, err := h.LinkByName("lo")
	require.NoError(t, err)
	require.NoError(t, h.LinkSetUp(lo))
	path := "/var/run/netns/" + name
	return func(ctx context.Context, nw, addr string) (net.Conn, error) {
		var c net.Conn
		err := network.RunInNetns(path, func() (err error) {
			c, err = (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, "tcp4", addr)
			return err
		})
		return c, err
	}
}

// Step 8 — the wrong inputs fail with docker's words and leave nothing:
// no container record, no rule, no veth.
func TestBadInput(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)
	runD(t, d, "--name", "holder", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "sleep", "300")
	before := d.MustCLI("ps", "-aq")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "99999:80"}, "invalid hostPort: 99999"},
		{[]string{"-p", "8080:80/xyz"}, "invalid proto: xyz"},
		{[]string{"-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", port)},
		{[]string{"-p", fmt.Sprintf("%d:80", port)}, fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", port)},
		{[]string{"--net", "container:nosuch"}, "No such container: nosuch"},
	} {
		r := d.CLI(append(append([]string{"run", "-d"}, c.args...), "busybox", "sleep", "300")...)
		assert.Equal(t, 125, r.Code, "%v", c.args)
		assert.Contains(t, r.Stderr, c.want, "%v", c.args)
	}
	assert.Equal(t, before, d.MustCLI("ps", "-aq"), "no container record was left by a refused run")
	// A network that does not exist is found missing at start, as in
	// dockerd: the container is created, its start fails, and the record
	// stays "Created" (with --rm it is removed).
	r := d.CLI("run", "-d", "--name", "early", "--net", "bogus", "busybox", "sleep", "300")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, "network bogus not found")
	assert.Equal(t, "created\n", d.MustCLI("inspect", "-f", "{{.State.Status}}", "early"))
	d.MustCLI("rm", "early")
	r = d.CLI("run", "--rm", "--net", "bogus", "busybox", "true")
	assert.Equal(t, 125, r.Code)
	assert.Equal(t, before, d.MustCLI("ps", "-aq"), "run --rm on a missing network leaves no record")
	out, _ := exec.Command("iptables-save", "-t", "nat").Output()
	assert.Equal(t, 1, countDNAT(string(out), d.Chain), "only the holder's rule")
	ports, _ := os.ReadDir("/sys/class/net/" + d.Bridge + "/brif")
	assert.Len(t, ports, 1, "only the holder's veth")

	// networks: overlap, in use, predefined, unknown
	sub := testutil.FreeSubnet(t, 24)
	d.MustCLI("network", "create", "--subnet", sub.String(), "labnet")
	r = d.CLI("network", "create", "--subnet", netip.PrefixFrom(sub.Addr(), 25).String(), "labnet2")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Pool overlaps with other one on this address space")
	r = d.CLI("network", "create", "--subnet", sub.String(), "labnet")
	assert.Contains(t, r.Stderr, "network with name labnet already exists")
	user := runD(t, d, "--network", "labnet", "busybox", "sleep", "300")
	r = d.CLI("network", "rm", "labnet")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "error while removing network: network labnet has active endpoints")
	r = d.CLI("network", "rm", "bridge")
	assert.Contains(t, r.Stderr, "bridge is a pre-defined network and cannot be removed")
	r = d.CLI("network", "rm", "bogus")
	assert.Contains(t, r.Stderr, "network bogus not found")
	d.MustCLI("rm", "-f", user)
	assertNoTraces(t, d, user)
	assert.Equal(t, "labnet\n", d.MustCLI("network", "rm", "labnet"))
}

func countDNAT(rules, chain string) int {
	n := 0
	for _, l := range strings.Split(rules, "\n") {
		if strings.HasPrefix(l, "-A "+chain+" ") && strings.Contains(l, "-j DNAT") {
			n++
		}
	}
	return n
}

// Step 9 — user-defined networks: their own bridge and subnet; members
// reach each other by IP and by name; `network ls` and `network inspect`
// look like docker's.
func TestUserDefinedNetwork(t *testing.T) {
	d := startDaemon(t)
	sub := testutil.FreeSubnet(t, 24)
	id := strings.TrimSpace(d.MustCLI("network", "create", "--subnet", sub.String(), "backend"))
	require.Len(t, id, 64)
	ls := d.MustCLI("network", "ls")
	lines := strings.Split(strings.TrimSpace(ls), "\n")
	assert.Equal(t, "NETWORK ID     NAME      DRIVER    SCOPE", lines[0])
	assert.Contains(t, ls, id[:12]+"   backend   bridge    local")
	assert.Regexp(t, `(?m)^[0-9a-f]{12}   bridge    bridge    local$`, ls)
	assert.Regexp(t, `(?m)^[0-9a-f]{12}   host      host      local$`, ls)
	assert.Regexp(t, `(?m)^[0-9a-f]{12}   none      null      local$`, ls)

	webServer(t, d, "api", "--network", "backend")
	c := runD(t, d, "--network", "backend", "busybox", "sleep", "300")
	apiIP := containerIP(t, d, "api")
	assert.True(t, sub.Contains(apiIP), "%s in %s", apiIP, sub)
	assert.Contains(t, d.MustCLI("exec", c, "ping", "-c", "1", "-W", "2", apiIP.String()), "1 packets received")
	// by name, too (docker answers with its embedded DNS; we write /etc/hosts)
	var page string
	for i := 0; i < 30; i++ {
		r := d.CLI("exec", c, "timeout", "5", "wget", "-q", "-O-", "http://api/")
		if page = r.Stdout; r.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "hello from api\n", page, "the name api on the network backend")
	cName := strings.TrimPrefix(inspect(t, d, c).Name, "/")
	assert.Contains(t, d.MustCLI("exec", "api", "cat", "/etc/hosts"), containerIP(t, d, c).String()+"\t"+cName, "and the other way round")
	// the default bridge has no names, as in docker
	assert.NotContains(t, d.MustCLI("run", "--rm", "busybox", "cat", "/etc/hosts"), "\tapi\n")

	insp := d.MustCLI("network", "inspect", "backend")
	assert.Contains(t, insp, `"Subnet": "`+sub.String()+`"`)
	assert.Contains(t, insp, `"Name": "api"`)
	assert.Contains(t, insp, `"IPv4Address": "`+apiIP.String()+`/24"`)
	// the real docker CLI agrees
	if r := d.Docker("network", "ls", "--format", "{{.Name}}"); r.Code == 0 {
		assert.Contains(t, r.Stdout, "backend\n")
	}
	d.MustCLI("rm", "-f", "api")
	assert.NotContains(t, d.MustCLI("exec", c, "cat", "/etc/hosts"), "\tapi\n", "a removed container's name goes")
	d.MustCLI("rm", "-f", c)
	d.MustCLI("network", "rm", "backend")
	_, err := netlink.LinkByName("br-" + id[:12])
	assert.Error(t, err, "the network's bridge is gone")
}

// Step 10 — -P publishes every EXPOSEd port of the image on a random host
// port; an exposed port that is not published is listed bare in ps.
func TestPublishAll(t *testing.T) {
	d := startDaemonWith(t, func(store string) {
		importImage(t, store, "exposer:latest", "EXPOSE 80", "EXPOSE 8080/tcp", "EXPOSE 53/udp", `CMD ["sleep", "300"]`)
	})
	id := runD(t, d, "-P", "exposer")
	lines := strings.Split(strings.TrimSpace(d.MustCLI("port", id)), "\n")
	require.Len(t, lines, 3, "%v", lines)
	assert.Regexp(t, `^53/udp -> 0\.0\.0\.0:\d+$`, lines[0])
	assert.Regexp(t, `^80/tcp -> 0\.0\.0\.0:\d+$`, lines[1])
	assert.Regexp(t, `^8080/tcp -> 0\.0\.0\.0:\d+$`, lines[2])

	plain := runD(t, d, "exposer")
	ps := d.MustCLI("ps", "--no-trunc")
	for _, l := range strings.Split(ps, "\n") {
		if strings.HasPrefix(l, plain) {
			assert.Contains(t, l, "53/udp, 80/tcp, 8080/tcp", "exposed, not published")
		}
	}
	assert.Empty(t, strings.TrimSpace(d.MustCLI("port", plain)))
}

// Step 11 — leaks: 200 cycles of `run -d -p …; rm -f` (four workers, each
// reusing one host port) leave no rule, veth, namespace or IP behind.
func TestRunRmCyclesLeaveNothing(t *testing.T) {
	d := startDaemon(t)
	const workers, cycles = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	ports := map[int]bool{} // one port per worker: two workers on one port collide
	for w := 0; w < workers; w++ {
		port := freePort(t)
		for ports[port] {
			port = freePort(t)
		}
		ports[port] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < cycles; i++ {
				r := d.CLI("run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "sleep", "300")
				if r.Code != 0 {
					errs <- fmt.Errorf("cycle %d: run: %s", i, r.Combined())
					return
				}
				if r := d.CLI("rm", "-f", strings.TrimSpace(r.Stdout)); r.Code != 0 {
					errs <- fmt.Errorf("cycle %d: rm: %s", i, r.Combined())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertNoTraces(t, d, "")
	assert.Empty(t, strings.TrimSpace(d.MustCLI("ps", "-aq")))
}

// Step 12 — scale: 50 containers with published ports at once, each
// answering on its own port of 127.0.0.1; then nothing is left.
func TestFiftyPublishedAtOnce(t *testing.T) {
	d := startDaemon(t)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := fmt.Sprintf("mkdir /www && echo c%d > /www/index.html && exec httpd -f -p 80 -h /www", i)
			r := d.CLI("run", "-d", "-p", "127.0.0.1::80", "busybox", "sh", "-c", cmd)
			if r.Code != 0 {
				t.Errorf("container %d: %s", i, r.Combined())
				return
			}
			ids[i] = strings.TrimSpace(r.Stdout)
		}(i)
	}
	wg.Wait()
	require.False(t, t.Failed())
	ps := d.MustCLI("ps")
	assert.Equal(t, n, strings.Count(ps, "->80/tcp"), "ps shows %d published ports", n)
	for i, id := range ids {
		out := strings.TrimSpace(d.MustCLI("port", id, "80"))
		assert.True(t, strings.HasPrefix(out, "127.0.0.1:"), out)
		assert.Equal(t, fmt.Sprintf("c%d\n", i), httpGet(t, "http://"+out+"/", nil))
	}
	d.MustCLI(append([]string{"rm", "-f"}, ids...)...)
	assertNoTraces(t, d, "")
}

// Step 13 — reconciliation: the daemon is killed (-9) while a container
// with a published port runs, and the container dies while the daemon is
// away. At the next start the daemon removes its rule, veth and IP.
func TestReconcileAfterDaemonCrash(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)
	id := webServer(t, d, "crashy", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	survivor := webServer(t, d, "survivor", "-p", fmt.Sprintf("127.0.0.1:%d:80", freePort(t)))
	survivorPort := strings.TrimSpace(d.MustCLI("port", survivor, "80"))
	pid := d.ContainerPid(id)
	d.Kill9()
	// the kernel keeps serving without the daemon: nothing is in user space
	assert.Equal(t, "hello from crashy\n", httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), nil))
	require.NoError(t, killPid(pid))
	time.Sleep(300 * time.Millisecond)
	d.Start()
	assertNoTraces(t, d, id)
	assert.Equal(t, "hello from survivor\n", httpGet(t, "http://"+survivorPort+"/", nil), "a live container keeps its port")
	r := d.CLI("run", "-d", "-p", survivorPort+":80", "busybox", "true")
	assert.Contains(t, r.Stderr, "port is already allocated", "and its reservation")
}

func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

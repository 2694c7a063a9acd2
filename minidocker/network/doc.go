// Package network is minidocker's container networking: the article's
// section 5 ("网络", bridge networking and port mapping). Start reading at
// Manager.Attach in manager.go, then link.go (bridge, veth), iptables.go
// (the rules, listed at the top of the file) and reserve.go (host ports).
//
// # What a container gets
//
// Each container in bridge mode gets a network namespace of its own, created
// here and pinned as a file, ExecRoot/netns/<containerID> (a bind mount of
// the creating thread's /proc/self/task/<tid>/ns/net, like `ip netns add`).
// The runtime starts the container's init joined to that path, as Docker's
// libnetwork "sandbox" plus an OCI namespace path do; so the network is ready
// before the container's first instruction and this package never needs a
// pid. Into the namespace goes one end of a veth pair, created directly
// inside it as eth0 with docker's classic MAC (02:42 + the IPv4 address), an
// address from the network's pool and a default route via the bridge's
// gateway address. The other end ("vethXXXXXXX") is enslaved to the bridge,
// which switches frames between containers like a small Ethernet switch.
//
// A container on more networks than one (`network connect`) gets one more
// veth per network into the same namespace (eth1, eth2...: AttachSecondary),
// with an address but no default route. On user-defined networks dns.go runs
// the embedded DNS server (127.0.0.11) in the container's namespace: dns.go
// decides the answers (start at respond), dns_serve.go has the UDP and TCP
// sockets and the forwarding to the host's resolvers, and the wire format
// is golang.org/x/net/dns/dnsmessage's.
//
// IP addresses are not kept in a separate IPAM database: the endpoint records
// (StateDir/endpoints/<id>.json, written atomically before anything is made in
// the kernel) are the allocation. One source of truth means a crash cannot
// leave an address allocated without a record that explains it. They are
// not fsynced (a network's record is): a daemon's crash keeps the page
// cache, and what an endpoint describes does not survive a power loss
// either, so a record cut short by one is dropped at the next start. The
// fsync had cost every container start a millisecond or more, under the
// manager's lock.
//
// # Port mapping
//
// `-p [ip:]hostPort:containerPort` becomes one DNAT rule in our nat chain
// (PREFIX), reached from PREROUTING (packets arriving from outside, and from
// containers: hairpin) and from OUTPUT (connections made by the host itself),
// both only for local destination addresses (-m addrtype --dst-type LOCAL).
// PREFIX-POSTROUTING masquerades the subnet leaving through other
// interfaces, hairpin connections (a container reaching a published port
// that leads back to the same bridge), and connections from 127.0.0.0/8.
// PREFIX-FORWARD accepts traffic from the bridge, replies to it, and
// connections DNAT'ed to it. The full list is at the top of iptables.go.
//
// Before any of that, the host port is reserved: a socket is bound (not
// listening) to hostIP:port and held by the daemon while the container has
// the port. A second container, or any other program, asking for the same
// port fails right there with docker's "Bind for 0.0.0.0:8080 failed: port is
// already allocated" and nothing has been created yet. The socket never gets
// traffic, because DNAT happens before the kernel looks for a socket.
//
// # The localhost problem, and our answer: route_localnet
//
// A connection from the host to 127.0.0.1:8080 is DNAT'ed in OUTPUT to
// 10.66.0.2:80, but its source is still 127.0.0.1, and the kernel refuses to
// route a 127.x source out of a real interface ("martian"). Docker answers
// with a userland proxy (docker-proxy): a process listening on the host port
// that copies bytes to the container. We answer like netavark: set
// net.ipv4.conf.<bridge>.route_localnet=1 on our bridge only (so 127.x
// sources may leave through it) and MASQUERADE packets from 127.0.0.0/8 that
// leave through the bridge, so the container sees the gateway address and its
// replies come back to the host, where conntrack undoes both translations.
//
// Why not the proxy: it is one process (or goroutine) per published port,
// every byte crosses user space twice, the container sees the proxy instead
// of the client, and a killed daemon takes the ports down with it. With
// route_localnet everything stays in the kernel: throughput is that of the
// veth, and if the daemon is killed with -9 the containers keep serving on
// their ports until the daemon comes back and reconciles. The price is a
// per-bridge sysctl (not a host-wide one) and one MASQUERADE rule.
//
// # Cleanup and reconciliation
//
// Detach removes the DNAT rules (each carries a comment with the container
// ID), the namespace file, the record and the port reservations at once,
// and the veth pair and the address's conntrack entries in the background
// (conntrack.go: one pass over the kernel's table serves several removed
// containers); the IP returns to the pool after both. It is idempotent.
// New (or Reconcile) removes everything of containers that are no longer
// live, and anything no record explains: veths on our bridges, namespace
// files, DNAT rules. For live containers it takes their host ports back and
// makes sure their rules exist.
//
// # Host requirements
//
// CheckHost reports what is missing in plain words: ip_forward (needed for
// other machines, other namespaces and containers via the host to reach
// published ports, and for containers to get out), bridge netfilter, and the
// iptables command (iptables-nft on Debian 12 and EL9; we exec it with -w).
//
// # How the daemon uses it
//
//	m, err := network.New(network.Config{..., Live: isRunning}) // at start; print network.CheckHost()
//	ports, err := network.Bindings(hc.PortBindings, exposed, hc.PublishAllPorts) // the client parsed -p
//	err = m.CheckPorts(ports)                                 // at create
//	ep, err := m.AttachBegin(ctx, network.AttachRequest{ContainerID: id, Name: name, Network: "bridge", Ports: ports})
//	// start init joined to ep.NetnsPath (OCI: namespace path); write
//	// network.HostsFile(ep.IP.String(), hostname, name) as /etc/hosts
//	err = m.Ready(id)                                         // the veth is there: let init run the CMD
//	// inspect: ep.Settings(), network.PortMap(ep.Ports, exposed); ps: network.PSPorts; port: network.PortLines
//	m.Detach(id)                                              // on stop, rm, failed start
//
// Attach is AttachBegin and Ready in one call. The split is for the
// daemon's start: AttachBegin reserves the ports and the IP, writes the
// record and pins the namespace (what init needs to join it), then makes
// the veth pair, its address and route and the DNAT rules on a goroutine
// while the shim prepares init; Ready waits for that work before the
// container's first instruction. A failure of that work undoes the
// endpoint itself, and Detach waits for it, so a start that fails in
// between leaves nothing behind.
//
// --net container:X joins X's ep.NetnsPath; --net host and --net none need
// nothing from here (none = the runtime's own empty NEWNET).
//
// Ports are parsed once, at the edge: the CLI turns `-p` into the Engine
// API's typed PortMap, Bindings converts that map (no spec strings in
// between), and ParseExposed reads an EXPOSE entry for the builder.
//
// Errors carry an errdefs kind where they are made (a taken name is a
// Conflict, a bad subnet Invalid, a pre-defined network Forbidden), so the
// daemon and the API never read an error's text.
//
// Detach returns once the rules, namespace file, record and host ports are
// gone; deleting the veth pair costs the kernel ~20 ms of RCU grace periods,
// so that finishes in the background (the IP is reused only afterwards;
// Wait blocks until it is done).
//
// # Fixed addresses and internal networks
//
// AttachRequest.IP asks for one address (--ip); CheckStaticIP tells at
// create whether the network may give it (only one whose subnet the user
// chose, as in docker), static_ip.go. A network made with
// NetworkSpec.Internal gets isolation rules instead of the ordinary ones
// (iptables.go), and its endpoints no default route and no ports.
//
// Not done: IPv6, link-local addresses.
package network

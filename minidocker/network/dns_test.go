package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsTestManager has, without any kernel object: web (alias www) and db on
// the user network n1, db and lonely on the user network n2, b1 on the
// default bridge, and svcCount containers sharing the alias "svc" on n1.
func dnsTestManager() *Manager {
	m := &Manager{
		nets: map[string]*netRecord{
			"n1": {ID: "n1", Name: "front"}, "n2": {ID: "n2", Name: "back"},
			"def": {ID: "def", Name: "bridge", Default: true},
		},
		eps:       map[string]*Endpoint{},
		resolvers: map[string]*resolver{},
	}
	add := func(key, cid, name, netID, ip string, aliases ...string) {
		m.eps[key] = &Endpoint{ContainerID: cid, Name: name, NetworkID: netID, Network: m.nets[netID].Name,
			IP: netip.MustParseAddr(ip), Aliases: aliases}
	}
	add("web", "aaaaaaaaaaaa1111", "web", "n1", "10.70.0.2", "www")
	add("db", "bbbbbbbbbbbb2222", "db", "n1", "10.70.0.3")
	add("db.n2", "bbbbbbbbbbbb2222", "db", "n2", "10.71.0.3")
	add("lonely", "cccccccccccc3333", "lonely", "n2", "10.71.0.4")
	add("b1", "dddddddddddd4444", "b1", "def", "172.17.0.2")
	for i := range svcCount {
		add(fmt.Sprint("svc", i), fmt.Sprint("svc", i), fmt.Sprint("proj_svc_", i), "n1", fmt.Sprintf("10.72.%d.%d", i/200, 2+i%200), "svc")
	}
	return m
}

// svcCount containers share "svc": more A records than fit in 512 bytes,
// or in the 1232 that Go's resolver offers with EDNS0.
const svcCount = 100

// dnsQuery is a query as a client packs it, with ID 0x1234 and recursion
// desired; udpSize > 0 adds an EDNS0 OPT record offering that size.
func dnsQuery(t *testing.T, name string, typ dnsmessage.Type, udpSize int) []byte {
	t.Helper()
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 0x1234, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}},
	}
	if udpSize > 0 {
		var opt dnsmessage.ResourceHeader
		opt.SetEDNS0(udpSize, dnsmessage.RCodeSuccess, false)
		q.Additionals = []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}}
	}
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unpackReply(t *testing.T, b []byte) dnsmessage.Message {
	t.Helper()
	var r dnsmessage.Message
	if err := r.Unpack(b); err != nil {
		t.Fatalf("reply does not parse: %v (%x)", err, b)
	}
	return r
}

// addrsOf are the A records of a reply, as text.
func addrsOf(r dnsmessage.Message) []string {
	var out []string
	for _, rr := range r.Answers {
		if a, ok := rr.Body.(*dnsmessage.AResource); ok {
			out = append(out, netip.AddrFrom4(a.A).String())
		}
	}
	return out
}

// TestDNSAnswers: what the embedded server answers to a container on n1,
// decided without sockets: names, aliases, short IDs and --link aliases of
// the asker's networks, in any case, with docker's TTL; NXDOMAIN for a
// container on another network or on the default bridge; an empty NOERROR
// for AAAA of a known name; PTR for a known address; FORMERR/NOTIMP for
// what is not one plain query, and no reply to a response or to a few
// bytes that have no ID.
func TestDNSAnswers(t *testing.T) {
	m := dnsTestManager()
	r := newResolver(nil)
	r.links = map[string]string{"dbalias": "DB"}
	m.resolvers["aaaaaaaaaaaa1111"] = r
	ask := func(q []byte) dnsmessage.Message {
		t.Helper()
		return unpackReply(t, m.respond("aaaaaaaaaaaa1111", r, q, "udp"))
	}
	for name, want := range map[string]string{
		"web.": "10.70.0.2", "WeB.": "10.70.0.2", "www.": "10.70.0.2", "bbbbbbbbbbbb.": "10.70.0.3",
		"BbBbBbBbBbBb.": "10.70.0.3", "db.": "10.70.0.3", "dbalias.": "10.70.0.3", "DBAlias.": "10.70.0.3",
	} {
		rep := ask(dnsQuery(t, name, dnsmessage.TypeA, 0))
		h := rep.Header
		if got := addrsOf(rep); h.RCode != dnsmessage.RCodeSuccess || !slices.Equal(got, []string{want}) {
			t.Errorf("A %s: %v %v, want %s", name, h.RCode, got, want)
			continue
		}
		if h.ID != 0x1234 || !h.Response || !h.RecursionDesired || !h.RecursionAvailable || h.Truncated {
			t.Errorf("A %s: header %+v", name, h)
		}
		if a := rep.Answers[0].Header; a.Name.String() != name || a.TTL != 600 || a.Class != dnsmessage.ClassINET {
			t.Errorf("A %s: record header %+v (want the name as asked, TTL 600)", name, a)
		}
	}
	for _, name := range []string{"lonely.", "b1.", "nosuch.", "web.example.test."} {
		if rep := ask(dnsQuery(t, name, dnsmessage.TypeA, 0)); rep.Header.RCode != dnsmessage.RCodeNameError || len(rep.Answers) != 0 {
			t.Errorf("A %s: %v %v, want NXDOMAIN (no upstream)", name, rep.Header.RCode, addrsOf(rep))
		}
	}
	if rep := ask(dnsQuery(t, "web.", dnsmessage.TypeAAAA, 0)); rep.Header.RCode != dnsmessage.RCodeSuccess || len(rep.Answers) != 0 {
		t.Errorf("AAAA web: %v %d answers, want NOERROR and none", rep.Header.RCode, len(rep.Answers))
	}
	rep := ask(dnsQuery(t, "3.0.70.10.in-addr.arpa.", dnsmessage.TypePTR, 0))
	if ptr, ok := firstBody(rep).(*dnsmessage.PTRResource); !ok || ptr.PTR.String() != "db.front." {
		t.Errorf("PTR 10.70.0.3: %v %+v, want db.front.", rep.Header.RCode, rep.Answers)
	}
	if rep := ask(dnsQuery(t, "2.0.17.172.in-addr.arpa.", dnsmessage.TypePTR, 0)); rep.Header.RCode != dnsmessage.RCodeNameError {
		t.Errorf("PTR of a default-bridge address: %v, want NXDOMAIN", rep.Header.RCode)
	}
	checkMalformedQueries(t, m, r)
}

func firstBody(r dnsmessage.Message) dnsmessage.ResourceBody {
	if len(r.Answers) == 0 {
		return nil
	}
	return r.Answers[0].Body
}

// checkMalformedQueries: two questions are FORMERR, an UPDATE is NOTIMP, a
// response and a message shorter than a header get no reply.
func checkMalformedQueries(t *testing.T, m *Manager, r *resolver) {
	t.Helper()
	two := dnsmessage.Message{Header: dnsmessage.Header{ID: 7}, Questions: []dnsmessage.Question{
		{Name: dnsmessage.MustNewName("web."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET},
		{Name: dnsmessage.MustNewName("db."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET},
	}}
	update := dnsmessage.Message{Header: dnsmessage.Header{ID: 8, OpCode: 5}, Questions: two.Questions[:1]}
	response := dnsmessage.Message{Header: dnsmessage.Header{ID: 9, Response: true}, Questions: two.Questions[:1]}
	for _, c := range []struct {
		msg  dnsmessage.Message
		want dnsmessage.RCode
	}{{two, dnsmessage.RCodeFormatError}, {update, dnsmessage.RCodeNotImplemented}} {
		b, _ := c.msg.Pack()
		rep := unpackReply(t, m.respond("aaaaaaaaaaaa1111", r, b, "udp"))
		if rep.Header.RCode != c.want || rep.Header.ID != c.msg.Header.ID || len(rep.Answers) != 0 {
			t.Errorf("query %+v: reply %+v, want %v", c.msg.Header, rep.Header, c.want)
		}
	}
	b, _ := response.Pack()
	for _, msg := range [][]byte{b, {0x12, 0x34, 1}} {
		if rep := m.respond("aaaaaaaaaaaa1111", r, msg, "udp"); rep != nil {
			t.Errorf("reply to %x: %x, want none", msg, rep)
		}
	}
}

// TestDNSTruncation: over UDP a reply never exceeds what the client takes
// (512 bytes, or its EDNS0 size): the answers that fit, and the TC bit so
// that it asks again over TCP, where it gets them all.
func TestDNSTruncation(t *testing.T) {
	m := dnsTestManager()
	r := newResolver(nil)
	for _, c := range []struct {
		proto     string
		udpSize   int
		limit     int
		truncated bool
	}{{"udp", 0, 512, true}, {"udp", 1232, 1232, true}, {"udp", 4096, 4096, false}, {"tcp", 0, 65535, false}} {
		b := m.respond("aaaaaaaaaaaa1111", r, dnsQuery(t, "svc.", dnsmessage.TypeA, c.udpSize), c.proto)
		rep := unpackReply(t, b)
		n := len(addrsOf(rep))
		if len(b) > c.limit || rep.Header.Truncated != c.truncated || n == 0 || (n == svcCount) == c.truncated {
			t.Errorf("%s, EDNS0 size %d: %d bytes, TC %v, %d of %d addresses", c.proto, c.udpSize, len(b), rep.Header.Truncated, n, svcCount)
		}
	}
}

// TestDNSServer serves on 127.0.0.1 sockets what StartResolver serves on
// 127.0.0.11:53 in a container's namespace, to Go's own resolver (which
// falls back to TCP on a truncated reply) and to a fake upstream server:
// names of ours are answered here, a dotted name that is not ours is
// forwarded over the protocol it came by (a stray datagram with another ID
// is not taken for the reply), and so is a PTR for an address that is not
// one of ours; a name without a dot never leaves, a dead
// upstream is SERVFAIL, and stop closes the sockets and open connections.
func TestDNSServer(t *testing.T) {
	up := startFakeUpstream(t)
	m := dnsTestManager()
	r := newResolver([]string{up.addr})
	m.resolvers["aaaaaaaaaaaa1111"] = r
	pc, l := listenLoopback(t)
	r.serve(pc, l, func(q []byte, proto string) []byte { return m.respond("aaaaaaaaaaaa1111", r, q, proto) })
	t.Cleanup(r.stop)
	server := l.Addr().(*net.TCPAddr).AddrPort().String()

	goResolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, server)
	}}
	addrs, err := goResolver.LookupHost(context.Background(), "svc.")
	if err != nil || len(addrs) != svcCount {
		t.Errorf("Go's resolver, svc: %d addresses, %v; want %d (a truncated UDP reply, then TCP)", len(addrs), err, svcCount)
	}
	for _, proto := range []string{"udp", "tcp"} {
		ans := exchangeOrFail(t, server, dnsQuery(t, "example.test.", dnsmessage.TypeA, 0), proto)
		if got := addrsOf(ans); !slices.Equal(got, []string{"192.0.2.1"}) {
			t.Errorf("%s, forwarded example.test: %v %v", proto, ans.Header.RCode, got)
		}
		if ans := exchangeOrFail(t, server, dnsQuery(t, "WEB.", dnsmessage.TypeA, 0), proto); !slices.Equal(addrsOf(ans), []string{"10.70.0.2"}) {
			t.Errorf("%s, web: %v", proto, addrsOf(ans))
		}
	}
	if got := up.seen.Load(); got != 2 {
		t.Errorf("the upstream saw %d queries, want 2 (example.test, over UDP and TCP)", got)
	}
	ans := exchangeOrFail(t, server, dnsQuery(t, "nosuch.", dnsmessage.TypeA, 0), "udp")
	if ans.Header.RCode != dnsmessage.RCodeNameError || up.seen.Load() != 2 {
		t.Errorf("nosuch: %v, upstream queries %d; want NXDOMAIN from here", ans.Header.RCode, up.seen.Load())
	}
	// as docker does: a PTR for an address that is not a container's of ours
	exchangeOrFail(t, server, dnsQuery(t, "1.2.0.192.in-addr.arpa.", dnsmessage.TypePTR, 0), "udp")
	if got := up.seen.Load(); got != 3 {
		t.Errorf("PTR 192.0.2.1: the upstream saw %d queries, want 3 (it is forwarded)", got)
	}
	checkDeadUpstreamAndStop(t, m, up, r, pc)
}

// checkDeadUpstreamAndStop: with the upstream gone a forwarded name is
// SERVFAIL; stop closes the UDP socket and a client's open TCP connection.
func checkDeadUpstreamAndStop(t *testing.T, m *Manager, up *fakeUpstream, r *resolver, pc net.PacketConn) {
	t.Helper()
	up.pc.Close()
	up.l.Close()
	if rep := unpackReply(t, m.respond("aaaaaaaaaaaa1111", r, dnsQuery(t, "example.test.", dnsmessage.TypeA, 0), "tcp")); rep.Header.RCode != dnsmessage.RCodeServerFailure {
		t.Errorf("upstream gone: %v, want SERVFAIL", rep.Header.RCode)
	}
	c, err := net.Dial("tcp", r.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := writeTCPMessage(c, dnsQuery(t, "web.", dnsmessage.TypeA, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := readTCPMessage(c); err != nil { // the connection is served (so tracked) by now
		t.Fatal(err)
	}
	r.stop()
	if _, err := readTCPMessage(c); err == nil {
		t.Error("an open TCP connection still served after stop")
	}
	if _, _, err := pc.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("UDP socket after stop: %v, want closed", err)
	}
}

// listenLoopback opens a UDP and a TCP socket on the same free port of
// 127.0.0.1 (a port free for UDP may be taken for TCP: a few tries).
func listenLoopback(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 10 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no port of 127.0.0.1 free for both UDP and TCP")
	return nil, nil
}

// exchangeOrFail asks server one query over proto, as a client would.
func exchangeOrFail(t *testing.T, server string, q []byte, proto string) dnsmessage.Message {
	t.Helper()
	b, err := exchange(server, q, proto)
	if err != nil {
		t.Fatalf("%s query to %s: %v", proto, server, err)
	}
	return unpackReply(t, b)
}

// fakeUpstream stands for the host's resolver: example.test. is 192.0.2.1,
// anything else NXDOMAIN. Over UDP it first sends a reply with a wrong ID
// that says 192.0.2.99, which the forwarder must ignore.
type fakeUpstream struct {
	addr string
	pc   net.PacketConn
	l    net.Listener
	seen atomic.Int32
}

func startFakeUpstream(t *testing.T) *fakeUpstream {
	up := &fakeUpstream{}
	up.pc, up.l = listenLoopback(t)
	up.addr = up.l.Addr().String()
	t.Cleanup(func() { up.pc.Close(); up.l.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := up.pc.ReadFrom(buf)
			if err != nil {
				return
			}
			stray := up.reply(buf[:n], 99)
			stray[0]++
			up.pc.WriteTo(stray, from)
			up.pc.WriteTo(up.reply(buf[:n], 1), from)
			up.seen.Add(1)
		}
	}()
	go func() {
		for {
			c, err := up.l.Accept()
			if err != nil {
				return
			}
			if q, err := readTCPMessage(c); err == nil {
				writeTCPMessage(c, up.reply(q, 1))
				up.seen.Add(1)
			}
			c.Close()
		}
	}()
	return up
}

// reply answers example.test. with 192.0.2.<last>.
func (up *fakeUpstream) reply(query []byte, last byte) []byte {
	var q dnsmessage.Message
	if q.Unpack(query) != nil || len(q.Questions) != 1 {
		return []byte{0, 0, 0, 0}
	}
	rep := dnsmessage.Message{Header: dnsmessage.Header{ID: q.Header.ID, Response: true, RCode: dnsmessage.RCodeNameError}, Questions: q.Questions}
	if q.Questions[0].Name.String() == "example.test." && q.Questions[0].Type == dnsmessage.TypeA {
		rep.Header.RCode = dnsmessage.RCodeSuccess
		rep.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, last}},
		}}
	}
	b, _ := rep.Pack()
	return b
}

package daemon_test

import (
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// networkNames lists `network ls` names for the filters, through docker's
// CLI and through ours (which must agree).
func networkNames(t *testing.T, d *testutil.Daemon, filters ...string) []string {
	t.Helper()
	args := []string{"network", "ls"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	names := strings.Fields(mustDocker(t, d, append(args, "--format", "{{.Name}}")...))
	slices.Sort(names)
	var ours []string
	for i, line := range strings.Split(strings.TrimSpace(d.MustCLI(args...)), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 1 {
			ours = append(ours, f[1])
		}
	}
	slices.Sort(ours)
	if !slices.Equal(names, ours) {
		t.Fatalf("network ls %v: docker's CLI lists %v, ours %v", filters, names, ours)
	}
	return names
}

// TestNetworkListFilters: every `network ls` filter dockerd knows, with its
// combination rules (labels ANDed, one key's values ORed), and dockerd's
// refusals of bad values.
func TestNetworkListFilters(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "network", "create", "--label", "tier=web", "--label", "env=prod", "mdfweb")
	mustDocker(t, d, "network", "create", "--label", "tier=db", "mdfdb")
	mustDocker(t, d, "network", "create", "mdfidle")
	t.Cleanup(func() { d.Docker("rm", "-f", "mdfuser"); d.Docker("network", "rm", "mdfweb", "mdfdb", "mdfidle") })
	mustDocker(t, d, "run", "-d", "--name", "mdfuser", "--net", "mdfdb", "busybox", "sleep", "300")
	dbID := mustDocker(t, d, "network", "inspect", "-f", "{{.Id}}", "mdfdb")

	for _, c := range []struct {
		filters []string
		want    string
	}{
		{[]string{"label=tier"}, "mdfdb mdfweb"},
		{[]string{"label=tier=web"}, "mdfweb"},
		{[]string{"label=tier", "label=env=prod"}, "mdfweb"},
		{[]string{"label=tier=db", "label=env"}, ""},
		{[]string{"name=mdf"}, "mdfdb mdfidle mdfweb"},
		{[]string{"name=^mdf(db|web)$"}, "mdfdb mdfweb"},
		{[]string{"name=mdfdb", "name=mdfweb"}, "mdfdb mdfweb"},
		{[]string{"id=" + dbID[:12]}, "mdfdb"},
		{[]string{"id=" + dbID[3:20]}, "mdfdb"},
		{[]string{"driver=host"}, "host"},
		{[]string{"driver=null"}, "none"},
		{[]string{"scope=global"}, ""},
		{[]string{"type=builtin"}, "bridge host none"},
		{[]string{"type=custom", "name=mdf"}, "mdfdb mdfidle mdfweb"},
		{[]string{"dangling=true"}, "mdfidle mdfweb"},
		{[]string{"dangling=0", "type=custom"}, "mdfdb"},
		{[]string{"dangling=false", "type=builtin", "name=bridge"}, "bridge"},
	} {
		got := networkNames(t, d, c.filters...)
		if !slices.Equal(got, strings.Fields(c.want)) {
			// other tests' networks live in other daemons: only ours are here
			t.Errorf("network ls %v: %v, want %q", c.filters, got, c.want)
		}
	}
	for _, c := range []struct{ filter, want string }{
		{"dangling=maybe", `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`},
		{"type=other", "invalid filter: 'type'='other'"},
		{"colour=red", "invalid filter 'colour'"},
	} {
		if r := d.Docker("network", "ls", "--filter", c.filter); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("network ls --filter %s: %d %q, want %q", c.filter, r.Code, r.Stderr, c.want)
		}
	}
	if r := d.Docker("network", "ls", "--filter", "dangling=true", "--filter", "dangling=false"); r.Code == 0 || !strings.Contains(r.Stderr, `got more than one value for filter key "dangling"`) {
		t.Errorf("two dangling values: %d %q", r.Code, r.Stderr)
	}
}

// nthAddr is the subnet's address n after its network address.
func nthAddr(p netip.Prefix, n int) string {
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
	}
	return a.String()
}

// TestStaticIP: --ip on a network with a user-given subnet is the
// container's address (eth0, inspect), kept across restarts and free again
// after rm; `network connect --ip` too. dockerd's refusals: a network
// without a user subnet, the default bridge, an address outside the subnet
// (400, nothing made), an address in use (at start, 403), and --ip6.
func TestStaticIP(t *testing.T) {
	d := preload.StartDaemon(t)
	sub := testutil.FreeSubnet(t, 24)
	mustDocker(t, d, "network", "create", "--subnet", sub.String(), "mdip")
	mustDocker(t, d, "network", "create", "mdauto")
	t.Cleanup(func() {
		d.Docker("rm", "-f", "ip1", "ip2", "ip3", "ipdup")
		d.Docker("network", "rm", "mdip", "mdauto")
	})
	ip1, ip2 := nthAddr(sub, 10), nthAddr(sub, 20)

	mustDocker(t, d, "run", "-d", "--name", "ip1", "--net", "mdip", "--ip", ip1, "busybox", "sleep", "300")
	addrOf := func(name, iface string) string {
		return mustDocker(t, d, "exec", name, "sh", "-c", "ip -4 -o addr show "+iface+" | awk '{print $4}'")
	}
	if got := addrOf("ip1", "eth0"); got != ip1+"/24" {
		t.Fatalf("eth0 of ip1: %q, want %s/24", got, ip1)
	}
	if got := mustDocker(t, d, "inspect", "-f", "{{.NetworkSettings.Networks.mdip.IPAddress}} {{.NetworkSettings.Networks.mdip.IPAMConfig.IPv4Address}}", "ip1"); got != ip1+" "+ip1 {
		t.Fatalf("inspect: %q", got)
	}
	mustDocker(t, d, "restart", "-t", "0", "ip1")
	if got := addrOf("ip1", "eth0"); got != ip1+"/24" {
		t.Fatalf("eth0 of ip1 after restart: %q", got)
	}

	// in use: create succeeds (as in docker), start fails
	r := d.Docker("run", "-d", "--name", "ipdup", "--net", "mdip", "--ip", ip1, "busybox", "sleep", "300")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Address already in use") {
		t.Fatalf("a second container on %s: %d %q", ip1, r.Code, r.Stderr)
	}
	if code, body := apiPost(t, d, "/containers/ipdup/start", ""); code != 403 || !strings.Contains(body, "Address already in use") {
		t.Fatalf("start of ipdup: %d %s", code, body)
	}
	mustDocker(t, d, "rm", "-f", "ip1")
	mustDocker(t, d, "start", "ipdup") // rm gave the address back
	if got := addrOf("ipdup", "eth0"); got != ip1+"/24" {
		t.Fatalf("eth0 of ipdup: %q", got)
	}

	// network connect --ip, to a stopped and then started container
	mustDocker(t, d, "create", "--name", "ip2", "--net", "mdauto", "busybox", "sleep", "300")
	mustDocker(t, d, "network", "connect", "--ip", ip2, "mdip", "ip2")
	mustDocker(t, d, "start", "ip2")
	if got := addrOf("ip2", "eth1"); got != ip2+"/24" {
		t.Fatalf("eth1 of ip2: %q", got)
	}
	// our CLI sends --ip too
	ip3 := nthAddr(sub, 30)
	if out := d.MustCLI("run", "--rm", "--net", "mdip", "--ip", ip3, "busybox", "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(out, ip3+"/24") {
		t.Fatalf("our CLI's run --ip: %q", out)
	}

	outside := "192.0.2.9"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--net", "mdip", "--ip", outside}, "no configured subnet or ip-range contain the IP address " + outside},
		{[]string{"--net", "mdauto", "--ip", "10.99.0.5"}, "user specified IP address is supported only when connecting to networks with user configured subnets"},
		{[]string{"--ip", ip3}, "user specified IP address is supported on user defined networks only"},
		{[]string{"--net", "mdip", "--ip6", "2001:db8::33"}, "user specified IP address is supported only when connecting to networks with user configured subnets"},
	} {
		args := append(append([]string{"create", "--name", "ip3"}, c.args...), "busybox", "true")
		if r := d.Docker(args...); r.Code == 0 || !strings.Contains(r.Stderr, "invalid endpoint settings:\n"+c.want) {
			t.Errorf("docker %v: %d %q, want %q", args, r.Code, r.Stderr, c.want)
		}
		if r := d.Docker("inspect", "ip3"); r.Code == 0 {
			t.Fatalf("docker %v was refused but made the container", args)
		}
	}
	body := `{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"mdip":{"IPAMConfig":{"IPv4Address":"` + outside + `"}}}}}`
	if code, resp := apiPost(t, d, "/containers/create", body); code != 400 {
		t.Errorf("create with an address outside the subnet: %d %s", code, resp)
	}
	if r := d.Docker("network", "connect", "--ip", outside, "mdip", "ip2"); r.Code == 0 || !strings.Contains(r.Stderr, "no configured subnet or ip-range contain the IP address") {
		t.Errorf("network connect --ip outside: %d %q", r.Code, r.Stderr)
	}
}

// iptablesRules is `iptables -t table -S` (the whole table: our chains).
func iptablesRules(t *testing.T, table string) string {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "-t", table, "-S").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -t %s -S: %v\n%s", table, err, out)
	}
	return string(out)
}

// TestInternalNetwork: on a `network create --internal` network containers
// have no default route, nothing is published nor masqueraded, and
// forwarding between its bridge and anything else is dropped; they still
// reach each other, and the embedded DNS answers their names. Removing
// the network removes its rules. Traffic goes only to our own bridges.
func TestInternalNetwork(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "network", "create", "--internal", "mdint")
	mustDocker(t, d, "network", "create", "mdout")
	d.MustCLI("network", "create", "--internal", "mdint2") // our CLI sends it too
	t.Cleanup(func() { d.Docker("rm", "-f", "in1", "in2"); d.Docker("network", "rm", "mdint", "mdint2", "mdout") })
	for _, n := range []string{"mdint", "mdint2"} {
		if got := mustDocker(t, d, "network", "inspect", "-f", "{{.Internal}}", n); got != "true" {
			t.Fatalf("inspect %s: Internal %q", n, got)
		}
	}
	if got := mustDocker(t, d, "network", "inspect", "-f", "{{.Internal}}", "mdout"); got != "false" {
		t.Fatalf("inspect mdout: Internal %q", got)
	}
	mustDocker(t, d, "run", "-d", "--name", "in1", "--net", "mdint", "busybox", "sleep", "300")
	mustDocker(t, d, "run", "-d", "--name", "in2", "--net", "mdint", "-p", "127.0.0.1::80", "busybox", "sleep", "300")

	if routes := mustDocker(t, d, "exec", "in1", "ip", "route"); strings.Contains(routes, "default") || routes == "" {
		t.Fatalf("routes of a container on an internal network:\n%s", routes)
	}
	outGW := mustDocker(t, d, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "mdout")
	if r := d.Docker("exec", "in1", "ping", "-c", "1", "-W", "1", outGW); r.Code == 0 {
		t.Fatalf("in1 reached %s, the host's address on another bridge:\n%s", outGW, r.Combined())
	}
	in2IP := mustDocker(t, d, "inspect", "-f", "{{.NetworkSettings.Networks.mdint.IPAddress}}", "in2")
	mustDocker(t, d, "exec", "in1", "ping", "-c", "1", "-W", "5", in2IP)
	if out := mustDocker(t, d, "exec", "in1", "nslookup", "in2"); !strings.Contains(out, in2IP) {
		t.Fatalf("nslookup in2 on the internal network:\n%s", out)
	}
	if ports := mustDocker(t, d, "port", "in2"); ports != "" {
		t.Fatalf("a port was published on an internal network: %q", ports)
	}

	bridge := "br-" + mustDocker(t, d, "network", "inspect", "-f", "{{.Id}}", "mdint")[:12]
	subnet := mustDocker(t, d, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "mdint")
	filter, nat := iptablesRules(t, "filter"), iptablesRules(t, "nat")
	for _, want := range []string{"-i " + bridge + " ! -o " + bridge + " -j DROP", "! -i " + bridge + " -o " + bridge + " -j DROP"} {
		if !strings.Contains(filter, "-A "+d.Chain+"-FORWARD "+want) {
			t.Fatalf("isolation rule %q missing:\n%s", want, filter)
		}
	}
	if strings.Contains(nat, subnet) || strings.Contains(nat, in2IP) || strings.Contains(filter, "-i "+bridge+" -j ACCEPT") {
		t.Fatalf("masquerade, DNAT or outbound accept for the internal network:\n%s\n%s", nat, filter)
	}
	mustDocker(t, d, "rm", "-f", "in1", "in2")
	mustDocker(t, d, "network", "rm", "mdint")
	if filter := iptablesRules(t, "filter"); strings.Contains(filter, bridge) {
		t.Fatalf("rules of the removed network are left:\n%s", filter)
	}
}

// TestLegacyLinks: --link on the default bridge gives the linking
// container docker's variables (<ALIAS>_PORT..., _NAME, _ENV_...) and a
// hosts line for the linked one, inspect shows docker's Links, rm --link
// removes one, and a link to a missing or stopped container gets dockerd's
// error.
func TestLegacyLinks(t *testing.T) {
	d := preload.StartDaemon(t)
	t.Cleanup(func() { d.Docker("rm", "-f", "lsrv", "lcli", "lstop", "lbad") })
	refused(t, d, "could not get container for nosuch: No such container: nosuch", "run", "--link", "nosuch:x", "busybox", "true")
	mustDocker(t, d, "run", "-d", "--name", "lsrv", "--hostname", "srvhost", "-e", "FOO=bar", "--expose", "80", "--expose", "81", "--expose", "53/udp", "busybox", "sleep", "300")
	ip := mustDocker(t, d, "inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", "lsrv")
	mustDocker(t, d, "run", "-d", "--name", "lcli", "--link", "lsrv:db", "-e", "DB_ENV_FOO=mine", "busybox", "sleep", "300")

	env := "\n" + mustDocker(t, d, "exec", "lcli", "env") + "\n"
	for _, want := range []string{
		"DB_PORT=tcp://" + ip + ":80",
		"DB_PORT_80_TCP=tcp://" + ip + ":80", "DB_PORT_80_TCP_ADDR=" + ip, "DB_PORT_80_TCP_PORT=80", "DB_PORT_80_TCP_PROTO=tcp",
		"DB_PORT_81_TCP=tcp://" + ip + ":81",
		"DB_PORT_80_TCP_START=tcp://" + ip + ":80", "DB_PORT_80_TCP_PORT_START=80",
		"DB_PORT_80_TCP_END=tcp://" + ip + ":81", "DB_PORT_80_TCP_PORT_END=81",
		"DB_PORT_53_UDP=udp://" + ip + ":53", "DB_PORT_53_UDP_PROTO=udp",
		"DB_NAME=/lcli/db",
		"DB_ENV_FOO=mine", // the container's own variable wins
	} {
		if !strings.Contains(env, "\n"+want+"\n") {
			t.Errorf("lcli's environment lacks %s:%s", want, env)
		}
	}
	if strings.Contains(env, "DB_ENV_PATH=") || strings.Contains(env, "DB_ENV_FOO=bar") {
		t.Errorf("lcli's environment:%s", env)
	}
	if hosts := mustDocker(t, d, "exec", "lcli", "cat", "/etc/hosts"); !strings.Contains(hosts+"\n", ip+"\tdb srvhost lsrv\n") {
		t.Errorf("lcli's /etc/hosts has no line for the link:\n%s", hosts)
	}
	mustDocker(t, d, "exec", "lcli", "ping", "-c", "1", "-W", "5", "db")
	if got := mustDocker(t, d, "inspect", "-f", "{{json .HostConfig.Links}}", "lcli"); got != `["/lsrv:/lcli/db"]` {
		t.Errorf("inspect Links: %s", got)
	}
	if out := d.MustCLI("run", "--rm", "--link", "lsrv", "busybox", "env"); !strings.Contains(out, "LSRV_PORT=tcp://"+ip+":80") {
		t.Errorf("our CLI's run --link: %s", out)
	}

	// rm --link takes the link from the record; the next start has none
	if r := d.Docker("rm", "--link", "lcli"); r.Code == 0 || !strings.Contains(r.Stderr, "cannot remove the default link name of the container") {
		t.Errorf("rm --link lcli: %d %q", r.Code, r.Stderr)
	}
	mustDocker(t, d, "rm", "--link", "/lcli/db")
	if got := mustDocker(t, d, "inspect", "-f", "{{json .HostConfig.Links}}", "lcli"); got != "null" && got != "[]" {
		t.Errorf("inspect Links after rm --link: %s", got)
	}
	mustDocker(t, d, "restart", "-t", "0", "lcli")
	if env := mustDocker(t, d, "exec", "lcli", "env"); strings.Contains(env, "DB_NAME=") {
		t.Errorf("the removed link still sets variables:\n%s", env)
	}
	d.MustCLI("rm", "-f", "lcli") // our CLI's rm --link
	mustDocker(t, d, "run", "-d", "--name", "lcli", "--link", "lsrv:db2", "busybox", "sleep", "300")
	d.MustCLI("rm", "--link", "/lcli/db2")
	if got := mustDocker(t, d, "inspect", "-f", "{{json .HostConfig.Links}}", "lcli"); got != "null" && got != "[]" {
		t.Errorf("inspect Links after our rm --link: %s", got)
	}
	mustDocker(t, d, "create", "--name", "lstop", "busybox", "true")
	r := d.Docker("run", "--name", "lbad", "--link", "lstop:x", "busybox", "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Cannot link to a non running container: /lstop AS /lbad/x") {
		t.Errorf("a link to a stopped container: %d %q", r.Code, r.Stderr)
	}
}

// TestUnknownNetworkFailsTheStart: dockerd creates a container whose
// network does not exist yet and fails its start with a 404. A 404 from
// create would make the docker CLI take the image for missing and try to
// pull it from Docker Hub, so this test talks to the API only.
func TestUnknownNetworkFailsTheStart(t *testing.T) {
	d := preload.StartDaemon(t)
	code, msg := apiPost(t, d, "/containers/create?name=late", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"later"}}`)
	if code != 201 {
		t.Fatalf("create on a network that does not exist: %d %s, want 201 as dockerd", code, msg)
	}
	code, msg = apiPost(t, d, "/containers/late/start", "")
	if code != 404 || msg != "network later not found" {
		t.Fatalf("start: %d %q, want 404 %q", code, msg, "network later not found")
	}
	if st := d.Inspect("late")["State"].(map[string]any)["Status"]; st != "created" {
		t.Fatalf("after the failed start the container is %v, want created", st)
	}
	d.MustCLI("network", "create", "later")
	if code, msg = apiPost(t, d, "/containers/late/start", ""); code != 204 {
		t.Fatalf("start once the network exists: %d %s", code, msg)
	}
	d.MustCLI("rm", "-f", "late")
	d.MustCLI("network", "rm", "later")
}

package daemon_test

import (
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestNetworkConnectAndDNS: a container on two user networks (a second
// veth), hot connect and disconnect, and the embedded DNS server at
// 127.0.0.11: names and aliases of the asker's networks resolve, a name
// from a network it is not on does not. Only names made here are asked.
func TestNetworkConnectAndDNS(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "network", "create", "front")
	mustDocker(t, d, "network", "create", "back")
	t.Cleanup(func() { d.Docker("rm", "-f", "db", "web", "lonely"); d.Docker("network", "rm", "front", "back") })
	mustDocker(t, d, "run", "-d", "--name", "db", "--net", "back", "--network-alias", "database", "busybox", "sleep", "600")
	mustDocker(t, d, "run", "-d", "--name", "lonely", "--net", "front", "busybox", "sleep", "600")
	mustDocker(t, d, "create", "--name", "web", "--net", "front", "--add-host", "gw.test:host-gateway", "busybox", "sleep", "600")
	mustDocker(t, d, "network", "connect", "--alias", "www", "back", "web") // stopped: recorded
	mustDocker(t, d, "start", "web")

	ifaces := mustDocker(t, d, "exec", "web", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '")
	if ifaces != "eth0 eth1 lo" {
		t.Fatalf("web's interfaces: %q", ifaces)
	}
	nets := mustDocker(t, d, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "web")
	if !strings.Contains(nets, "back=") || !strings.Contains(nets, "front=") || strings.Contains(nets, "=invalid") {
		t.Fatalf("inspect networks: %q", nets)
	}
	resolv := mustDocker(t, d, "run", "--rm", "--net", "front", "--dns-search", "example.test", "busybox", "cat", "/etc/resolv.conf")
	if !strings.Contains(resolv, "nameserver 127.0.0.11") || !strings.Contains(resolv, "search example.test") {
		t.Fatalf("resolv.conf:\n%s", resolv)
	}
	dbIP := mustDocker(t, d, "inspect", "-f", "{{(index .NetworkSettings.Networks \"back\").IPAddress}}", "db")
	for _, name := range []string{"db", "database", "lonely"} {
		out := mustDocker(t, d, "exec", "web", "nslookup", name)
		if !strings.Contains(out, "Address: ") || (name != "lonely" && !strings.Contains(out, dbIP)) {
			t.Fatalf("web: nslookup %s:\n%s", name, out)
		}
	}
	// db is on back only: it sees web by its alias there, not lonely
	if out := mustDocker(t, d, "exec", "db", "nslookup", "www"); !strings.Contains(out, "Address: ") {
		t.Fatalf("db: nslookup www:\n%s", out)
	}
	if r := d.Docker("exec", "db", "nslookup", "lonely"); r.Code == 0 {
		t.Fatalf("db resolves lonely, which is on a network it is not on:\n%s", r.Combined())
	}
	if out := mustDocker(t, d, "exec", "web", "grep", "gw.test", "/etc/hosts"); !strings.HasSuffix(out, "\tgw.test") {
		t.Fatalf("--add-host line: %q", out)
	}
	// hot connect and disconnect of a running container
	mustDocker(t, d, "network", "connect", "front", "db")
	if out := mustDocker(t, d, "exec", "db", "nslookup", "lonely"); !strings.Contains(out, "Address: ") {
		t.Fatalf("db after connect: nslookup lonely:\n%s", out)
	}
	mustDocker(t, d, "network", "disconnect", "front", "db")
	if out := mustDocker(t, d, "exec", "db", "ls", "/sys/class/net"); strings.Contains(out, "eth1") {
		t.Fatalf("db after disconnect: %q", out)
	}
	if r := d.Docker("network", "disconnect", "back", "db"); r.Code == 0 {
		t.Fatalf("a running container left its first network")
	}
	if r := d.Docker("network", "connect", "back", "db"); r.Code == 0 || !strings.Contains(r.Stderr, "already exists in network back") {
		t.Fatalf("connect twice: %d %q", r.Code, r.Stderr)
	}
}

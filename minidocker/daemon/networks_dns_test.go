package daemon_test

import (
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestDNSServersAndOptions: --dns and --dns-option replace the host's
// nameserver and options lines of the container's resolv.conf on the
// default bridge; on a user network the nameserver is the embedded server
// (which forwards to --dns) and the options are still the container's.
func TestDNSServersAndOptions(t *testing.T) {
	d := preload.StartDaemon(t)
	flags := []string{"--dns", "10.9.9.9", "--dns", "10.9.9.8", "--dns-option", "ndots:3", "--dns-option", "timeout:2"}
	run := func(net string) string {
		args := append(append([]string{"run", "--rm", "--net", net}, flags...), "busybox", "cat", "/etc/resolv.conf")
		return mustDocker(t, d, args...)
	}
	resolv := run("bridge")
	if !strings.HasPrefix(resolv, "nameserver 10.9.9.9\nnameserver 10.9.9.8\n") || strings.Count(resolv, "nameserver") != 2 ||
		!strings.HasSuffix(resolv, "\noptions ndots:3 timeout:2") {
		t.Errorf("default bridge, resolv.conf:\n%s", resolv)
	}
	mustDocker(t, d, "network", "create", "dnsnet")
	t.Cleanup(func() { d.Docker("network", "rm", "dnsnet") })
	resolv = run("dnsnet")
	if !strings.HasPrefix(resolv, "nameserver 127.0.0.11\n") || strings.Count(resolv, "nameserver") != 1 ||
		!strings.HasSuffix(resolv, "\noptions ndots:3 timeout:2") {
		t.Errorf("user network, resolv.conf:\n%s", resolv)
	}
}

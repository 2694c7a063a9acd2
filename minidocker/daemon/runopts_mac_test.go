package daemon_test

import (
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestMacAddress: --mac-address is the container's eth0 address (and what
// inspect shows); it conflicts with --net none, as in docker.
func TestMacAddress(t *testing.T) {
	d := preload.StartDaemon(t)
	const mac = "02:42:0a:42:99:01"
	if out := dockerOK(t, d, "run", "--rm", "--mac-address", mac, "busybox", "cat", "/sys/class/net/eth0/address"); out != mac+"\n" {
		t.Fatalf("eth0's address %q, want %s", out, mac)
	}
	dockerOK(t, d, "run", "-d", "--name", "mac1", "--mac-address", mac, "busybox", "sleep", "300")
	if got := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.NetworkSettings.Networks.bridge.MacAddress}}", "mac1")); got != mac {
		t.Errorf("inspect MacAddress %q", got)
	}
	dockerOK(t, d, "rm", "-f", "mac1")
	refused(t, d, "conflicting options: mac-address and the network mode", "run", "--net", "none", "--mac-address", mac, "busybox", "true")
}

package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StartDaemonInNetns is StartDaemon inside a network namespace made for
// this test (with only lo, up): the daemon's bridge, iptables rules and
// published ports live there, so a test may use the article's fixed ports
// (`-p 8080:80`, a registry on 127.0.0.1:5000) without meeting anything
// else on the machine. It returns the namespace's path; run a command in
// it with `nsenter --net=PATH …`. The CLI reaches the daemon through its
// unix socket, which is a file and belongs to no network namespace.
func StartDaemonInNetns(t testing.TB, extraArgs ...string) (*Daemon, string) {
	t.Helper()
	RequireRoot(t)
	name := "mdtns" + RandomHex(3)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	// registered first, so it runs last: after the daemon's stop and purge
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	netns := "/run/netns/" + name
	d := NewDaemon(t, extraArgs...)
	wrapper := filepath.Join(d.Dir, "minidocker-in-netns")
	script := fmt.Sprintf("#!/bin/sh\nexec nsenter --net=%s %s \"$@\"\n", netns, d.Bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d.Bin = wrapper // nsenter execs: the daemon keeps the PID that Pid reports
	d.StartWithCleanup()
	return d, netns
}

package network

import (
	"os"
	"os/exec"
	"strings"
)

// CheckHost looks at the kernel settings bridge networking depends on and
// returns one warning in plain words per problem (none = all good).
func CheckHost() []string {
	var w []string
	if v, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err != nil {
		w = append(w, "cannot read net.ipv4.ip_forward: "+err.Error())
	} else if strings.TrimSpace(string(v)) != "1" {
		w = append(w, "IPv4 forwarding is off (net.ipv4.ip_forward=0): containers cannot reach other networks and published ports are unreachable from other machines and from other containers through the host; fix with: sysctl -w net.ipv4.ip_forward=1")
	}
	if v, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err != nil {
		w = append(w, "bridge netfilter is not loaded (no /proc/sys/net/bridge): traffic between containers on one bridge bypasses iptables; port mapping still works; to load it: modprobe br_netfilter")
	} else if strings.TrimSpace(string(v)) != "1" {
		w = append(w, "bridge-nf-call-iptables is disabled: traffic between containers on one bridge bypasses iptables; fix with: sysctl -w net.bridge.bridge-nf-call-iptables=1")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		w = append(w, "the iptables command is not installed: port mapping and outgoing masquerade need it (Debian/Ubuntu: apt-get install iptables)")
	}
	return w
}

// EnableIPForward turns on net.ipv4.ip_forward, as dockerd does at start when
// it manages iptables.
func EnableIPForward() error {
	return setSysctl("/proc/sys/net/ipv4/ip_forward", "1")
}

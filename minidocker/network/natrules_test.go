package network

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
)

// TestNATRules: the exact rules of a bridge network (masquerade out, the
// hairpin and 127.0.0.1 cases, forward in and out) and of a published port
// (DNAT to the container, only for the host address asked for, tagged
// with the container's ID so that it can be found and removed).
func TestNATRules(t *testing.T) {
	tb := ipt{prefix: "MD"}
	got := tb.networkRules("br0", netip.MustParsePrefix("10.66.0.1/24"))
	want := [][]string{
		{"nat", "MD-POSTROUTING", "-s", "10.66.0.0/24", "!", "-o", "br0", "-j", "MASQUERADE"},
		{"nat", "MD-POSTROUTING", "-s", "10.66.0.0/24", "-o", "br0", "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"},
		{"nat", "MD-POSTROUTING", "-s", "127.0.0.0/8", "-o", "br0", "-j", "MASQUERADE"},
		{"filter", "MD-FORWARD", "-o", "br0", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"filter", "MD-FORWARD", "-o", "br0", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"},
		{"filter", "MD-FORWARD", "-i", "br0", "-j", "ACCEPT"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("networkRules:\n got %q\nwant %q", got, want)
	}
	ip := netip.MustParseAddr("10.66.0.2")
	for _, tc := range []struct {
		b    PortBinding
		want []string
	}{
		{PortBinding{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
			[]string{"-p", "tcp", "-m", "tcp", "--dport", "8080", "-m", "comment", "--comment", "minidocker:c1", "-j", "DNAT", "--to-destination", "10.66.0.2:80"}},
		{PortBinding{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Proto: "udp"},
			[]string{"-p", "udp", "-d", "127.0.0.1/32", "-m", "udp", "--dport", "5353", "-m", "comment", "--comment", "minidocker:c1", "-j", "DNAT", "--to-destination", "10.66.0.2:53"}},
		{PortBinding{HostIP: "0.0.0.0", HostPort: 9000, ContainerPort: 9000},
			[]string{"-p", "tcp", "-m", "tcp", "--dport", "9000", "-m", "comment", "--comment", "minidocker:c1", "-j", "DNAT", "--to-destination", "10.66.0.2:9000"}},
	} {
		t.Run(fmt.Sprintf("%+v", tc.b), func(t *testing.T) {
			if got := tb.dnatRule("c1", ip, tc.b); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("dnatRule(%+v):\n got %q\nwant %q", tc.b, got, tc.want)
			}
		})
	}
}

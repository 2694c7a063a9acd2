package daemon

import (
	"slices"
	"testing"

	mobynet "github.com/moby/moby/api/types/network"
)

// TestLinkVars: docker's variables for one link, port runs and protocol
// order included (TCP first, then the others by name, each by number).
func TestLinkVars(t *testing.T) {
	ports := []mobynet.Port{
		mobynet.MustParsePort("53/udp"), mobynet.MustParsePort("82/tcp"),
		mobynet.MustParsePort("80/tcp"), mobynet.MustParsePort("81/tcp"), mobynet.MustParsePort("90/tcp"),
	}
	got := linkVars("/web/my-db", "10.0.0.2", ports, []string{"HOME=/root", "PATH=/bin", "A=b=c", "NOVALUE"})
	want := []string{
		"MY_DB_PORT=tcp://10.0.0.2:80",
		"MY_DB_PORT_80_TCP=tcp://10.0.0.2:80", "MY_DB_PORT_80_TCP_ADDR=10.0.0.2", "MY_DB_PORT_80_TCP_PORT=80", "MY_DB_PORT_80_TCP_PROTO=tcp",
		"MY_DB_PORT_81_TCP=tcp://10.0.0.2:81", "MY_DB_PORT_81_TCP_ADDR=10.0.0.2", "MY_DB_PORT_81_TCP_PORT=81", "MY_DB_PORT_81_TCP_PROTO=tcp",
		"MY_DB_PORT_82_TCP=tcp://10.0.0.2:82", "MY_DB_PORT_82_TCP_ADDR=10.0.0.2", "MY_DB_PORT_82_TCP_PORT=82", "MY_DB_PORT_82_TCP_PROTO=tcp",
		"MY_DB_PORT_80_TCP_START=tcp://10.0.0.2:80", "MY_DB_PORT_80_TCP_PORT_START=80",
		"MY_DB_PORT_80_TCP_END=tcp://10.0.0.2:82", "MY_DB_PORT_80_TCP_PORT_END=82",
		"MY_DB_PORT_90_TCP=tcp://10.0.0.2:90", "MY_DB_PORT_90_TCP_ADDR=10.0.0.2", "MY_DB_PORT_90_TCP_PORT=90", "MY_DB_PORT_90_TCP_PROTO=tcp",
		"MY_DB_PORT_53_UDP=udp://10.0.0.2:53", "MY_DB_PORT_53_UDP_ADDR=10.0.0.2", "MY_DB_PORT_53_UDP_PORT=53", "MY_DB_PORT_53_UDP_PROTO=udp",
		"MY_DB_NAME=/web/my-db",
		"MY_DB_ENV_A=b=c",
	}
	if !slices.Equal(got, want) {
		t.Errorf("linkVars:\n got %q\nwant %q", got, want)
	}
	if got := linkVars("/web/db", "10.0.0.2", nil, nil); !slices.Equal(got, []string{"DB_NAME=/web/db"}) {
		t.Errorf("a link to a container without ports or variables: %q", got)
	}
}

// TestNetworkFilterValues: dockerd's refusals of dangling and type values.
func TestNetworkFilterValues(t *testing.T) {
	for _, ok := range []map[string][]string{{"dangling": {"1"}}, {"dangling": {"false"}}, {"type": {"custom", "builtin"}}, nil} {
		if err := checkNetworkFilters(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, bad := range []map[string][]string{{"dangling": {"yes"}}, {"dangling": {"1", "0"}}, {"type": {"plugin"}}} {
		if err := checkNetworkFilters(bad); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
}

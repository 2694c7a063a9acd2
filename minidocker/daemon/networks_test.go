package daemon

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/network"
)

func TestParseNetMode(t *testing.T) {
	for in, want := range map[string]netMode{
		"":              {kind: "bridge", arg: "bridge"},
		"default":       {kind: "bridge", arg: "bridge"},
		"bridge":        {kind: "bridge", arg: "bridge"},
		"host":          {kind: "host"},
		"none":          {kind: "none"},
		"container:web": {kind: "container", arg: "web"},
		"backend":       {kind: "bridge", arg: "backend"},
	} {
		t.Run(in, func(t *testing.T) {
			if got := parseNetMode(container.NetworkMode(in)); got != want {
				t.Errorf("%q: got %+v, want %+v", in, got, want)
			}
		})
	}
}

// portBindings turns what the docker CLI sends (HostConfig.PortBindings,
// PublishAllPorts, ExposedPorts) into the network package's bindings, and
// refuses bad ones with docker's words.
func TestPortBindings(t *testing.T) {
	p80 := mobynet.MustParsePort("80/tcp")
	p53 := mobynet.MustParsePort("53/udp")
	hc := &container.HostConfig{PortBindings: mobynet.PortMap{
		p80: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}, {HostPort: ""}},
		p53: {{HostIP: netip.IPv6Unspecified(), HostPort: "5353"}},
	}}
	got, err := portBindings(hc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []network.PortBinding{
		{HostIP: "", HostPort: 5353, ContainerPort: 53, Proto: "udp"},
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{ContainerPort: 80, Proto: "tcp"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	// -P: every exposed port, on a random host port
	got, err = portBindings(&container.HostConfig{PublishAllPorts: true}, []mobynet.Port{mobynet.MustParsePort("443/tcp"), mobynet.MustParsePort("80/tcp")})
	if err != nil || len(got) != 2 || got[0].ContainerPort != 443 || got[1].HostPort != 0 {
		t.Errorf("-P: %+v %v", got, err)
	}

	for _, c := range []struct {
		pb   mobynet.PortBinding
		want string
	}{
		{mobynet.PortBinding{HostPort: "99999"}, "invalid hostPort: 99999"},
		{mobynet.PortBinding{HostPort: "http"}, "invalid hostPort: http"},
		{mobynet.PortBinding{HostIP: netip.MustParseAddr("::1"), HostPort: "80"}, "invalid IP address: ::1"},
	} {
		t.Run(c.want, func(t *testing.T) {
			_, err := portBindings(&container.HostConfig{PortBindings: mobynet.PortMap{p80: {c.pb}}}, nil)
			if err == nil || err.Error()[:len(c.want)] != c.want {
				t.Errorf("%+v: got %v, want %q", c.pb, err, c.want)
			}
		})
	}
}

// TestModeEndpointSettings: endpoint settings given for --net host, none or
// container:<id> are refused, never ignored: there is no interface of the
// container's own to give them to (dockerd's words where it has some), and
// the docker CLI's copy of --link is not one of them.
func TestModeEndpointSettings(t *testing.T) {
	ip := netip.MustParseAddr("10.1.1.5")
	for name, tc := range map[string]struct {
		mode string
		es   *mobynet.EndpointSettings
		want string
	}{
		"ip on none":         {"none", &mobynet.EndpointSettings{IPAMConfig: &mobynet.EndpointIPAMConfig{IPv4Address: ip}}, "invalid endpoint settings:\nuser specified IP address is supported on user defined networks only"},
		"ip on host":         {"host", &mobynet.EndpointSettings{IPAMConfig: &mobynet.EndpointIPAMConfig{IPv4Address: ip}}, "invalid endpoint settings:\nuser specified IP address is supported on user defined networks only"},
		"alias on none":      {"none", &mobynet.EndpointSettings{Aliases: []string{"x"}}, "network-scoped alias is supported only for containers in user defined networks"},
		"link-local on none": {"none", &mobynet.EndpointSettings{IPAMConfig: &mobynet.EndpointIPAMConfig{LinkLocalIPs: []netip.Addr{netip.MustParseAddr("169.254.1.1")}}}, "network none: link-local addresses (--link-local-ip) are not supported"},
		"driver opts":        {"host", &mobynet.EndpointSettings{DriverOpts: map[string]string{"a": "b"}}, "network host: driver options are not supported"},
		"container mode":     {"container:web", &mobynet.EndpointSettings{Aliases: []string{"x"}}, "network-scoped alias is supported only for containers in user defined networks"},
		"copied links":       {"host", &mobynet.EndpointSettings{Links: []string{"db:db"}}, ""},
		"nothing":            {"none", &mobynet.EndpointSettings{}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			hc := &container.HostConfig{NetworkMode: container.NetworkMode(tc.mode), Links: []string{"db:db"}}
			nc := &mobynet.NetworkingConfig{EndpointsConfig: map[string]*mobynet.EndpointSettings{tc.mode: tc.es}}
			_, err := (&Daemon{}).checkEndpoints(hc, nc)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want || !errdefs.IsInvalid(err)):
				t.Errorf("got %v, want a 400 %q", err, tc.want)
			}
		})
	}
}

// endpointFields sorts every field of a create's endpoint settings
// (NetworkingConfig.EndpointsConfig): applied on a user network (with the
// test that proves it), refused on every network, or operational data,
// which inspect fills and dockerd ignores in a request too.
var endpointFields = map[string]string{
	"IPAMConfig.IPv4Address":  "applied: TestStaticIP",
	"Aliases":                 "applied: TestNetworkConnectAndDNS",
	"MacAddress":              "applied: TestMacAddress",
	"IPAMConfig.IPv6Address":  "refused",
	"IPAMConfig.LinkLocalIPs": "refused",
	"Links":                   "refused", // but for the docker CLI's copy of --link
	"DriverOpts":              "refused",
	"GwPriority":              "refused",
	"NetworkID":               "operational",
	"EndpointID":              "operational",
	"Gateway":                 "operational",
	"IPAddress":               "operational",
	"IPPrefixLen":             "operational",
	"IPv6Gateway":             "operational",
	"GlobalIPv6Address":       "operational",
	"GlobalIPv6PrefixLen":     "operational",
	"DNSNames":                "operational",
}

// TestEveryEndpointFieldIsAppliedOrRefused walks the endpoint settings as
// TestEveryCreateFieldIsAppliedOrRefused walks Config and HostConfig: a
// field the API gains fails here until someone decides. A refused field is
// refused on a user network; every field that is not operational is
// refused for --net none, which has no interface to give it to.
func TestEveryEndpointFieldIsAppliedOrRefused(t *testing.T) {
	fields := endpointSettingFields(&mobynet.EndpointSettings{})
	for name := range fields {
		assert.Contains(t, endpointFields, name, "endpoint field %s must be sorted: applied, refused or operational", name)
	}
	for name, kind := range endpointFields {
		es := &mobynet.EndpointSettings{}
		v, ok := endpointSettingFields(es)[name]
		require.True(t, ok, "endpointFields names a field the API does not have: %s", name)
		setNonZero(v)
		modeErr := checkModeEndpoint("none", es)
		if kind == "operational" {
			assert.NoError(t, modeErr, name)
			continue
		}
		assert.True(t, errdefs.IsInvalid(modeErr), "%s on --net none: %v, want a 400", name, modeErr)
		if kind == "refused" { // (an applied one would need the network manager)
			_, userErr := (&Daemon{}).checkEndpointSettings("usernet", es)
			assert.True(t, errdefs.IsInvalid(userErr), "%s on a user network: %v, want a 400", name, userErr)
		}
	}
}

// endpointSettingFields maps each field of es to its value, walking into
// IPAMConfig (made, so that its fields can be set).
func endpointSettingFields(es *mobynet.EndpointSettings) map[string]reflect.Value {
	es.IPAMConfig = &mobynet.EndpointIPAMConfig{}
	out := map[string]reflect.Value{}
	collectFields(out, "", reflect.ValueOf(es).Elem())
	delete(out, ".IPAMConfig")
	collectFields(out, "IPAMConfig", reflect.ValueOf(es.IPAMConfig).Elem())
	for name, v := range out {
		if strings.HasPrefix(name, ".") {
			delete(out, name)
			out[name[1:]] = v
		}
	}
	return out
}

// networkCreateFields sorts every field of POST /networks/create: applied
// (with its test) or refused with the request that asks for it.
var networkCreateFields = map[string]string{
	"Name": "TestNetworkConnectAndDNS", "Driver": "bridge only (CreateNetwork: any other is a 404, plugin not found)",
	"Labels": "TestNetworkListFilters", "Internal": "TestInternalNetwork",
	"IPAM.Config.Subnet": "TestStaticIP", "IPAM.Config.Gateway": "TestStaticIP",
	"IPAM.Driver": "refused", "IPAM.Options": "refused", "IPAM.Config.IPRange": "refused",
	"IPAM.Config.AuxiliaryAddresses": "refused", "Options": "refused", "EnableIPv6": "refused",
	"EnableIPv4": "refused", "Scope": "refused", "Ingress": "refused",
	"Attachable": "accepted without effect, as dockerd on a local network: TestCompose (docker-compose 1.x sets it)",
	"ConfigOnly": "refused", "ConfigFrom": "refused",
}

// TestNetworkCreateRefusesWhatItWouldIgnore: every field of a network
// create request is applied or refused (a field the API gains fails here
// until someone decides), and each refused one is refused with a clear
// error when a request asks for something with it; what the docker CLI
// and docker-py send by default asks for nothing.
func TestNetworkCreateRefusesWhatItWouldIgnore(t *testing.T) {
	fields := map[string]reflect.Value{}
	collectFields(fields, "", reflect.ValueOf(&mobynet.CreateRequest{}).Elem())
	collectFields(fields, ".IPAM", reflect.ValueOf(&mobynet.IPAM{}).Elem())
	collectFields(fields, ".IPAM.Config", reflect.ValueOf(&mobynet.IPAMConfig{}).Elem())
	for name := range fields {
		name = strings.TrimPrefix(name, ".")
		if name != "IPAM" && name != "IPAM.Config" {
			assert.Contains(t, networkCreateFields, name, "network create field %s must be applied or refused", name)
		}
	}
	no, yes := false, true
	ipam := func(c mobynet.IPAMConfig) *mobynet.IPAM { return &mobynet.IPAM{Config: []mobynet.IPAMConfig{c}} }
	subnet := netip.MustParsePrefix("10.99.0.0/24")
	for name, req := range map[string]mobynet.CreateRequest{
		"Options":                        {Options: map[string]string{"com.docker.network.bridge.name": "x0"}},
		"EnableIPv6":                     {EnableIPv6: &yes},
		"EnableIPv4":                     {EnableIPv4: &no},
		"Scope":                          {Scope: "swarm"},
		"Ingress":                        {Ingress: true},
		"ConfigOnly":                     {ConfigOnly: true},
		"ConfigFrom":                     {ConfigFrom: &mobynet.ConfigReference{Network: "x"}},
		"IPAM.Driver":                    {IPAM: &mobynet.IPAM{Driver: "other"}},
		"IPAM.Options":                   {IPAM: &mobynet.IPAM{Options: map[string]string{"a": "b"}}},
		"IPAM.Config.IPRange":            {IPAM: ipam(mobynet.IPAMConfig{Subnet: subnet, IPRange: netip.MustParsePrefix("10.99.0.128/25")})},
		"IPAM.Config.AuxiliaryAddresses": {IPAM: ipam(mobynet.IPAMConfig{Subnet: subnet, AuxAddress: map[string]netip.Addr{"a": netip.MustParseAddr("10.99.0.9")}})},
	} {
		assert.Equal(t, "refused", networkCreateFields[name], name)
		err := refuseUnsupportedNetworkOptions(req)
		assert.True(t, errdefs.IsInvalid(err) || (name == "IPAM.Driver" && errdefs.IsNotFound(err)), "%s: %v", name, err)
	}
	// what clients send without options asks for nothing
	assert.NoError(t, refuseUnsupportedNetworkOptions(mobynet.CreateRequest{Name: "n", Driver: "bridge", Scope: "local", EnableIPv4: &yes, Attachable: true,
		EnableIPv6: &no, Options: map[string]string{}, IPAM: &mobynet.IPAM{Driver: "default", Config: []mobynet.IPAMConfig{{Subnet: subnet}}}}))
}

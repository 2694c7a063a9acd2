package network

import (
	"net/netip"
	"strings"
	"testing"

	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// TestParsePortsErrors: each bad -p gets docker's message, as a 400.
func TestParsePortsErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"99999:80", "invalid hostPort: 99999"},
		{"80/bogus", "invalid proto: bogus"},
		{"8080:abc", "invalid containerPort: abc"},
		{"1.2.3:8080:80", "invalid IP address: 1.2.3"},
		{"[::1]:8080:80", "invalid IP address: ::1 (only IPv4 host addresses are supported)"},
		{"8080:", "no port specified: 8080:<empty>"},
		{"8000-8001:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"},
		{"0", "invalid containerPort: 0"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParsePorts([]string{tc.spec})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !errdefs.IsInvalid(err) {
				t.Errorf("kind %v, want invalid (400)", errdefs.KindOf(err))
			}
		})
	}
}

// TestParsePorts: addresses, ranges and protocols of -p.
func TestParsePorts(t *testing.T) {
	tests := []struct {
		spec string
		want []PortBinding
	}{
		{"80", []PortBinding{{ContainerPort: 80, Proto: "tcp"}}},
		{"127.0.0.1:8080:80", []PortBinding{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"53/udp", []PortBinding{{ContainerPort: 53, Proto: "udp"}}},
		{"9000-9001:90-91", []PortBinding{{HostPort: 9000, ContainerPort: 90, Proto: "tcp"}, {HostPort: 9001, ContainerPort: 91, Proto: "tcp"}}},
		{"7000-7010:70/TCP", []PortBinding{{HostPort: 7000, HostPortEnd: 7010, ContainerPort: 70, Proto: "tcp"}}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParsePorts([]string{tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("%d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestPublishMapRoundTrip: what the CLI parses and sends as the API's
// PortMap comes back unchanged from Bindings in the daemon, so -p is parsed
// once and never re-read as text.
func TestPublishMapRoundTrip(t *testing.T) {
	specs := []string{"127.0.0.1:8080:80", "53/udp", "9000-9001:90-91", "7000-7010:70", "8443:443"}
	parsed, err := ParsePorts(specs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Bindings(PublishMap(parsed), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := sortedBindings(parsed)
	got = sortedBindings(got)
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestBindingsErrors(t *testing.T) {
	p80 := mobynet.MustParsePort("80/tcp")
	tests := []struct {
		name string
		pm   mobynet.PortMap
		want string
	}{
		{"host port out of range", mobynet.PortMap{p80: {{HostPort: "99999"}}}, "invalid hostPort: 99999"},
		{"host port not a number", mobynet.PortMap{p80: {{HostPort: "http"}}}, "invalid hostPort: http"},
		{"host range backwards", mobynet.PortMap{p80: {{HostPort: "8010-8000"}}}, "invalid hostPort: 8010-8000"},
		{"unknown protocol", mobynet.PortMap{mobynet.MustParsePort("80/bogus"): nil}, "invalid proto: bogus"},
		{"IPv6 host address", mobynet.PortMap{p80: {{HostIP: netip.MustParseAddr("::1"), HostPort: "80"}}}, "invalid IP address: ::1 (only IPv4 host addresses are supported)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bindings(tc.pm, nil, false)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !errdefs.IsInvalid(err) {
				t.Errorf("kind %v, want invalid (400)", errdefs.KindOf(err))
			}
		})
	}
}

func TestBindings(t *testing.T) {
	pm := mobynet.PortMap{
		mobynet.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
		mobynet.MustParsePort("53/udp"): nil,
		mobynet.MustParsePort("70/tcp"): {{HostPort: "7000-7010"}},
		mobynet.MustParsePort("90/tcp"): {{HostIP: netip.IPv6Unspecified(), HostPort: "9000"}},
	}
	exposed := []mobynet.Port{mobynet.MustParsePort("80/tcp"), mobynet.MustParsePort("443/tcp"), mobynet.MustParsePort("22/tcp")}
	bs, err := Bindings(pm, exposed, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []PortBinding{
		{ContainerPort: 53, Proto: "udp"},
		{HostPort: 7000, HostPortEnd: 7010, ContainerPort: 70, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{HostPort: 9000, ContainerPort: 90, Proto: "tcp"},
		{ContainerPort: 443, Proto: "tcp"},
		{ContainerPort: 22, Proto: "tcp"},
	}
	if len(bs) != len(want) {
		t.Fatalf("got %+v", bs)
	}
	for i := range want {
		if bs[i] != want[i] {
			t.Errorf("%d: got %+v want %+v", i, bs[i], want[i])
		}
	}
}

func TestParseExposed(t *testing.T) {
	tests := []struct {
		spec, want, err string
	}{
		{spec: "80", want: "80/tcp"},
		{spec: "53/UDP", want: "53/udp"},
		{spec: "8000-8002", want: "8000/tcp 8001/tcp 8002/tcp"},
		{spec: "80/xyz", err: "invalid proto: xyz"},
		{spec: "80:90", err: "invalid containerPort: 80:90"},
		{spec: "0", err: "invalid containerPort: 0"},
		{spec: "90-80", err: "invalid containerPort: 90-80"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			ports, err := ParseExposed(tc.spec)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errdefs.IsInvalid(err) {
					t.Fatalf("got %v, want invalid %q", err, tc.err)
				}
				return
			}
			var got []string
			for _, p := range ports {
				got = append(got, p.String())
			}
			if err != nil || strings.Join(got, " ") != tc.want {
				t.Fatalf("got %v %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestPortFormats(t *testing.T) {
	bs := []PortBinding{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}
	if got := strings.Join(PortLines(bs), "\n"); got != "80/tcp -> 127.0.0.1:8080" {
		t.Errorf("port: %q", got)
	}
	if got := PSPorts(bs, []mobynet.Port{mobynet.MustParsePort("80/tcp"), mobynet.MustParsePort("443/tcp")}); got != "127.0.0.1:8080->80/tcp, 443/tcp" {
		t.Errorf("ps: %q", got)
	}
	pm := PortMap(bs, []mobynet.Port{mobynet.MustParsePort("80/tcp")})
	if len(pm) != 1 {
		t.Fatalf("%v", pm)
	}
	for p, list := range pm {
		if p.String() != "80/tcp" || len(list) != 1 || list[0].HostIP.String() != "127.0.0.1" || list[0].HostPort != "8080" {
			t.Errorf("%v %v", p, list)
		}
	}
}

func TestHostsFile(t *testing.T) {
	got := string(HostsFile("10.66.0.2", "caf6aa49be1e", "fx"))
	if !strings.HasPrefix(got, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n") || !strings.HasSuffix(got, "10.66.0.2\tcaf6aa49be1e fx\n") {
		t.Errorf("%q", got)
	}
}

// TestHostsFileCases: without an address (network none, host) only the
// standard lines; the container's own line lists each name once, the
// hostname first, and skips empty names.
func TestHostsFileCases(t *testing.T) {
	std := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	for _, tc := range []struct {
		ip, host string
		names    []string
		want     string
	}{
		{"", "caf6aa49be1e", []string{"web"}, std},
		{"10.66.0.2", "caf6aa49be1e", nil, std + "10.66.0.2\tcaf6aa49be1e\n"},
		{"10.66.0.3", "h", []string{"web", "", "h", "alias", "web"}, std + "10.66.0.3\th web alias\n"},
		{"10.66.0.4", "", nil, std},
	} {
		t.Run(tc.ip+" "+tc.host, func(t *testing.T) {
			if got := string(HostsFile(tc.ip, tc.host, tc.names...)); got != tc.want {
				t.Errorf("HostsFile(%q, %q, %q) =\n%q\nwant\n%q", tc.ip, tc.host, tc.names, got, tc.want)
			}
		})
	}
}

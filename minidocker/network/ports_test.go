package network

import (
	"strings"
	"testing"
)

func TestParsePortsErrors(t *testing.T) {
	cases := map[string]string{
		"99999:80":        "invalid hostPort: 99999",
		"80/bogus":        "invalid proto: bogus",
		"8080:abc":        "invalid containerPort: abc",
		"1.2.3:8080:80":   "invalid IP address: 1.2.3",
		"8080:":           "no port specified: 8080:<empty>",
		"8000-8001:80-82": "invalid ranges specified for container and host Ports: 80-82 and 8000-8001",
	}
	for spec, want := range cases {
		_, err := ParsePorts([]string{spec}, nil, false)
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", spec, err, want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	bs, err := ParsePorts([]string{"127.0.0.1:8080:80", "53/udp", "9000-9001:90-91", "7000-7010:70/TCP"}, []string{"80/tcp", "443", "22/tcp"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []PortBinding{
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{ContainerPort: 53, Proto: "udp"},
		{HostPort: 9000, ContainerPort: 90, Proto: "tcp"},
		{HostPort: 9001, ContainerPort: 91, Proto: "tcp"},
		{HostPort: 7000, HostPortEnd: 7010, ContainerPort: 70, Proto: "tcp"},
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

func TestPortFormats(t *testing.T) {
	bs := []PortBinding{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}
	if got := strings.Join(PortLines(bs), "\n"); got != "80/tcp -> 127.0.0.1:8080" {
		t.Errorf("port: %q", got)
	}
	if got := PSPorts(bs, []string{"80/tcp", "443/tcp"}); got != "127.0.0.1:8080->80/tcp, 443/tcp" {
		t.Errorf("ps: %q", got)
	}
	pm := PortMap(bs, []string{"80/tcp"})
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
		if got := string(HostsFile(tc.ip, tc.host, tc.names...)); got != tc.want {
			t.Errorf("HostsFile(%q, %q, %q) =\n%q\nwant\n%q", tc.ip, tc.host, tc.names, got, tc.want)
		}
	}
}

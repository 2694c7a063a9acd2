package network

import (
	"fmt"
	"slices"
	"testing"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// FuzzParsePorts checks `-p` parsing (issue 10, faults survived): a spec is
// either refused with a 400-kind error, or its bindings survive the two
// round trips the code depends on. Printed back as one spec each and parsed
// again, they are the same bindings; sent as the Engine API's PortMap
// (PublishMap, what the CLI does) and read back by the daemon (Bindings),
// they are the same bindings too. Seeds: testdata/fuzz/FuzzParsePorts and
// the f.Add lines (docker's documented forms and the edge cases of
// ports_test.go).
func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80", "8000-8010:80",
		"8000-8002:80-82", "53:53/udp", "9999:9999/SCTP", "[::1]:80:80", "1.2.3.4:0-5:80", "80-82/udp",
		"::80", "0:80", "+5:80", "65535", "65536", "80/icmp", "", ":", "a:b:c:d", "1-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		bs, err := ParsePorts([]string{spec})
		if err != nil {
			if !errdefs.IsInvalid(err) {
				t.Fatalf("ParsePorts(%q): %v is not a 400-kind error", spec, err)
			}
			return
		}
		if len(bs) == 0 {
			t.Fatalf("ParsePorts(%q) accepted the spec but gave no binding", spec)
		}
		var again []PortBinding
		for _, b := range bs {
			one, err := ParsePorts([]string{formatBinding(b)})
			if err != nil {
				t.Fatalf("ParsePorts(%q) = %+v; its printed form %q is refused: %v", spec, b, formatBinding(b), err)
			}
			again = append(again, one...)
		}
		if !slices.Equal(normalBindings(bs), normalBindings(again)) {
			t.Fatalf("ParsePorts(%q) = %+v, printed and parsed again = %+v", spec, bs, again)
		}
		viaAPI, err := Bindings(PublishMap(bs), nil, false)
		if err != nil {
			t.Fatalf("ParsePorts(%q) = %+v; the daemon refuses its PortMap: %v", spec, bs, err)
		}
		if !slices.Equal(normalBindings(bs), normalBindings(viaAPI)) {
			t.Fatalf("ParsePorts(%q) = %+v, through the API's PortMap = %+v", spec, bs, viaAPI)
		}
	})
}

// FuzzParseExposed checks EXPOSE/--expose: an entry is refused with a
// 400-kind error, or each port it names prints as "N/proto" and parses back
// to itself.
func FuzzParseExposed(f *testing.F) {
	for _, s := range []string{"80", "53/udp", "8000-8002/tcp", "80/SCTP", "0", "1-0", "80/", "/tcp", "99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ports, err := ParseExposed(spec)
		if err != nil {
			if !errdefs.IsInvalid(err) {
				t.Fatalf("ParseExposed(%q): %v is not a 400-kind error", spec, err)
			}
			return
		}
		for _, p := range ports {
			back, err := ParseExposed(p.String())
			if err != nil || len(back) != 1 || back[0] != p {
				t.Fatalf("ParseExposed(%q) gave %s, which parses back to %v (%v)", spec, p, back, err)
			}
		}
	})
}

// formatBinding prints one binding as the `-p` spec that means exactly it.
func formatBinding(b PortBinding) string {
	host := ""
	switch {
	case b.HostPortEnd > b.HostPort:
		host = fmt.Sprintf("%d-%d", b.HostPort, b.HostPortEnd)
	case b.HostPort != 0:
		host = fmt.Sprint(b.HostPort)
	}
	ctr := fmt.Sprintf("%d/%s", b.ContainerPort, b.proto())
	switch {
	case b.HostIP != "":
		return b.HostIP + ":" + host + ":" + ctr
	case host != "":
		return host + ":" + ctr
	}
	return ctr
}

// normalBindings sorts bindings and spells "every address" one way
// (0.0.0.0 and "" mean the same), so two lists compare as sets.
func normalBindings(bs []PortBinding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		if b.HostIP == "0.0.0.0" {
			b.HostIP = ""
		}
		out[i] = fmt.Sprintf("%+v", b)
	}
	slices.Sort(out)
	return out
}

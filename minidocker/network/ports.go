package network

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// PortBinding publishes one container port on the host (one `-p` entry after
// ranges are expanded).
type PortBinding struct {
	HostIP        string `json:"HostIP,omitempty"` // "" or "0.0.0.0" = every host address
	HostPort      int    `json:"HostPort"`         // 0 = pick a free port
	HostPortEnd   int    `json:"HostPortEnd,omitempty"`
	ContainerPort int    `json:"ContainerPort"`
	Proto         string `json:"Proto"` // tcp, udp or sctp
}

// HostPortEnd > HostPort means "any free port in HostPort..HostPortEnd"
// (docker's `-p 8000-8010:80`); it is resolved to a single port by Attach.

func (b PortBinding) hostIP() string {
	if b.HostIP == "" {
		return "0.0.0.0"
	}
	return b.HostIP
}

func (b PortBinding) proto() string {
	if b.Proto == "" {
		return "tcp"
	}
	return b.Proto
}

// String is docker's `port` line: "80/tcp -> 127.0.0.1:8080".
func (b PortBinding) String() string {
	return fmt.Sprintf("%d/%s -> %s", b.ContainerPort, b.proto(), net.JoinHostPort(b.hostIP(), strconv.Itoa(b.HostPort)))
}

// ParsePorts turns `-p` specs ([ip:][hostPort:]containerPort[/proto], ranges
// allowed) and, with publishAll (`-P`), every exposed port ("80/tcp", "53/udp",
// "8000-8002") into bindings. Errors carry docker's wording.
func ParsePorts(specs []string, exposed []string, publishAll bool) ([]PortBinding, error) {
	var out []PortBinding
	for _, spec := range specs {
		bs, err := parsePortSpec(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	if publishAll {
		for _, e := range exposed {
			portStr, proto, _ := strings.Cut(e, "/")
			if proto == "" {
				proto = "tcp"
			}
			proto = strings.ToLower(proto)
			if err := checkProto(proto); err != nil {
				return nil, err
			}
			start, end, err := parseRange(portStr)
			if err != nil {
				return nil, errdefs.Invalid("invalid range format for --expose: %s", e)
			}
			for p := start; p <= end; p++ {
				if hasContainerPort(out, p, proto) {
					continue
				}
				out = append(out, PortBinding{ContainerPort: p, Proto: proto})
			}
		}
	}
	return out, nil
}

func hasContainerPort(bs []PortBinding, port int, proto string) bool {
	for _, b := range bs {
		if b.ContainerPort == port && b.proto() == proto {
			return true
		}
	}
	return false
}

func checkProto(p string) error {
	switch p {
	case "tcp", "udp", "sctp":
		return nil
	}
	return errdefs.Invalid("invalid proto: %s", p)
}

// parsePortSpec parses one -p value: [ip:][hostPort[-end]:]containerPort[-end][/proto].
func parsePortSpec(spec string) ([]PortBinding, error) {
	// exercise:begin 05-port-spec
	var ip, hostPart, ctrPart string
	parts := strings.Split(spec, ":")
	switch n := len(parts); n {
	case 1:
		ctrPart = parts[0]
	case 2:
		hostPart, ctrPart = parts[0], parts[1]
	default:
		ip, hostPart, ctrPart = strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
	}
	ctrPort, proto, _ := strings.Cut(ctrPart, "/")
	if ctrPort == "" {
		return nil, errdefs.Invalid("no port specified: %s<empty>", spec)
	}
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if err := checkProto(proto); err != nil {
		return nil, err
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, errdefs.Invalid("invalid IP address: %s", ip)
		}
		if !a.Is4() {
			return nil, errdefs.Invalid("invalid IP address: %s (only IPv4 host addresses are supported)", ip)
		}
		ip = a.String()
	}
	cStart, cEnd, err := parseRange(ctrPort)
	if err != nil || cStart == 0 {
		return nil, errdefs.Invalid("invalid containerPort: %s", ctrPort)
	}
	hStart, hEnd := 0, 0
	if hostPart != "" {
		hStart, hEnd, err = parseRange(hostPart)
		if err != nil {
			return nil, errdefs.Invalid("invalid hostPort: %s", hostPart)
		}
		if hEnd-hStart != cEnd-cStart && cEnd != cStart {
			return nil, errdefs.Invalid("invalid ranges specified for container and host Ports: %s and %s", ctrPort, hostPart)
		}
	}
	var out []PortBinding
	for i := 0; i <= cEnd-cStart; i++ {
		b := PortBinding{HostIP: ip, ContainerPort: cStart + i, Proto: proto}
		if hostPart != "" {
			if cEnd == cStart && hEnd != hStart {
				b.HostPort, b.HostPortEnd = hStart, hEnd
			} else {
				b.HostPort = hStart + i
			}
		}
		out = append(out, b)
	}
	return out, nil
	// exercise:end 05-port-spec
}

// parseRange parses "N" or "N-M" (M ≥ N) into its first and last port.
func parseRange(s string) (int, int, error) {
	// exercise:begin 05-port-spec
	if s == "" {
		return 0, 0, errdefs.Invalid("empty port")
	}
	a, b, isRange := strings.Cut(s, "-")
	start, err := parsePortNum(a)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return start, start, nil
	}
	end, err := parsePortNum(b)
	if err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, errdefs.Invalid("invalid port range: %s", s)
	}
	return start, end, nil
	// exercise:end 05-port-spec
}

func parsePortNum(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 65535 {
		return 0, errdefs.Invalid("out of range")
	}
	return n, nil
}

// PortMap is the NetworkSettings.Ports / HostConfig.PortBindings shape of
// docker inspect. Exposed ports without a binding appear with a nil list.
func PortMap(bs []PortBinding, exposed []string) mobynet.PortMap {
	pm := mobynet.PortMap{}
	for _, e := range exposed {
		if p, err := mobynet.ParsePort(e); err == nil {
			if _, ok := pm[p]; !ok {
				pm[p] = nil
			}
		}
	}
	for _, b := range bs {
		p, ok := mobynet.PortFrom(uint16(b.ContainerPort), mobynet.IPProtocol(b.proto()))
		if !ok {
			continue
		}
		hip, _ := netip.ParseAddr(b.hostIP())
		pm[p] = append(pm[p], mobynet.PortBinding{HostIP: hip, HostPort: strconv.Itoa(b.HostPort)})
	}
	return pm
}

// PortLines is the output of `docker port CONTAINER`, sorted like docker.
func PortLines(bs []PortBinding) []string {
	s := sortedBindings(bs)
	out := make([]string, len(s))
	for i, b := range s {
		out[i] = b.String()
	}
	return out
}

// PSPorts is the PORTS column of `docker ps`: "127.0.0.1:8080->80/tcp, 443/tcp".
// exposed ports that are not published are listed as "PORT/proto".
func PSPorts(bs []PortBinding, exposed []string) string {
	var parts []string
	for _, b := range sortedBindings(bs) {
		parts = append(parts, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(b.hostIP(), strconv.Itoa(b.HostPort)), b.ContainerPort, b.proto()))
	}
	seen := map[string]bool{}
	var bare []string
	for _, e := range exposed {
		port, proto, _ := strings.Cut(e, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.Atoi(port)
		if err != nil || hasContainerPort(bs, n, proto) || seen[e] {
			continue
		}
		seen[e] = true
		bare = append(bare, fmt.Sprintf("%d/%s", n, proto))
	}
	sort.Strings(bare)
	return strings.Join(append(parts, bare...), ", ")
}

func sortedBindings(bs []PortBinding) []PortBinding {
	s := append([]PortBinding(nil), bs...)
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].ContainerPort != s[j].ContainerPort {
			return s[i].ContainerPort < s[j].ContainerPort
		}
		if s[i].proto() != s[j].proto() {
			return s[i].proto() < s[j].proto()
		}
		if s[i].hostIP() != s[j].hostIP() {
			return s[i].hostIP() < s[j].hostIP()
		}
		return s[i].HostPort < s[j].HostPort
	})
	return s
}

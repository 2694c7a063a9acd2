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

// ParsePorts reads `-p` values ([ip:][hostPort[-end]:]containerPort[-end][/proto])
// into bindings. It runs once, at the edge: the CLI parses its flags with it
// and sends the result as the Engine API's typed PortMap (PublishMap); the
// daemon converts that map back with Bindings, never re-reading spec text.
// Errors carry docker's wording.
func ParsePorts(specs []string) ([]PortBinding, error) {
	var out []PortBinding
	for _, spec := range specs {
		bs, err := parsePortSpec(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// PublishMap is bindings in the shape of HostConfig.PortBindings: one
// entry per container port, HostPort "" for any free port and "8000-8010"
// for a host range.
func PublishMap(bs []PortBinding) mobynet.PortMap {
	pm := mobynet.PortMap{}
	for _, b := range bs {
		p, ok := mobynet.PortFrom(uint16(b.ContainerPort), mobynet.IPProtocol(b.proto()))
		if !ok {
			continue
		}
		var host mobynet.PortBinding
		if b.HostIP != "" {
			host.HostIP, _ = netip.ParseAddr(b.HostIP)
		}
		switch {
		case b.HostPortEnd > b.HostPort:
			host.HostPort = fmt.Sprintf("%d-%d", b.HostPort, b.HostPortEnd)
		case b.HostPort != 0:
			host.HostPort = strconv.Itoa(b.HostPort)
		}
		pm[p] = append(pm[p], host)
	}
	return pm
}

// Bindings turns a container's published ports as the Engine API carries
// them (HostConfig.PortBindings: the client parsed `-p` into that typed
// map) and, with publishAll (`-P`), every exposed port into the bindings
// Attach reserves. Only the host port is still text in docker's type (a
// number, a range "8000-8010" or "" for any); errors carry docker's wording.
func Bindings(pm mobynet.PortMap, exposed []mobynet.Port, publishAll bool) ([]PortBinding, error) {
	ports := make([]mobynet.Port, 0, len(pm))
	for p := range pm {
		ports = append(ports, p)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].String() < ports[j].String() })
	var out []PortBinding
	for _, p := range ports {
		bs, err := portBindings(p, pm[p])
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	if !publishAll {
		return out, nil
	}
	for _, p := range exposed {
		proto := string(p.Proto())
		if err := checkProto(proto); err != nil {
			return nil, err
		}
		if !hasContainerPort(out, int(p.Num()), proto) {
			out = append(out, PortBinding{ContainerPort: int(p.Num()), Proto: proto})
		}
	}
	return out, nil
}

// portBindings converts the host bindings of one container port; none
// means "publish on a free host port".
func portBindings(p mobynet.Port, hosts []mobynet.PortBinding) ([]PortBinding, error) {
	proto := string(p.Proto())
	if err := checkProto(proto); err != nil {
		return nil, err
	}
	if p.Num() == 0 {
		return nil, errdefs.Invalid("invalid containerPort: %d", p.Num())
	}
	base := PortBinding{ContainerPort: int(p.Num()), Proto: proto}
	if len(hosts) == 0 {
		return []PortBinding{base}, nil
	}
	out := make([]PortBinding, 0, len(hosts))
	for _, h := range hosts {
		b := base
		ip, err := hostIP(h.HostIP)
		if err != nil {
			return nil, err
		}
		b.HostIP = ip
		if h.HostPort != "" {
			start, end, err := parseRange(h.HostPort)
			if err != nil {
				return nil, errdefs.Invalid("invalid hostPort: %s", h.HostPort)
			}
			b.HostPort = start
			if end != start {
				b.HostPortEnd = end
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// hostIP is the host address of a binding: "" for any (docker's default
// pair 0.0.0.0 and [::] means IPv4 only here), an IPv4 address, or an
// error for an IPv6 one.
func hostIP(a netip.Addr) (string, error) {
	switch {
	case !a.IsValid(), a.IsUnspecified():
		return "", nil
	case a.Is4In6():
		return a.Unmap().String(), nil
	case a.Is6():
		return "", errdefs.Invalid("invalid IP address: %s (only IPv4 host addresses are supported)", a)
	}
	return a.String(), nil
}

// ParseExposed reads one EXPOSE (or --expose) entry, "80", "53/udp" or
// "8000-8002/tcp", into the ports it names.
func ParseExposed(spec string) ([]mobynet.Port, error) {
	portStr, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if err := checkProto(proto); err != nil {
		return nil, err
	}
	start, end, err := parseRange(portStr)
	if err != nil || start == 0 {
		return nil, errdefs.Invalid("invalid containerPort: %s", portStr)
	}
	out := make([]mobynet.Port, 0, end-start+1)
	for n := start; n <= end; n++ {
		p, _ := mobynet.PortFrom(uint16(n), mobynet.IPProtocol(proto))
		out = append(out, p)
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

// checkProto refuses a protocol docker does not publish.
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
func PortMap(bs []PortBinding, exposed []mobynet.Port) mobynet.PortMap {
	pm := mobynet.PortMap{}
	for _, p := range exposed {
		if _, ok := pm[p]; !ok {
			pm[p] = nil
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
func PSPorts(bs []PortBinding, exposed []mobynet.Port) string {
	var parts []string
	for _, b := range sortedBindings(bs) {
		parts = append(parts, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(b.hostIP(), strconv.Itoa(b.HostPort)), b.ContainerPort, b.proto()))
	}
	seen := map[mobynet.Port]bool{}
	var bare []string
	for _, p := range exposed {
		if hasContainerPort(bs, int(p.Num()), string(p.Proto())) || seen[p] {
			continue
		}
		seen[p] = true
		bare = append(bare, p.String())
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

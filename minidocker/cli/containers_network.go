package cli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// NameFlags are run's and create's flags for the names a container sees
// and is seen by: more names on its network (--network-alias), its
// resolver (--dns, --dns-search, --dns-option) and lines of its
// /etc/hosts (--add-host, --link). Each is checked here as docker's CLI
// checks it.
type NameFlags struct {
	NetworkAlias []string `name:"network-alias" sep:"none" help:"Add network-scoped alias for the container."`
	DNS          []string `name:"dns" sep:"none" help:"Set custom DNS servers."`
	DNSSearch    []string `name:"dns-search" sep:"none" help:"Set custom DNS search domains."`
	DNSOption    []string `name:"dns-option" sep:"none" help:"Set DNS options."`
	AddHost      []string `name:"add-host" sep:"none" help:"Add a custom host-to-IP mapping (host:ip or host=ip)."`
	Link         []string `sep:"none" help:"Add link to another container (name[:alias])."`
	IP           string   `name:"ip" help:"IPv4 address (e.g., 172.30.100.104)."`
	IP6          string   `name:"ip6" help:"IPv6 address (e.g., 2001:db8::33)."`
}

// apply puts the resolver and /etc/hosts flags into hc.
func (f *NameFlags) apply(hc *container.HostConfig) error {
	for _, ip := range f.DNS {
		addr, err := netip.ParseAddr(strings.TrimSpace(ip))
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--dns\" flag: IP address is not correctly formatted: %s", ip, ip)
		}
		hc.DNS = append(hc.DNS, addr)
	}
	for _, d := range f.DNSSearch {
		domain, ok := searchDomain(d)
		if !ok {
			return fmt.Errorf("invalid argument %q for \"--dns-search\" flag: %s is not a valid domain", d, d)
		}
		hc.DNSSearch = append(hc.DNSSearch, domain)
	}
	hc.DNSOptions = f.DNSOption
	for _, h := range f.AddHost {
		entry, err := extraHost(h)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--add-host\" flag: %v", h, err)
		}
		hc.ExtraHosts = append(hc.ExtraHosts, entry)
	}
	for _, l := range f.Link {
		if strings.Count(l, ":") > 1 {
			return fmt.Errorf("invalid argument %q for \"--link\" flag: bad format for links: %s", l, l)
		}
		hc.Links = append(hc.Links, l)
	}
	return nil
}

// domainLabel is one label of a DNS name: letters, digits and inner
// hyphens. It is compiled on first use: package inits run in every CLI call.
var domainLabel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`) })

// searchDomain checks a --dns-search domain as docker does: "." (no
// search domain) or a name of valid labels with a letter in it. A
// trailing dot is dropped.
func searchDomain(d string) (string, bool) {
	d = strings.TrimSpace(d)
	if d == "." {
		return d, true
	}
	name := strings.TrimSuffix(d, ".")
	if name == "" || len(name) >= 255 || !strings.ContainsAny(strings.ToLower(name), "abcdefghijklmnopqrstuvwxyz") {
		return "", false
	}
	for _, label := range strings.Split(name, ".") {
		if !domainLabel().MatchString(label) {
			return "", false
		}
	}
	return name, true
}

// extraHost reads --add-host NAME:IP or NAME=IP (IP may be in brackets, or
// host-gateway) into the NAME:IP the API takes.
func extraHost(h string) (string, error) {
	name, ip, ok := strings.Cut(h, "=")
	if !ok {
		name, ip, ok = strings.Cut(h, ":") // the first colon only: IPv6 addresses have more
	}
	if !ok || name == "" || strings.Contains(name, ":") {
		return "", fmt.Errorf("bad format for add-host: %q", h)
	}
	if ip != "host-gateway" {
		if len(ip) > 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
			ip = ip[1 : len(ip)-1]
		}
		if net.ParseIP(ip) == nil {
			return "", fmt.Errorf("invalid IP address in add-host: %q", ip)
		}
	}
	return name + ":" + ip, nil
}

// errAliasOnDefault is docker's refusal of --network-alias on the default
// bridge, host, none or another container's network.
var errAliasOnDefault = errors.New("network-scoped aliases are only supported for user-defined networks")

// networkingConfig is the create request's NetworkingConfig: the
// --network-alias names and the --ip/--ip6 addresses on the container's
// network ("default" when none was named, as docker's CLI sends it).
func (f *NameFlags) networkingConfig(netMode string) (*network.NetworkingConfig, error) {
	if len(f.NetworkAlias) == 0 && f.IP == "" && f.IP6 == "" {
		return nil, nil
	}
	if len(f.NetworkAlias) > 0 && !container.NetworkMode(netMode).IsUserDefined() {
		return nil, errAliasOnDefault
	}
	es := &network.EndpointSettings{Aliases: f.NetworkAlias}
	for _, a := range []struct {
		flag, value string
		set         func(ip netip.Addr)
	}{
		{"--ip", f.IP, func(ip netip.Addr) { endpointIPAM(es).IPv4Address = ip }},
		{"--ip6", f.IP6, func(ip netip.Addr) { endpointIPAM(es).IPv6Address = ip }},
	} {
		if a.value == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.value)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for %q flag: %v", a.value, a.flag, err)
		}
		a.set(ip)
	}
	if netMode == "" {
		netMode = "default"
	}
	return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netMode: es}}, nil
}

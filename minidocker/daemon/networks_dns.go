package daemon

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// Names and resolvers of a starting container, after writeEtcFiles: its
// /etc/resolv.conf (--dns, --dns-search, --dns-option; 127.0.0.11, the
// embedded DNS server, on a user-defined network), the --add-host and
// --link lines of /etc/hosts, and the embedded server itself
// (network/dns.go).

// checkNameOptions validates --add-host and --link at create, in docker's
// words, so a bad value leaves nothing.
func (d *Daemon) checkNameOptions(hc *container.HostConfig) error {
	for _, h := range hc.ExtraHosts {
		if _, _, err := parseExtraHost(h); err != nil {
			return err
		}
	}
	return d.checkLinks(hc) // links.go
}

// parseExtraHost reads "name:ip" (or docker's newer "name=ip"); the IP may
// be "host-gateway".
func parseExtraHost(s string) (name, ip string, err error) {
	name, ip, ok := strings.Cut(s, "=")
	if !ok {
		name, ip, ok = strings.Cut(s, ":")
	}
	if !ok || name == "" {
		return "", "", errdefs.Invalid("bad format for add-host: %q", s)
	}
	if ip != "host-gateway" {
		if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil {
			return "", "", errdefs.Invalid("invalid IP address in add-host: %q", ip)
		}
	}
	return name, strings.Trim(ip, "[]"), nil
}

// parseLink reads "name:alias" or the API's "/name:/me/alias".
func parseLink(s string) (name, alias string) {
	name, alias, _ = strings.Cut(s, ":")
	name = strings.TrimPrefix(name, "/")
	if i := strings.LastIndex(alias, "/"); i >= 0 {
		alias = alias[i+1:]
	}
	if alias == "" {
		alias = name
	}
	return name, alias
}

// resolvConf is what the container's /etc/resolv.conf holds, and the
// servers its embedded DNS server forwards to.
type resolvConf struct {
	nameservers, search, options []string
}

func readResolvConf(path string) resolvConf {
	var rc resolvConf
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "nameserver":
			rc.nameservers = append(rc.nameservers, f[1])
		case "search", "domain":
			rc.search = f[1:]
		case "options":
			rc.options = append(rc.options, f[1:]...)
		}
	}
	return rc
}

func (rc resolvConf) String() string {
	var b strings.Builder
	for _, n := range rc.nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", n)
	}
	if len(rc.search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(rc.search, " "))
	}
	if len(rc.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(rc.options, " "))
	}
	return b.String()
}

// resolvConfOf is the host's resolv.conf with the container's --dns,
// --dns-search and --dns-option in place of its lines.
func resolvConfOf(hc *container.HostConfig) resolvConf {
	rc := readResolvConf("/etc/resolv.conf")
	if len(hc.DNS) > 0 {
		rc.nameservers = nil
		for _, a := range hc.DNS {
			rc.nameservers = append(rc.nameservers, a.String())
		}
	}
	if len(hc.DNSSearch) > 0 {
		rc.search = hc.DNSSearch
	}
	if len(hc.DNSOptions) > 0 {
		rc.options = hc.DNSOptions
	}
	return rc
}

// resumeNames starts the DNS server again for a container that kept
// running while the daemon was away (the server lived in the old daemon).
func (d *Daemon) resumeNames(c *Container) {
	c.mu.Lock()
	hc, names, id := c.HostConfig, c.networkNames(), c.ID
	c.mu.Unlock()
	if len(names) > 0 && names[0] != network.DefaultNetwork {
		if err := d.networks.StartResolver(id, upstreamFor(d.networks, id, resolvConfOf(hc))); err != nil {
			slog.Warn("restarting a container's DNS server", "id", stringid.TruncateID(id), "err", err)
		}
		d.networks.SetLinkAliases(id, linkAliases(hc))
	}
}

// upstreamFor is where the container's DNS server sends the names it does
// not know: the resolvers of its resolv.conf, or none at all on an
// internal network (docker's embedded server does not reach out from one).
func upstreamFor(m *network.Manager, id string, rc resolvConf) []string {
	if ep, ok := m.Endpoint(id); ok && ep.Internal {
		return nil
	}
	return rc.nameservers
}

// linkAliases are the container's --link options as alias → container
// name, for its DNS server.
func linkAliases(hc *container.HostConfig) map[string]string {
	out := map[string]string{}
	for _, l := range hc.Links {
		name, alias := parseLink(l)
		out[strings.ToLower(alias)] = name
	}
	return out
}

// setupNames writes resolv.conf and the extra hosts lines of a starting
// container and, on a user-defined network, starts its DNS server.
func (d *Daemon) setupNames(c *Container) error {
	c.mu.Lock()
	hc, names, id, name := c.HostConfig, c.networkNames(), c.ID, c.Name
	resolvPath, hostsPath := c.ResolvConfPath, c.HostsPath
	c.mu.Unlock()
	rc := resolvConfOf(hc)
	ep, attached := d.networks.Endpoint(id)
	embedded := attached && len(names) > 0 && names[0] != network.DefaultNetwork
	if embedded {
		// the server binds 127.0.0.11 on the namespace's lo, which the
		// veth work of AttachBegin brings up
		if err := d.networks.Ready(id); err != nil {
			return fmt.Errorf("failed to set up container networking: %w", err)
		}
		if err := d.networks.StartResolver(id, upstreamFor(d.networks, id, rc)); err != nil {
			return err
		}
		d.networks.SetLinkAliases(id, linkAliases(hc))
		rc.nameservers = []string{network.DNSAddress}
		if !strings.Contains(strings.Join(rc.options, " "), "ndots:") {
			rc.options = append(rc.options, "ndots:0")
		}
	}
	if len(hc.DNS)+len(hc.DNSSearch)+len(hc.DNSOptions) > 0 || embedded {
		if err := os.WriteFile(resolvPath, []byte(rc.String()), 0o644); err != nil {
			return err
		}
	}
	lines, err := d.extraHostsLines(name, hc, ep)
	if err != nil || len(lines) == 0 {
		return err
	}
	editHosts(hostsPath, func(have []string) []string { return append(have, lines...) })
	return nil
}

// extraHostsLines are the /etc/hosts lines of --add-host and --link.
func (d *Daemon) extraHostsLines(me string, hc *container.HostConfig, ep *network.Endpoint) ([]string, error) {
	var lines []string
	for _, h := range hc.ExtraHosts {
		name, ip, _ := parseExtraHost(h)
		if ip == "host-gateway" {
			if ep == nil {
				return nil, errdefs.Invalid("host-gateway needs a bridge network")
			}
			ip = ep.Gateway.String()
		}
		lines = append(lines, ip+"\t"+name)
	}
	for _, l := range hc.Links {
		other, oep, err := d.linkedContainer(me, l) // links.go
		if err != nil {
			return nil, err
		}
		// docker's line: the alias, the linked container's hostname, and
		// its name unless the alias is the name
		name, alias := parseLink(l)
		other.mu.Lock()
		hostname := other.Config.Hostname
		other.mu.Unlock()
		if hostname == "" {
			hostname = stringid.TruncateID(other.ID)
		}
		names := alias + " " + hostname
		if alias != name {
			names += " " + name
		}
		lines = append(lines, oep.IP.String()+"\t"+names)
	}
	return lines, nil
}

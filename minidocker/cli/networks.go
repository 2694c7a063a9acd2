package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/minidocker/minidocker/minidocker/client"
	mobynet "github.com/moby/moby/api/types/network"
)

// NetworkCommands are the networks commands of the article (section 5):
// `network ls|inspect|create|rm` and `port`.
type NetworkCommands struct {
	Network NetworkCmd `cmd:"" help:"Manage networks."`
	Port    PortCmd    `cmd:"" help:"List port mappings or a specific mapping for the container."`
}

// NetworkCmd groups docker's `network` subcommands.
type NetworkCmd struct {
	Ls         NetworkLsCmd         `cmd:"" aliases:"list" help:"List networks."`
	Inspect    NetworkInspectCmd    `cmd:"" help:"Display detailed information on one or more networks."`
	Create     NetworkCreateCmd     `cmd:"" help:"Create a network."`
	Rm         NetworkRmCmd         `cmd:"" aliases:"remove" help:"Remove one or more networks."`
	Connect    NetworkConnectCmd    `cmd:"" help:"Connect a container to a network."`
	Disconnect NetworkDisconnectCmd `cmd:"" help:"Disconnect a container from a network."`
	Prune      NetworkPruneCmd      `cmd:"" help:"Remove all unused networks."`
}

// NetworkLsCmd is `docker network ls`.
type NetworkLsCmd struct {
	Filter  []string `short:"f" help:"Provide filter values (e.g. 'driver=bridge')."`
	Quiet   bool     `short:"q" help:"Only display network IDs."`
	NoTrunc bool     `name:"no-trunc" help:"Do not truncate the output."`
}

// Run lists the networks in docker's columns.
func (c *NetworkLsCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	res, err := cli.NetworkList(g.ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return err
	}
	nets := res.Items
	sort.Slice(nets, func(i, j int) bool { return nets[i].Name < nets[j].Name })
	if c.Quiet {
		for _, n := range nets {
			fmt.Fprintln(g.stdout, shortID(n.ID, c.NoTrunc))
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
	for _, n := range nets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", shortID(n.ID, c.NoTrunc), n.Name, n.Driver, n.Scope)
	}
	return tw.Flush()
}

// NetworkInspectCmd is `docker network inspect`.
type NetworkInspectCmd struct {
	Format   string   `short:"f" help:"Format the output using the given Go template."`
	Networks []string `arg:"" name:"network"`
}

// Run prints each network's JSON, or the -f template.
func (c *NetworkInspectCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return inspectEach(g, c.Format, c.Networks, func(ref string) (json.RawMessage, error) {
		res, err := cli.NetworkInspect(g.ctx, ref, client.NetworkInspectOptions{})
		return res.Raw, err
	})
}

// NetworkCreateCmd is `docker network create [--subnet] [--gateway] [--internal] NAME`.
type NetworkCreateCmd struct {
	Driver   string   `short:"d" default:"bridge" help:"Driver to manage the Network."`
	Subnet   []string `help:"Subnet in CIDR format that represents a network segment."`
	Gateway  []string `help:"IPv4 Gateway for the master subnet."`
	Label    []string `help:"Set metadata on a network."`
	Internal bool     `help:"Restrict external access to the network."`
	Name     string   `arg:"" name:"network"`
}

// Run creates the network and prints its ID.
func (c *NetworkCreateCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	if len(c.Gateway) > len(c.Subnet) {
		return fmt.Errorf("every ip-range or gateway must have a corresponding subnet")
	}
	var ipam *mobynet.IPAM
	for i, s := range c.Subnet {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if _, _, err2 := net.ParseCIDR(s); err2 != nil {
				return fmt.Errorf("invalid argument %q for \"--subnet\" flag: invalid CIDR address: %s", s, s)
			}
			return err
		}
		cfg := mobynet.IPAMConfig{Subnet: p}
		if i < len(c.Gateway) {
			gw, err := netip.ParseAddr(c.Gateway[i])
			if err != nil {
				return fmt.Errorf("invalid argument %q for \"--gateway\" flag: invalid string being converted to IP address: %s", c.Gateway[i], c.Gateway[i])
			}
			cfg.Gateway = gw
		}
		if ipam == nil {
			ipam = &mobynet.IPAM{Driver: "default"}
		}
		ipam.Config = append(ipam.Config, cfg)
	}
	labels := map[string]string{}
	for _, l := range c.Label {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	res, err := cli.NetworkCreate(g.ctx, c.Name, client.NetworkCreateOptions{Driver: c.Driver, IPAM: ipam, Labels: labels, Internal: c.Internal})
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, res.ID)
	return nil
}

// NetworkRmCmd is `docker network rm`.
type NetworkRmCmd struct {
	Networks []string `arg:"" name:"network"`
}

// Run removes each network, printing its name.
func (c *NetworkRmCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Networks, func(ref string) error {
		if _, err := cli.NetworkRemove(g.ctx, ref, client.NetworkRemoveOptions{}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, ref)
		return nil
	})
}

// NetworkConnectCmd is `docker network connect [--alias] [--ip] NET CTR`:
// one more network for a container, running or not.
type NetworkConnectCmd struct {
	Alias     []string `sep:"none" help:"Add network-scoped alias for the container."`
	IP        string   `name:"ip" help:"IPv4 address (e.g., \"172.30.100.104\")."`
	IP6       string   `name:"ip6" help:"IPv6 address (e.g., \"2001:db8::33\")."`
	Link      []string `sep:"none" help:"Add link to another container."`
	Network   string   `arg:"" name:"network"`
	Container string   `arg:"" name:"container"`
}

// Run sends the endpoint's settings; the daemon refuses what it does not
// do (fixed addresses, links in an endpoint), as its error says.
func (c *NetworkConnectCmd) Run(g *Globals) error {
	es := &mobynet.EndpointSettings{Aliases: c.Alias, Links: c.Link}
	for _, a := range []struct {
		flag, value string
		set         func(netip.Addr)
	}{
		{"--ip", c.IP, func(ip netip.Addr) { endpointIPAM(es).IPv4Address = ip }},
		{"--ip6", c.IP6, func(ip netip.Addr) { endpointIPAM(es).IPv6Address = ip }},
	} {
		if a.value == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.value)
		if err != nil {
			return fmt.Errorf("invalid argument %q for %q flag: %v", a.value, a.flag, err)
		}
		a.set(ip)
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	_, err = cli.NetworkConnect(g.ctx, c.Network, client.NetworkConnectOptions{Container: c.Container, EndpointConfig: es})
	return err
}

// endpointIPAM makes (once) the endpoint's address settings.
func endpointIPAM(es *mobynet.EndpointSettings) *mobynet.EndpointIPAMConfig {
	if es.IPAMConfig == nil {
		es.IPAMConfig = &mobynet.EndpointIPAMConfig{}
	}
	return es.IPAMConfig
}

// NetworkDisconnectCmd is `docker network disconnect [-f] NET CTR`.
type NetworkDisconnectCmd struct {
	Force     bool   `short:"f" help:"Force the container to disconnect from a network."`
	Network   string `arg:"" name:"network"`
	Container string `arg:"" name:"container"`
}

// Run takes the container off the network.
func (c *NetworkDisconnectCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	_, err = cli.NetworkDisconnect(g.ctx, c.Network, client.NetworkDisconnectOptions{Container: c.Container, Force: c.Force})
	return err
}

// PortCmd is `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`, read from the
// container's inspect data (NetworkSettings.Ports) as docker's CLI does.
type PortCmd struct {
	Container string `arg:""`
	Port      string `arg:"" optional:"" name:"private-port"`
}

// Run prints the container's published ports, or where one port is published.
func (c *PortCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ContainerInspect(g.ctx, c.Container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	var ports mobynet.PortMap
	if ns := res.Container.NetworkSettings; ns != nil {
		ports = ns.Ports
	}
	if c.Port != "" {
		spec := c.Port
		if !strings.Contains(spec, "/") {
			spec += "/tcp"
		}
		p, err := mobynet.ParsePort(spec)
		if err != nil {
			return fmt.Errorf("Error: invalid port (%s): %v", c.Port, err)
		}
		bs := ports[p]
		if len(bs) == 0 {
			return fmt.Errorf("Error: No public port '%s' published for %s", p, c.Container)
		}
		for _, b := range bs {
			fmt.Fprintln(g.stdout, hostAddr(b))
		}
		return nil
	}
	var lines []portLine
	for p, bs := range ports {
		for _, b := range bs {
			lines = append(lines, portLine{p, b})
		}
	}
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.p.Num() != b.p.Num() {
			return a.p.Num() < b.p.Num()
		}
		if a.p.Proto() != b.p.Proto() {
			return a.p.Proto() < b.p.Proto()
		}
		return hostAddr(a.b) < hostAddr(b.b)
	})
	for _, l := range lines {
		fmt.Fprintf(g.stdout, "%s -> %s\n", l.p, hostAddr(l.b))
	}
	return nil
}

type portLine struct {
	p mobynet.Port
	b mobynet.PortBinding
}

func hostAddr(b mobynet.PortBinding) string {
	ip := "0.0.0.0"
	if b.HostIP.IsValid() {
		ip = b.HostIP.String()
	}
	return net.JoinHostPort(ip, b.HostPort)
}

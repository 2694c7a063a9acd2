package daemon

import (
	"context"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// A container on bridge networks may be on several at once (`network
// connect`, a second entry of EndpointsConfig, Compose's networks). Its
// record keeps the set, by network name, with the aliases it has on each;
// the network of its network mode comes first and owns the namespace, the
// default route and the published ports (eth0). The others are eth1...
// (network.Manager.AttachSecondary).

// EndpointConfig is what a container asks of one network: more names for
// the embedded DNS (--network-alias, Compose's service name).
type EndpointConfig struct {
	Aliases    []string `json:",omitempty"`
	MacAddress string   `json:",omitempty"` // --mac-address ("": one made from the IP)
	// IPv4Address is the address asked for (--ip): every start asks for it
	// again, so it stays the container's across restarts.
	IPv4Address netip.Addr `json:",omitzero"`
}

// networkNames lists the container's networks, the first one first. A
// record from before Endpoints existed has the network mode's only. Call
// with c.mu held.
func (c *Container) networkNames() []string {
	mode := parseNetMode(c.HostConfig.NetworkMode)
	if mode.kind != "bridge" {
		return nil
	}
	if c.Endpoints == nil {
		return []string{mode.arg}
	}
	var names []string
	for n := range c.Endpoints {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == mode.arg) != (names[j] == mode.arg) {
			return names[i] == mode.arg
		}
		return names[i] < names[j]
	})
	return names
}

// checkEndpointSettings reads what a container asks of one network (its
// aliases, MAC and IPv4 address) and refuses what we do not do with a
// network: IPv6 and link-local addresses, legacy links, driver options,
// gateway priority.
func (d *Daemon) checkEndpointSettings(netName string, es *mobynet.EndpointSettings) (*EndpointConfig, error) {
	if es == nil {
		return &EndpointConfig{}, nil
	}
	if err := refuseEndpointExtras(netName, es); err != nil {
		return nil, err
	}
	if len(es.Aliases) > 0 && (netName == network.DefaultNetwork) {
		return nil, errdefs.Invalid("network-scoped alias is supported only for containers in user defined networks")
	}
	cfg := &EndpointConfig{Aliases: append([]string(nil), es.Aliases...)}
	if len(es.MacAddress) > 0 { // the API's JSON decoding has checked it
		cfg.MacAddress = es.MacAddress.String()
	}
	if es.IPAMConfig != nil {
		if err := d.checkStaticAddresses(netName, es.IPAMConfig); err != nil {
			return nil, err
		}
		cfg.IPv4Address = es.IPAMConfig.IPv4Address
	}
	return cfg, nil
}

// refuseEndpointExtras refuses the endpoint settings minidocker has no
// use for on any network, rather than ignore them.
func refuseEndpointExtras(netName string, es *mobynet.EndpointSettings) error {
	switch {
	case es.IPAMConfig != nil && len(es.IPAMConfig.LinkLocalIPs) > 0:
		return errdefs.Invalid("network %s: link-local addresses (--link-local-ip) are not supported", netName)
	case len(es.Links) > 0:
		return errdefs.Invalid("network %s: links in an endpoint's settings are not supported; use --link or aliases", netName)
	case len(es.DriverOpts) > 0:
		return errdefs.Invalid("network %s: driver options are not supported", netName)
	case es.GwPriority != 0:
		return errdefs.Invalid("network %s: --gw-priority is not supported", netName)
	}
	return nil
}

// checkModeEndpoint checks the settings given for a network mode that is
// no bridge (host, none, container:<id>): there is no interface of the
// container's own to give an address, an alias or a MAC to, so dockerd
// refuses them, in these words.
func checkModeEndpoint(netName string, es *mobynet.EndpointSettings) error {
	if es == nil {
		return nil
	}
	if err := refuseEndpointExtras(netName, es); err != nil {
		return err
	}
	switch {
	case len(es.MacAddress) > 0:
		return errdefs.Invalid("conflicting options: mac-address and the network mode")
	case es.IPAMConfig != nil && (es.IPAMConfig.IPv4Address.IsValid() || es.IPAMConfig.IPv6Address.IsValid()):
		return errdefs.Invalid("invalid endpoint settings:\nuser specified IP address is supported on user defined networks only")
	case len(es.Aliases) > 0:
		return errdefs.Invalid("network-scoped alias is supported only for containers in user defined networks")
	}
	return nil
}

// checkStaticAddresses refuses a --ip the network cannot give and any
// --ip6 (no network of ours has IPv6), in dockerd's words.
func (d *Daemon) checkStaticAddresses(netName string, ipam *mobynet.EndpointIPAMConfig) error {
	var err error
	switch {
	case ipam.IPv6Address.IsValid() && netName == network.DefaultNetwork:
		err = errdefs.Invalid("user specified IP address is supported on user defined networks only")
	case ipam.IPv6Address.IsValid():
		// dockerd's answer for a network without an IPv6 subnet
		err = errdefs.Invalid("user specified IP address is supported only when connecting to networks with user configured subnets")
	case ipam.IPv4Address.IsValid():
		err = d.networks.CheckStaticIP(netName, ipam.IPv4Address)
	}
	if err != nil && errdefs.IsInvalid(err) {
		return errdefs.Invalid("invalid endpoint settings:\n%s", err)
	}
	return err
}

// checkEndpoints turns create's NetworkingConfig into the container's
// networks: its network mode's (with the aliases given for it) and any
// other bridge network named there.
func (d *Daemon) checkEndpoints(hc *container.HostConfig, nc *mobynet.NetworkingConfig) (map[string]*EndpointConfig, error) {
	mode := parseNetMode(hc.NetworkMode)
	var given map[string]*mobynet.EndpointSettings
	if nc != nil {
		given = nc.EndpointsConfig
	}
	if mode.kind != "bridge" {
		for n, es := range given {
			if n != string(hc.NetworkMode) && n != mode.kind {
				return nil, errdefs.Invalid("container cannot be connected to network %s: its network mode is %s", n, hc.NetworkMode)
			}
			if err := checkModeEndpoint(n, withoutCopiedLinks(es, hc.Links)); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	out := map[string]*EndpointConfig{}
	primary, err := d.networkNameAtCreate(mode.arg)
	if err != nil {
		return nil, err
	}
	out[primary] = &EndpointConfig{}
	for ref, es := range given {
		name, err := d.networkNameAtCreate(ref)
		if err != nil {
			return nil, err
		}
		if name == primary {
			es = withoutCopiedLinks(es, hc.Links)
		}
		if out[name], err = d.checkEndpointSettings(name, es); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withoutCopiedLinks drops the endpoint's Links when they are the
// container's --link list: the docker CLI copies --link into the first
// network's settings as well, and HostConfig.Links already applies them
// (lines in /etc/hosts). Other endpoint links stay, and are refused.
func withoutCopiedLinks(es *mobynet.EndpointSettings, links []string) *mobynet.EndpointSettings {
	if es == nil || len(es.Links) == 0 || !slices.Equal(es.Links, links) {
		return es
	}
	copied := *es
	copied.Links = nil
	return &copied
}

// networkNameAtCreate is networkName, except that a network that does not
// exist (yet) is kept by the name given: dockerd creates the container and
// fails its start ("network x not found", 404). A 404 from create would
// make the docker CLI believe the image is missing and pull it.
func (d *Daemon) networkNameAtCreate(ref string) (string, error) {
	name, err := d.networkName(ref)
	if errdefs.IsNotFound(err) {
		return ref, nil
	}
	return name, err
}

// networkName is the name of the bridge network called or with ID ref.
func (d *Daemon) networkName(ref string) (string, error) {
	if ref == network.DefaultNetwork {
		return ref, nil
	}
	if d.networks == nil {
		return "", errdefs.Unavailable("networking is not initialised")
	}
	insp, err := d.networks.InspectNetwork(ref)
	if err != nil {
		return "", err
	}
	if insp.Name == "host" || insp.Name == "none" {
		return "", errdefs.Invalid("container cannot be connected to the %s network together with others", insp.Name)
	}
	return insp.Name, nil
}

// attachNetworks is the bridge part of connect: the first network gets the
// namespace and the ports, the others a veth each into it.
func (d *Daemon) attachNetworks(c *Container, ports []network.PortBinding) (*network.Endpoint, error) {
	c.mu.Lock()
	id, name, names := c.ID, c.Name, c.networkNames()
	cfgs := map[string]*EndpointConfig{}
	for n, e := range c.Endpoints {
		cfgs[n] = e
	}
	c.mu.Unlock()
	if len(names) == 0 {
		return nil, nil // disconnected from every network: lo only
	}
	aliases := func(n string) []string {
		if e := cfgs[n]; e != nil {
			return e.Aliases
		}
		return nil
	}
	mac := func(n string) string {
		if e := cfgs[n]; e != nil {
			return e.MacAddress
		}
		return ""
	}
	ip := func(n string) netip.Addr {
		if e := cfgs[n]; e != nil {
			return e.IPv4Address
		}
		return netip.Addr{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// the veth is made while the shim prepares init: launch waits for it
	first, err := d.networks.AttachBegin(ctx, network.AttachRequest{ContainerID: id, Name: name, Network: names[0], Ports: ports, Aliases: aliases(names[0]), MacAddress: mac(names[0]), IP: ip(names[0])})
	if err != nil {
		return nil, err
	}
	for _, n := range names[1:] {
		if _, err := d.networks.AttachSecondary(network.AttachRequest{ContainerID: id, Name: name, Network: n, Aliases: aliases(n), MacAddress: mac(n), IP: ip(n)}); err != nil {
			return nil, err // the caller's undo detaches them all
		}
	}
	return first, nil
}

// ConnectContainer is POST /networks/{id}/connect (`network connect`). A
// stopped container is only recorded as on the network; a running one gets
// its veth at once.
func (d *Daemon) ConnectContainer(netRef, ref string, es *mobynet.EndpointSettings) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	name, err := d.networkName(netRef)
	if err != nil {
		return err
	}
	cfg, err := d.checkEndpointSettings(name, es)
	if err != nil {
		return err
	}
	c.op.Lock() // not while it starts, stops or goes
	defer c.op.Unlock()
	c.mu.Lock()
	if parseNetMode(c.HostConfig.NetworkMode).kind != "bridge" {
		c.mu.Unlock()
		return errdefs.Invalid("container sharing network namespace with another container or host cannot be connected to any other network")
	}
	if slices.Contains(c.networkNames(), name) {
		c.mu.Unlock()
		return errdefs.Forbidden("endpoint with name %s already exists in network %s", c.Name, name)
	}
	running, cname := c.State.Running, c.Name
	c.mu.Unlock()
	if running {
		if _, ok := d.networks.Endpoint(c.ID); !ok {
			return errdefs.Conflict("container %s has no network namespace to join", c.ID)
		}
		if _, err := d.networks.AttachSecondary(network.AttachRequest{ContainerID: c.ID, Name: cname, Network: name, Aliases: cfg.Aliases, MacAddress: cfg.MacAddress, IP: cfg.IPv4Address}); err != nil {
			return err
		}
		d.networkEvents("connect", c.ID, []string{name}) // events.go
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setEndpoint(name, cfg)
	return c.save()
}

// setEndpoint records the container on a network (nil cfg: off it). Call
// with c.mu held.
func (c *Container) setEndpoint(name string, cfg *EndpointConfig) {
	if c.Endpoints == nil {
		c.Endpoints = map[string]*EndpointConfig{}
		for _, n := range c.networkNames() {
			c.Endpoints[n] = &EndpointConfig{}
		}
	}
	if cfg == nil {
		delete(c.Endpoints, name)
		return
	}
	c.Endpoints[name] = cfg
}

// DisconnectContainer is POST /networks/{id}/disconnect. A running
// container keeps its first network (the namespace is made with it).
func (d *Daemon) DisconnectContainer(netRef, ref string, force bool) error {
	name, err := d.networkName(netRef)
	if err != nil {
		return err
	}
	c, err := d.GetContainer(ref)
	if err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	names, running, id := c.networkNames(), c.State.Running, c.ID
	c.mu.Unlock()
	if !slices.Contains(names, name) {
		return errdefs.Forbidden("container %s is not connected to network %s", id, name)
	}
	if running {
		if names[0] == name {
			return errdefs.Conflict("container %s is running: it can leave %s, the network its namespace was made with, only once stopped", stringid.TruncateID(id), name)
		}
		insp, err := d.networks.InspectNetwork(name)
		if err != nil {
			return err
		}
		if err := d.networks.DetachSecondary(id, insp.ID); err != nil {
			return err
		}
		d.networkEvent("disconnect", insp.ID, insp.Name, id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setEndpoint(name, nil)
	return c.save()
}

// endpointsSettings fills NetworkSettings.Networks for a bridge-kind
// container: each of its networks, with the live endpoint while it runs.
// Call with c.mu held.
func (d *Daemon) endpointsSettings(c *Container, ns *container.NetworkSettings) {
	live := map[string]*network.Endpoint{}
	if c.State.Running && d.networks != nil {
		for _, ep := range d.networks.Endpoints() {
			if ep.ContainerID == c.ID {
				live[ep.Network] = ep
			}
		}
	}
	for _, n := range c.networkNames() {
		es := &mobynet.EndpointSettings{}
		if ep := live[n]; ep != nil {
			es = ep.Settings()
		} else if d.networks != nil {
			if insp, err := d.networks.InspectNetwork(n); err == nil {
				es.NetworkID = insp.ID
			}
			if e := c.Endpoints[n]; e != nil {
				es.Aliases = append([]string(nil), e.Aliases...)
			}
		}
		if e := c.Endpoints[n]; e != nil && e.IPv4Address.IsValid() {
			es.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: e.IPv4Address}
		}
		if n != network.DefaultNetwork {
			// docker lists the short ID among the aliases (Compose checks it)
			es.Aliases = append(es.Aliases, stringid.TruncateID(c.ID))
			es.DNSNames = append([]string{c.Name}, es.Aliases...)
		}
		ns.Networks[n] = es
	}
}

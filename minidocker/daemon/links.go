package daemon

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/network"
)

// Legacy links (`run --link other:alias` on the default bridge), docker's
// way of naming containers before user networks had names of their own.
// The linking container gets, at start, a line in /etc/hosts for the
// linked one (its alias, hostname and name: extraHostsLines) and, on the
// default bridge only, environment variables describing it:
//
//	ALIAS_NAME=/me/alias
//	ALIAS_PORT=tcp://10.66.0.3:80                 (its first exposed port)
//	ALIAS_PORT_80_TCP=tcp://10.66.0.3:80           (and _ADDR, _PORT, _PROTO)
//	ALIAS_PORT_80_TCP_START=..., ..._END=...       (a run of consecutive ports)
//	ALIAS_ENV_FOO=bar                              (its Config.Env, but HOME and PATH)
//
// The linked container must run when the linking one starts. Links are
// kept in HostConfig.Links as "name:alias" with the linked container's
// name (create resolves an ID), and inspect shows docker's
// "/name:/me/alias".

// checkLinks validates --link at create, in dockerd's words, and writes
// each link with the linked container's name.
func (d *Daemon) checkLinks(hc *container.HostConfig) error {
	mode := parseNetMode(hc.NetworkMode)
	for i, l := range hc.Links {
		switch mode.kind {
		case "container":
			return errdefs.Invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior")
		case "host":
			return errdefs.Invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
		case "none":
			return errdefs.Invalid("--link needs a bridge network: a container on the none network has nothing to reach the linked one with")
		}
		name, alias := parseLink(l)
		other, err := d.GetContainer(name)
		if err != nil {
			return errdefs.Invalid("could not get container for %s: %v", name, err)
		}
		other.mu.Lock()
		hc.Links[i] = other.Name + ":" + alias
		other.mu.Unlock()
	}
	return nil
}

// inspectLinks is HostConfig.Links as docker's inspect shows them.
func inspectLinks(me string, links []string) []string {
	var out []string
	for _, l := range links {
		name, alias := parseLink(l)
		out = append(out, "/"+name+":/"+me+"/"+alias)
	}
	return out
}

// linkedContainer is the running container a link names, with its
// endpoint, or dockerd's error.
func (d *Daemon) linkedContainer(me, link string) (*Container, *network.Endpoint, error) {
	name, alias := parseLink(link)
	other, err := d.GetContainer(name)
	if err != nil {
		return nil, nil, errdefs.Invalid("could not get container for %s: %v", name, err)
	}
	ep, ok := d.networks.Endpoint(other.ID)
	if !ok || !other.IsRunning() {
		return nil, nil, errdefs.Conflict("Cannot link to a non running container: /%s AS /%s/%s", name, me, alias)
	}
	return other, ep, nil
}

// linkEnv is the environment the links of a container on the default
// bridge give it; the container's own variables win over them.
func (d *Daemon) linkEnv(c *Container) ([]string, error) {
	c.mu.Lock()
	me, links, own := c.Name, c.HostConfig.Links, c.Config.Env
	mode := parseNetMode(c.HostConfig.NetworkMode)
	c.mu.Unlock()
	if mode.kind != "bridge" || mode.arg != network.DefaultNetwork {
		return nil, nil
	}
	var env []string
	for _, l := range links {
		other, ep, err := d.linkedContainer(me, l)
		if err != nil {
			return nil, err
		}
		if ep.Network != network.DefaultNetwork {
			return nil, fmt.Errorf("Cannot link to /%s, as it does not belong to the default network", ep.Name)
		}
		other.mu.Lock()
		otherEnv, ports := append([]string(nil), other.Config.Env...), exposedPorts(other.Config)
		other.mu.Unlock()
		_, alias := parseLink(l)
		env = append(env, linkVars("/"+me+"/"+alias, ep.IP.String(), ports, otherEnv)...)
	}
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.ContainsFunc(own, func(o string) bool { return strings.HasPrefix(o, k+"=") })
	}), nil
}

// linkVars are docker's variables for one link: linkName is "/me/alias",
// ip the linked container's address, ports its exposed ports and env its
// environment.
func linkVars(linkName, ip string, ports []mobynet.Port, env []string) []string {
	alias := strings.ReplaceAll(strings.ToUpper(linkName[strings.LastIndex(linkName, "/")+1:]), "-", "_")
	ports = slices.Clone(ports)
	slices.SortFunc(ports, tcpFirst)
	url := func(p mobynet.Port) string { return fmt.Sprintf("%s://%s:%d", p.Proto(), ip, p.Num()) }
	prefix := func(p mobynet.Port) string {
		return fmt.Sprintf("%s_PORT_%d_%s", alias, p.Num(), strings.ToUpper(string(p.Proto())))
	}
	var out []string
	if len(ports) > 0 {
		out = append(out, alias+"_PORT="+url(ports[0]))
	}
	for i := 0; i < len(ports); {
		// a run of consecutive ports of one protocol also gets _START/_END
		j := i
		for j+1 < len(ports) && ports[j+1].Proto() == ports[i].Proto() && ports[j+1].Num() == ports[j].Num()+1 {
			j++
		}
		for _, p := range ports[i : j+1] {
			out = append(out, prefix(p)+"="+url(p), prefix(p)+"_ADDR="+ip,
				fmt.Sprintf("%s_PORT=%d", prefix(p), p.Num()), prefix(p)+"_PROTO="+string(p.Proto()))
		}
		if j > i {
			first, last := ports[i], ports[j]
			out = append(out, prefix(first)+"_START="+url(first), fmt.Sprintf("%s_PORT_START=%d", prefix(first), first.Num()),
				prefix(first)+"_END="+url(last), fmt.Sprintf("%s_PORT_END=%d", prefix(first), last.Num()))
		}
		i = j + 1
	}
	out = append(out, alias+"_NAME="+linkName)
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "HOME" && k != "PATH" {
			out = append(out, alias+"_ENV_"+k+"="+v)
		}
	}
	return out
}

// tcpFirst orders ports as docker's links do: TCP ones first, then by
// protocol name, each by number.
func tcpFirst(a, b mobynet.Port) int {
	if a.Proto() != b.Proto() {
		switch {
		case a.Proto() == "tcp":
			return -1
		case b.Proto() == "tcp":
			return 1
		}
		return strings.Compare(string(a.Proto()), string(b.Proto()))
	}
	return int(a.Num()) - int(b.Num())
}

// RemoveLink is `docker rm --link /me/alias`: me's link called alias goes
// from its record. Like docker, it does not touch the running container
// (its variables are fixed at start); from its next start it has no link.
func (d *Daemon) RemoveLink(name string) error {
	me, alias := path.Split("/" + strings.TrimPrefix(name, "/"))
	me = strings.Trim(me, "/")
	if me == "" {
		return errdefs.Conflict("Conflict, cannot remove the default link name of the container")
	}
	c, err := d.GetContainer(me)
	if err != nil {
		return errdefs.NotFound("Cannot get parent /%s for link name %s", me, name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.HostConfig.Links, func(l string) bool { _, a := parseLink(l); return a == alias })
	if i < 0 {
		return errdefs.NotFound("No such container: %s", name)
	}
	c.HostConfig.Links = slices.Delete(slices.Clone(c.HostConfig.Links), i, i+1)
	return c.save()
}

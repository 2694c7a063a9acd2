package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// registerNetworkRoutes adds the network endpoints of the Engine API:
// list, inspect, create and remove (docker's `network ls|inspect|create|rm`).
func (s *Server) registerNetworkRoutes() {
	s.routes.handle("GET", "/networks", s.listNetworks)
	s.routes.handle("GET", "/networks/{id}", s.inspectNetwork)
	s.routes.handle("POST", "/networks/create", s.createNetwork)
	s.routes.handle("DELETE", "/networks/{id}", s.removeNetwork)
}

// networkError gives a network package error the HTTP status dockerd uses.
func networkError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not found"):
		return errdefs.NotFound("%s", msg)
	case strings.Contains(msg, "already exists"):
		return errdefs.Conflict("%s", msg)
	case strings.Contains(msg, "pre-defined network"), strings.Contains(msg, "active endpoints"), strings.Contains(msg, "overlaps"):
		return errdefs.Forbidden("%s", msg)
	case strings.Contains(msg, "ambiguous"), strings.Contains(msg, "invalid"), strings.Contains(msg, "no matching subnet"), strings.Contains(msg, "required"):
		return errdefs.Invalid("%s", msg)
	}
	return err
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	m := s.daemon.Networks()
	if m == nil {
		return errdefs.Unavailable("networking is not initialised")
	}
	var filters map[string][]string
	if f := r.URL.Query().Get("filters"); f != "" {
		var err error
		if filters, err = parseFilters(f, "name", "id", "driver", "scope", "type", "label"); err != nil {
			return err
		}
	}
	out := []mobynet.Summary{}
	for _, n := range m.ListNetworks() {
		if matchNetwork(filters, n.Network) {
			out = append(out, n)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// matchNetwork applies `network ls --filter` (name, id, driver, scope,
// type; label, whose values are AND'ed).
func matchNetwork(f map[string][]string, n mobynet.Network) bool {
	if !daemon.MatchLabels(f["label"], n.Labels) {
		return false
	}
	for key, values := range f {
		if len(values) == 0 || key == "label" {
			continue
		}
		ok := false
		for _, v := range values {
			switch key {
			case "name":
				ok = ok || strings.Contains(n.Name, v)
			case "id":
				ok = ok || strings.HasPrefix(n.ID, v)
			case "driver":
				ok = ok || n.Driver == v
			case "scope":
				ok = ok || n.Scope == v
			case "type":
				predefined := n.Name == "bridge" || n.Name == "host" || n.Name == "none"
				ok = ok || (v == "builtin" && predefined) || (v == "custom" && !predefined)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	m := s.daemon.Networks()
	if m == nil {
		return errdefs.Unavailable("networking is not initialised")
	}
	res, err := m.InspectNetwork(v["id"])
	if err != nil {
		return networkError(err)
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	m := s.daemon.Networks()
	if m == nil {
		return errdefs.Unavailable("networking is not initialised")
	}
	var req mobynet.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return errdefs.NotFound("plugin %q not found", req.Driver)
	}
	var subnet, gateway string
	if req.IPAM != nil {
		if len(req.IPAM.Config) > 1 {
			return errdefs.Invalid("only one subnet per network is supported")
		}
		if len(req.IPAM.Config) == 1 {
			c := req.IPAM.Config[0]
			if c.Subnet.IsValid() {
				subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				gateway = c.Gateway.String()
			}
			if gateway != "" && subnet == "" {
				return errdefs.Invalid("invalid gateway %s: a gateway needs a subnet", gateway)
			}
		}
	}
	id, err := m.CreateNetwork(req.Name, subnet, gateway, req.Labels)
	if err != nil {
		return networkError(err)
	}
	return writeJSON(w, http.StatusCreated, mobynet.CreateResponse{ID: id})
}

func (s *Server) removeNetwork(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	m := s.daemon.Networks()
	if m == nil {
		return errdefs.Unavailable("networking is not initialised")
	}
	return noContent(w, networkError(m.RemoveNetwork(v["id"])))
}

// containerInspectJSON adds the top-level NetworkSettings fields that API
// versions before 1.52 carry (IPAddress, Gateway, MacAddress, ... of the
// default bridge: what `docker inspect -f '{{.NetworkSettings.IPAddress}}'`
// prints with docker 28) to a container's inspect answer. The types of
// API 1.52+ no longer have them, so they are merged into the JSON.
func (s *Server) containerInspectJSON(r *http.Request, resp *container.InspectResponse) any {
	if resp == nil || resp.NetworkSettings == nil {
		return resp
	}
	if m := versionPrefix().FindStringSubmatch(r.URL.Path); m != nil && compareVersions(m[1]+"."+m[2], "1.52") >= 0 {
		return resp
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return resp
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil {
		return resp
	}
	var ns map[string]any
	if json.Unmarshal(doc["NetworkSettings"], &ns) != nil {
		return resp
	}
	f := s.daemon.LegacyNetworkSettings(resp.ID)
	for k, v := range map[string]any{
		"Bridge": f.Bridge, "HairpinMode": f.HairpinMode, "EndpointID": f.EndpointID,
		"Gateway": f.Gateway, "IPAddress": f.IPAddress, "IPPrefixLen": f.IPPrefixLen,
		"MacAddress": f.MacAddress, "IPv6Gateway": "", "GlobalIPv6Address": "",
		"GlobalIPv6PrefixLen": 0, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
		"SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil,
	} {
		if _, ok := ns[k]; !ok {
			ns[k] = v
		}
	}
	nb, err := json.Marshal(ns)
	if err != nil {
		return resp
	}
	doc["NetworkSettings"] = nb
	return doc
}

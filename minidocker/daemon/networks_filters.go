package daemon

import (
	"regexp"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/network"
)

// `network ls --filter`, as dockerd reads it: name and id are regular
// expressions (a plain word matches anywhere in the name or the ID), driver
// and scope must be equal, label=k and label=k=v must all hold, type is
// builtin or custom, and dangling=true keeps the user-defined networks no
// running container is on. Different keys are ANDed, values of one key ORed.

// NetworkFilters are the keys `network ls --filter` understands; the API
// refuses others.
var NetworkFilters = []string{"name", "id", "driver", "scope", "type", "label", "dangling"}

// ListNetworks is `docker network ls` with its filters.
func (d *Daemon) ListNetworks(filters map[string][]string) ([]mobynet.Summary, error) {
	m, err := d.netManager()
	if err != nil {
		return nil, err
	}
	if err := checkNetworkFilters(filters); err != nil {
		return nil, err
	}
	inUse := map[string]bool{}
	for _, ep := range m.Endpoints() {
		inUse[ep.NetworkID] = true
	}
	out := []mobynet.Summary{}
	for _, n := range m.ListNetworks() {
		if matchNetwork(filters, n.Network, inUse[n.ID]) {
			out = append(out, n)
		}
	}
	return out, nil
}

// checkNetworkFilters refuses the values dockerd refuses, in its words.
func checkNetworkFilters(f map[string][]string) error {
	if vs := f["dangling"]; len(vs) > 1 {
		return errdefs.Invalid(`got more than one value for filter key "dangling"`)
	}
	for _, v := range f["dangling"] {
		if _, ok := parseDangling(v); !ok {
			return errdefs.Invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`)
		}
	}
	for _, v := range f["type"] {
		if v != "builtin" && v != "custom" {
			return errdefs.Invalid("invalid filter: 'type'='%s'", v)
		}
	}
	return nil
}

func parseDangling(v string) (dangling, ok bool) {
	switch v {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	return false, false
}

// matchNetwork applies the filters to n; inUse tells whether a running
// container is on it (for dangling).
func matchNetwork(f map[string][]string, n mobynet.Network, inUse bool) bool {
	return matchesFilters(f, n.Labels, func(key, v string) bool {
		return networkFilterMatches(key, v, n, inUse)
	})
}

// networkFilterMatches tells whether one filter key=value selects n.
func networkFilterMatches(key, v string, n mobynet.Network, inUse bool) bool {
	predefined := n.Name == network.DefaultNetwork || n.Name == "host" || n.Name == "none"
	switch key {
	case "name":
		return patternMatches(v, n.Name)
	case "id":
		return patternMatches(v, n.ID)
	case "driver":
		return n.Driver == v
	case "scope":
		return n.Scope == v
	case "type":
		return (v == "builtin" && predefined) || (v == "custom" && !predefined)
	case "dangling":
		// the pre-defined networks are never dangling, as in docker
		dangling, _ := parseDangling(v)
		return dangling == (!predefined && !inUse)
	}
	return false
}

// patternMatches is dockerd's match of a name or id filter: the value
// itself, or a regular expression found in s.
func patternMatches(pattern, s string) bool {
	if pattern == s || strings.Contains(s, pattern) {
		return true
	}
	ok, err := regexp.MatchString(pattern, s)
	return err == nil && ok
}

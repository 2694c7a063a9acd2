package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/network"
)

// NetworkCreateOptions is POST /networks/create. The daemon refuses what
// it does not implement (a scope, swarm's ingress, config-only networks).
type NetworkCreateOptions struct {
	Driver     string
	Scope      string
	EnableIPv4 *bool
	EnableIPv6 *bool
	IPAM       *network.IPAM
	Internal   bool
	Attachable bool
	Ingress    bool
	ConfigOnly bool
	ConfigFrom string
	Options    map[string]string
	Labels     map[string]string
}

// NetworkCreateResult is the new network's ID and the daemon's warning.
type NetworkCreateResult struct {
	ID      string
	Warning []string
}

// NetworkCreate creates a network.
func (c *Client) NetworkCreate(ctx context.Context, name string, o NetworkCreateOptions) (NetworkCreateResult, error) {
	body := network.CreateRequest{
		Name: name, Driver: o.Driver, Scope: o.Scope, EnableIPv4: o.EnableIPv4, EnableIPv6: o.EnableIPv6,
		IPAM: o.IPAM, Internal: o.Internal, Attachable: o.Attachable, Ingress: o.Ingress,
		ConfigOnly: o.ConfigOnly, Options: o.Options, Labels: o.Labels,
	}
	if o.ConfigFrom != "" {
		body.ConfigFrom = &network.ConfigReference{Network: o.ConfigFrom}
	}
	var res network.CreateResponse
	err := c.call(ctx, request{method: http.MethodPost, path: "/networks/create", body: body}, &res)
	out := NetworkCreateResult{ID: res.ID}
	if res.Warning != "" {
		out.Warning = []string{res.Warning}
	}
	return out, err
}

// NetworkInspectOptions is GET /networks/{id}.
type NetworkInspectOptions struct {
	Verbose bool
}

// NetworkInspectResult is the network, decoded and as the daemon sent it.
type NetworkInspectResult struct {
	Network network.Inspect
	Raw     json.RawMessage
}

// NetworkInspect returns a network's record.
func (c *Client) NetworkInspect(ctx context.Context, id string, o NetworkInspectOptions) (NetworkInspectResult, error) {
	id, err := checkID("network", id)
	if err != nil {
		return NetworkInspectResult{}, err
	}
	q := url.Values{}
	if o.Verbose {
		q.Set("verbose", "true")
	}
	var res NetworkInspectResult
	if err := c.call(ctx, request{method: http.MethodGet, path: "/networks/" + id, query: q}, &res.Raw); err != nil {
		return NetworkInspectResult{}, err
	}
	err = json.Unmarshal(res.Raw, &res.Network)
	return res, err
}

// NetworkListOptions is GET /networks.
type NetworkListOptions struct {
	Filters Filters
}

// NetworkListResult is what `network ls` prints.
type NetworkListResult struct {
	Items []network.Summary
}

// NetworkList lists networks.
func (c *Client) NetworkList(ctx context.Context, o NetworkListOptions) (NetworkListResult, error) {
	q := url.Values{}
	o.Filters.encode(q)
	var res NetworkListResult
	err := c.call(ctx, request{method: http.MethodGet, path: "/networks", query: q}, &res.Items)
	return res, err
}

// NetworkRemoveOptions is DELETE /networks/{id}.
type NetworkRemoveOptions struct{}

// NetworkRemoveResult is empty.
type NetworkRemoveResult struct{}

// NetworkRemove deletes a network.
func (c *Client) NetworkRemove(ctx context.Context, id string, _ NetworkRemoveOptions) (NetworkRemoveResult, error) {
	id, err := checkID("network", id)
	if err != nil {
		return NetworkRemoveResult{}, err
	}
	return NetworkRemoveResult{}, c.call(ctx, request{method: http.MethodDelete, path: "/networks/" + id}, nil)
}

// NetworkConnectOptions is POST /networks/{id}/connect.
type NetworkConnectOptions struct {
	Container      string
	EndpointConfig *network.EndpointSettings
}

// NetworkConnectResult is empty.
type NetworkConnectResult struct{}

// NetworkConnect attaches a container to a network.
func (c *Client) NetworkConnect(ctx context.Context, id string, o NetworkConnectOptions) (NetworkConnectResult, error) {
	id, err := checkID("network", id)
	if err != nil {
		return NetworkConnectResult{}, err
	}
	body := network.ConnectRequest{Container: o.Container, EndpointConfig: o.EndpointConfig}
	return NetworkConnectResult{}, c.call(ctx, request{method: http.MethodPost, path: "/networks/" + id + "/connect", body: body}, nil)
}

// NetworkDisconnectOptions is POST /networks/{id}/disconnect.
type NetworkDisconnectOptions struct {
	Container string
	Force     bool
}

// NetworkDisconnectResult is empty.
type NetworkDisconnectResult struct{}

// NetworkDisconnect detaches a container from a network.
func (c *Client) NetworkDisconnect(ctx context.Context, id string, o NetworkDisconnectOptions) (NetworkDisconnectResult, error) {
	id, err := checkID("network", id)
	if err != nil {
		return NetworkDisconnectResult{}, err
	}
	body := network.DisconnectRequest{Container: o.Container, Force: o.Force}
	return NetworkDisconnectResult{}, c.call(ctx, request{method: http.MethodPost, path: "/networks/" + id + "/disconnect", body: body}, nil)
}

// NetworkPruneOptions is POST /networks/prune.
type NetworkPruneOptions struct {
	Filters Filters
}

// NetworkPruneResult lists the removed networks.
type NetworkPruneResult struct {
	Report network.PruneReport
}

// NetworkPrune removes every network no container uses.
func (c *Client) NetworkPrune(ctx context.Context, o NetworkPruneOptions) (NetworkPruneResult, error) {
	q := url.Values{}
	o.Filters.encode(q)
	var res NetworkPruneResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/networks/prune", query: q}, &res.Report)
	return res, err
}

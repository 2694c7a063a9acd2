package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/volume"
)

// VolumeCreateOptions is POST /volumes/create.
type VolumeCreateOptions struct {
	Name       string
	Driver     string
	DriverOpts map[string]string
	Labels     map[string]string
}

// VolumeCreateResult is the new volume.
type VolumeCreateResult struct {
	Volume volume.Volume
}

// VolumeCreate creates a volume (or returns the one of that name).
func (c *Client) VolumeCreate(ctx context.Context, o VolumeCreateOptions) (VolumeCreateResult, error) {
	body := volume.CreateRequest{Name: o.Name, Driver: o.Driver, DriverOpts: o.DriverOpts, Labels: o.Labels}
	var res VolumeCreateResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/volumes/create", body: body}, &res.Volume)
	return res, err
}

// VolumeInspectOptions is GET /volumes/{name}.
type VolumeInspectOptions struct{}

// VolumeInspectResult is the volume, decoded and as the daemon sent it.
type VolumeInspectResult struct {
	Volume volume.Volume
	Raw    json.RawMessage
}

// VolumeInspect returns a volume's record.
func (c *Client) VolumeInspect(ctx context.Context, name string, _ VolumeInspectOptions) (VolumeInspectResult, error) {
	name, err := checkID("volume", name)
	if err != nil {
		return VolumeInspectResult{}, err
	}
	var res VolumeInspectResult
	if err := c.call(ctx, request{method: http.MethodGet, path: "/volumes/" + name}, &res.Raw); err != nil {
		return VolumeInspectResult{}, err
	}
	err = json.Unmarshal(res.Raw, &res.Volume)
	return res, err
}

// VolumeListOptions is GET /volumes.
type VolumeListOptions struct {
	Filters Filters
}

// VolumeListResult is what `volume ls` prints.
type VolumeListResult struct {
	Items    []volume.Volume
	Warnings []string
}

// VolumeList lists volumes.
func (c *Client) VolumeList(ctx context.Context, o VolumeListOptions) (VolumeListResult, error) {
	q := url.Values{}
	o.Filters.encode(q)
	var res volume.ListResponse
	err := c.call(ctx, request{method: http.MethodGet, path: "/volumes", query: q}, &res)
	return VolumeListResult{Items: res.Volumes, Warnings: res.Warnings}, err
}

// VolumeRemoveOptions is DELETE /volumes/{name}.
type VolumeRemoveOptions struct {
	Force bool
}

// VolumeRemoveResult is empty.
type VolumeRemoveResult struct{}

// VolumeRemove deletes a volume.
func (c *Client) VolumeRemove(ctx context.Context, name string, o VolumeRemoveOptions) (VolumeRemoveResult, error) {
	name, err := checkID("volume", name)
	if err != nil {
		return VolumeRemoveResult{}, err
	}
	q := url.Values{}
	flag(q, "force", o.Force)
	return VolumeRemoveResult{}, c.call(ctx, request{method: http.MethodDelete, path: "/volumes/" + name, query: q}, nil)
}

// VolumePruneOptions is POST /volumes/prune.
type VolumePruneOptions struct {
	All     bool // named volumes too, not only anonymous ones
	Filters Filters
}

// VolumePruneResult is what went and the space it freed.
type VolumePruneResult struct {
	Report volume.PruneReport
}

// VolumePrune removes unused volumes.
func (c *Client) VolumePrune(ctx context.Context, o VolumePruneOptions) (VolumePruneResult, error) {
	f := o.Filters
	if o.All {
		if _, ok := f["all"]; ok {
			return VolumePruneResult{}, invalid(`conflicting options: cannot specify both "all" and "all" filter`)
		}
		f = Filters{}
		for k, v := range o.Filters {
			f[k] = v
		}
		f.Add("all", "true")
	}
	q := url.Values{}
	f.encode(q)
	var res VolumePruneResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/volumes/prune", query: q}, &res.Report)
	return res, err
}

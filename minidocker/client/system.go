package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
)

// InfoOptions is GET /info.
type InfoOptions struct{}

// SystemInfoResult is what `info` prints.
type SystemInfoResult struct {
	Info system.Info
}

// Info returns the daemon's system-wide information.
func (c *Client) Info(ctx context.Context, _ InfoOptions) (SystemInfoResult, error) {
	var res SystemInfoResult
	err := c.call(ctx, request{method: http.MethodGet, path: "/info"}, &res.Info)
	return res, err
}

// ServerVersionOptions is GET /version.
type ServerVersionOptions struct{}

// PlatformInfo names the daemon's product.
type PlatformInfo struct {
	Name string
}

// ServerVersionResult is the daemon's half of `version`.
type ServerVersionResult struct {
	Platform      PlatformInfo
	Version       string
	APIVersion    string
	MinAPIVersion string
	Os            string
	Arch          string
	Components    []system.ComponentVersion
}

// ServerVersion asks the daemon for its version.
func (c *Client) ServerVersion(ctx context.Context, _ ServerVersionOptions) (ServerVersionResult, error) {
	var v system.VersionResponse
	if err := c.call(ctx, request{method: http.MethodGet, path: "/version"}, &v); err != nil {
		return ServerVersionResult{}, err
	}
	return ServerVersionResult{
		Platform: PlatformInfo{Name: v.Platform.Name}, Version: v.Version, APIVersion: v.APIVersion,
		MinAPIVersion: v.MinAPIVersion, Os: v.Os, Arch: v.Arch, Components: v.Components,
	}, nil
}

// RegistryLoginOptions is POST /auth.
type RegistryLoginOptions struct {
	Username      string
	Password      string
	ServerAddress string
	IdentityToken string
	RegistryToken string
}

// RegistryLoginResult is the registry's answer.
type RegistryLoginResult struct {
	Auth registry.AuthResponse
}

// RegistryLogin has the daemon check credentials against a registry.
func (c *Client) RegistryLogin(ctx context.Context, o RegistryLoginOptions) (RegistryLoginResult, error) {
	body := registry.AuthConfig{
		Username: o.Username, Password: o.Password, ServerAddress: o.ServerAddress,
		IdentityToken: o.IdentityToken, RegistryToken: o.RegistryToken,
	}
	var res RegistryLoginResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/auth", body: body}, &res.Auth)
	return res, err
}

// EventsListOptions is GET /events. Since and Until go to the daemon as
// they are (a Unix timestamp, or whatever the daemon accepts).
type EventsListOptions struct {
	Since   string
	Until   string
	Filters Filters
}

// EventsResult delivers events on Messages until the stream ends; then Err
// receives why (io.EOF when the daemon closed it after Until).
type EventsResult struct {
	Messages <-chan events.Message
	Err      <-chan error
}

// Events streams the daemon's events. The request is made before Events
// returns, so no event after the call is missed.
func (c *Client) Events(ctx context.Context, o EventsListOptions) EventsResult {
	msgs := make(chan events.Message)
	errs := make(chan error, 1)
	q := url.Values{}
	setString(q, "since", o.Since)
	setString(q, "until", o.Until)
	o.Filters.encode(q)
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/events", query: q})
	if err != nil {
		errs <- err
		return EventsResult{Messages: msgs, Err: errs}
	}
	go func() {
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var m events.Message
			if err := dec.Decode(&m); err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				errs <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
		}
	}()
	return EventsResult{Messages: msgs, Err: errs}
}

// DiskUsageOptions is GET /system/df: which object types to count (none:
// all of them) and whether to list each object.
type DiskUsageOptions struct {
	Containers bool
	Images     bool
	BuildCache bool
	Volumes    bool
	Verbose    bool
}

// DiskUsageResult is the usage of each object type.
type DiskUsageResult struct {
	Containers ContainersDiskUsage
	Images     ImagesDiskUsage
	BuildCache BuildCacheDiskUsage
	Volumes    VolumesDiskUsage
}

// ContainersDiskUsage is the containers' writable layers.
type ContainersDiskUsage struct {
	ActiveCount, TotalCount, Reclaimable, TotalSize int64
	Items                                           []container.Summary
}

// ImagesDiskUsage is the images' layers.
type ImagesDiskUsage struct {
	ActiveCount, TotalCount, Reclaimable, TotalSize int64
	Items                                           []image.Summary
}

// VolumesDiskUsage is the volumes' data.
type VolumesDiskUsage struct {
	ActiveCount, TotalCount, Reclaimable, TotalSize int64
	Items                                           []volume.Volume
}

// BuildCacheDiskUsage is the build cache.
type BuildCacheDiskUsage struct {
	ActiveCount, TotalCount, Reclaimable, TotalSize int64
	Items                                           []build.CacheRecord
}

// DiskUsage reads /system/df. API 1.51 answers with lists of objects (the
// per-type totals came in 1.52), so the totals are computed here from them.
func (c *Client) DiskUsage(ctx context.Context, o DiskUsageOptions) (DiskUsageResult, error) {
	q := url.Values{}
	for _, t := range []struct {
		on   bool
		name system.DiskUsageObject
	}{{o.Containers, system.ContainerObject}, {o.Images, system.ImageObject}, {o.Volumes, system.VolumeObject}, {o.BuildCache, system.BuildCacheObject}} {
		if t.on {
			q.Add("type", string(t.name))
		}
	}
	var du struct {
		LayersSize int64
		Images     []image.Summary
		Containers []container.Summary
		Volumes    []volume.Volume
		BuildCache []build.CacheRecord
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "/system/df", query: q}, &du); err != nil {
		return DiskUsageResult{}, err
	}
	res := DiskUsageResult{
		Images:     imagesUsage(du.LayersSize, du.Images),
		Containers: containersUsage(du.Containers),
		Volumes:    volumesUsage(du.Volumes),
		BuildCache: buildCacheUsage(du.BuildCache),
	}
	if !o.Verbose { // the totals only, as API 1.52 answers without verbose
		res.Images.Items, res.Containers.Items, res.Volumes.Items, res.BuildCache.Items = nil, nil, nil, nil
	}
	return res, nil
}

// imagesUsage: an image is active when a container uses it; an unused
// image frees what it does not share with others.
func imagesUsage(layers int64, items []image.Summary) ImagesDiskUsage {
	u := ImagesDiskUsage{TotalSize: layers, TotalCount: int64(len(items)), Items: items}
	for _, img := range items {
		switch {
		case img.Containers > 0:
			u.ActiveCount++
		case img.Containers == 0 && img.Size != -1 && img.SharedSize != -1:
			u.Reclaimable += img.Size - img.SharedSize
		}
	}
	return u
}

// containersUsage: the writable layer of a stopped container is reclaimable.
func containersUsage(items []container.Summary) ContainersDiskUsage {
	u := ContainersDiskUsage{TotalCount: int64(len(items)), Items: items}
	var used int64
	for _, ct := range items {
		u.TotalSize += ct.SizeRw
		switch ct.State {
		case container.StateRunning, container.StatePaused, container.StateRestarting:
			u.ActiveCount++
			used += ct.SizeRw
		}
	}
	u.Reclaimable = u.TotalSize - used
	return u
}

// volumesUsage: a volume some container refers to is active.
func volumesUsage(items []volume.Volume) VolumesDiskUsage {
	u := VolumesDiskUsage{TotalCount: int64(len(items)), Items: items}
	var used int64
	for _, v := range items {
		if v.UsageData == nil {
			continue
		}
		if v.UsageData.RefCount > 0 {
			u.ActiveCount++
			used += v.UsageData.Size
		}
		if v.UsageData.Size > 0 {
			u.TotalSize += v.UsageData.Size
		}
	}
	u.Reclaimable = u.TotalSize - used
	return u
}

// buildCacheUsage: shared records are counted once, by their owner.
func buildCacheUsage(items []build.CacheRecord) BuildCacheDiskUsage {
	u := BuildCacheDiskUsage{TotalCount: int64(len(items)), Items: items}
	var used int64
	for _, r := range items {
		if !r.Shared {
			u.TotalSize += r.Size
		}
		if r.InUse {
			u.ActiveCount++
			if !r.Shared {
				used += r.Size
			}
		}
	}
	u.Reclaimable = u.TotalSize - used
	return u
}

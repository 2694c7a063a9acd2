package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/build"
)

// BuildCachePruneOptions is POST /build/prune.
type BuildCachePruneOptions struct {
	All     bool
	Filters Filters
}

// BuildCachePruneResult is what the daemon says it removed. minidocker's
// builder keeps its cache as images, so its answer is always empty.
type BuildCachePruneResult struct {
	Report build.CachePruneReport
}

// BuildCachePrune asks the daemon to drop its build cache (what `docker
// system prune` calls last).
func (c *Client) BuildCachePrune(ctx context.Context, o BuildCachePruneOptions) (BuildCachePruneResult, error) {
	q := url.Values{}
	if o.All {
		q.Set("all", "1")
	}
	o.Filters.encode(q)
	var res BuildCachePruneResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/build/prune", query: q}, &res.Report)
	return res, err
}

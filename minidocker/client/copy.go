package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/container"
)

// ContainerStatPathOptions is HEAD /containers/{id}/archive.
type ContainerStatPathOptions struct {
	Path string
}

// ContainerStatPathResult describes a path in a container.
type ContainerStatPathResult struct {
	Stat container.PathStat
}

// ContainerStatPath stats a path inside a container (`cp` uses it to learn
// whether the destination is a directory).
func (c *Client) ContainerStatPath(ctx context.Context, id string, o ContainerStatPathOptions) (ContainerStatPathResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerStatPathResult{}, err
	}
	q := url.Values{"path": {filepath.ToSlash(o.Path)}}
	resp, err := c.do(ctx, request{method: http.MethodHead, path: "/containers/" + id + "/archive", query: q})
	if err != nil {
		return ContainerStatPathResult{}, err
	}
	resp.Body.Close()
	stat, err := pathStat(resp.Header)
	return ContainerStatPathResult{Stat: stat}, err
}

// CopyFromContainerOptions is GET /containers/{id}/archive.
type CopyFromContainerOptions struct {
	SourcePath string
}

// CopyFromContainerResult is a tar stream of the path, and its stat.
type CopyFromContainerResult struct {
	Content io.ReadCloser
	Stat    container.PathStat
}

// CopyFromContainer reads a path out of a container as a tar stream.
func (c *Client) CopyFromContainer(ctx context.Context, id string, o CopyFromContainerOptions) (CopyFromContainerResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return CopyFromContainerResult{}, err
	}
	q := url.Values{"path": {filepath.ToSlash(o.SourcePath)}}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/containers/" + id + "/archive", query: q})
	if err != nil {
		return CopyFromContainerResult{}, err
	}
	stat, err := pathStat(resp.Header)
	if err != nil {
		resp.Body.Close()
		return CopyFromContainerResult{}, fmt.Errorf("unable to get resource stat from response: %s", err)
	}
	return CopyFromContainerResult{Content: resp.Body, Stat: stat}, nil
}

// CopyToContainerOptions is PUT /containers/{id}/archive.
type CopyToContainerOptions struct {
	DestinationPath           string
	Content                   io.Reader // a tar stream
	AllowOverwriteDirWithFile bool
	CopyUIDGID                bool
}

// CopyToContainerResult is empty.
type CopyToContainerResult struct{}

// CopyToContainer extracts a tar stream into a directory of a container.
func (c *Client) CopyToContainer(ctx context.Context, id string, o CopyToContainerOptions) (CopyToContainerResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return CopyToContainerResult{}, err
	}
	q := url.Values{"path": {filepath.ToSlash(o.DestinationPath)}}
	if !o.AllowOverwriteDirWithFile {
		q.Set("noOverwriteDirNonDir", "true")
	}
	if o.CopyUIDGID {
		q.Set("copyUIDGID", "true")
	}
	body := o.Content
	if body == nil {
		body = http.NoBody
	}
	return CopyToContainerResult{}, c.call(ctx, request{method: http.MethodPut, path: "/containers/" + id + "/archive", query: q, body: body}, nil)
}

// pathStat decodes the X-Docker-Container-Path-Stat header: base64 of JSON.
func pathStat(h http.Header) (container.PathStat, error) {
	var st container.PathStat
	dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(h.Get("X-Docker-Container-Path-Stat")))
	if err := json.NewDecoder(dec).Decode(&st); err != nil {
		return st, fmt.Errorf("unable to decode container path stat header: %s", err)
	}
	return st, nil
}

package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"

	"github.com/minidocker/minidocker/minidocker/reference"
)

// ImageListOptions is GET /images/json.
type ImageListOptions struct {
	All     bool
	Filters Filters
}

// ImageListResult is what `images` prints.
type ImageListResult struct {
	Items []image.Summary
}

// ImageList lists images.
func (c *Client) ImageList(ctx context.Context, o ImageListOptions) (ImageListResult, error) {
	q := url.Values{}
	flag(q, "all", o.All)
	o.Filters.encode(q)
	var res ImageListResult
	err := c.call(ctx, request{method: http.MethodGet, path: "/images/json", query: q}, &res.Items)
	return res, err
}

// ImageInspectOption adjusts ImageInspect.
type ImageInspectOption func(*imageInspectOpts)

type imageInspectOpts struct {
	raw *bytes.Buffer
}

// ImageInspectWithRawResponse also copies the daemon's JSON into raw.
func ImageInspectWithRawResponse(raw *bytes.Buffer) ImageInspectOption {
	return func(o *imageInspectOpts) { o.raw = raw }
}

// ImageInspectResult is the image's record.
type ImageInspectResult struct {
	image.InspectResponse
}

// ImageInspect returns an image's record. An empty reference is a not-found
// without asking the daemon, as docker's client does.
func (c *Client) ImageInspect(ctx context.Context, ref string, opts ...ImageInspectOption) (ImageInspectResult, error) {
	if ref == "" {
		return ImageInspectResult{}, cerrdefs.ErrNotFound.WithMessage("Error: No such image: ")
	}
	var o imageInspectOpts
	for _, opt := range opts {
		opt(&o)
	}
	buf := o.raw
	if buf == nil {
		buf = &bytes.Buffer{}
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/images/" + ref + "/json"})
	if err != nil {
		return ImageInspectResult{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return ImageInspectResult{}, err
	}
	var res ImageInspectResult
	err = json.Unmarshal(buf.Bytes(), &res)
	return res, err
}

// ImageHistoryResult is the image's layers, newest first.
type ImageHistoryResult struct {
	Items []image.HistoryResponseItem
}

// ImageHistory returns the history of an image.
func (c *Client) ImageHistory(ctx context.Context, ref string) (ImageHistoryResult, error) {
	var res ImageHistoryResult
	err := c.call(ctx, request{method: http.MethodGet, path: "/images/" + ref + "/history"}, &res.Items)
	return res, err
}

// ImagePullOptions is POST /images/create?fromImage=….
type ImagePullOptions struct {
	All          bool
	RegistryAuth string // base64url JSON credentials (registry.AuthConfig)
}

// ImagePullResponse is the pull's progress, a stream of JSON messages.
type ImagePullResponse interface {
	io.ReadCloser
}

// ImagePull pulls an image. The progress stream must be read to the end:
// the pull's own failure arrives in it, after the 200.
func (c *Client) ImagePull(ctx context.Context, ref string, o ImagePullOptions) (ImagePullResponse, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, err
	}
	q := url.Values{"fromImage": {named.Name()}}
	if !o.All {
		q.Set("tag", tagOrDigest(named))
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/images/create", query: q, headers: authHeader(o.RegistryAuth)})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// tagOrDigest is what the API's "tag" parameter carries for a pull: the
// digest if the reference has one, else its tag (latest by default).
func tagOrDigest(named reference.Named) string {
	if d, ok := named.(reference.Digested); ok {
		return d.Digest().String()
	}
	if t, ok := reference.TagNameOnly(named).(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

func authHeader(auth string) http.Header {
	if auth == "" {
		return nil
	}
	return http.Header{registry.AuthHeader: {auth}}
}

// ImagePushOptions is POST /images/{name}/push.
type ImagePushOptions struct {
	All          bool
	RegistryAuth string
}

// ImagePushResponse is the push's progress, a stream of JSON messages.
type ImagePushResponse interface {
	io.ReadCloser
}

// ImagePush pushes an image to its registry.
func (c *Client) ImagePush(ctx context.Context, ref string, o ImagePushOptions) (ImagePushResponse, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, err
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, errors.New("cannot push a digest reference")
	}
	q := url.Values{}
	if !o.All {
		if t, ok := reference.TagNameOnly(named).(reference.Tagged); ok {
			q.Set("tag", t.Tag())
		}
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/images/" + named.Name() + "/push", query: q,
		headers: authHeader(o.RegistryAuth)})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageTagOptions is POST /images/{source}/tag.
type ImageTagOptions struct {
	Source string
	Target string
}

// ImageTagResult is empty.
type ImageTagResult struct{}

// ImageTag gives an image another name. Both names are checked here, as
// docker's client does, so a typo is reported with the name it is in.
func (c *Client) ImageTag(ctx context.Context, o ImageTagOptions) (ImageTagResult, error) {
	if !isImageID(o.Source) {
		if _, err := reference.ParseNormalizedNamed(o.Source); err != nil {
			return ImageTagResult{}, fmt.Errorf("error parsing reference: %q is not a valid repository/tag: %w", o.Source, err)
		}
	}
	if _, err := reference.ParseNormalizedNamed(o.Target); err != nil {
		return ImageTagResult{}, fmt.Errorf("error parsing reference: %q is not a valid repository/tag: %w", o.Target, err)
	}
	q := url.Values{}
	if err := setRepoTag(q, o.Target); err != nil {
		return ImageTagResult{}, err
	}
	return ImageTagResult{}, c.call(ctx, request{method: http.MethodPost, path: "/images/" + o.Source + "/tag", query: q}, nil)
}

// isImageID reports whether s is a full image ID, with or without its
// "sha256:" prefix (a name could never be 64 hex digits after a colon).
func isImageID(s string) bool {
	if d, err := digest.Parse(s); err == nil {
		return d.Validate() == nil
	}
	return len(s) == 64 && digest.NewDigestFromEncoded(digest.SHA256, s).Validate() == nil
}

// ImageRemoveOptions is DELETE /images/{name}.
type ImageRemoveOptions struct {
	Force         bool
	PruneChildren bool
}

// ImageRemoveResult lists the untagged names and deleted images.
type ImageRemoveResult struct {
	Items []image.DeleteResponse
}

// ImageRemove untags an image and deletes it when no name is left.
func (c *Client) ImageRemove(ctx context.Context, ref string, o ImageRemoveOptions) (ImageRemoveResult, error) {
	q := url.Values{}
	flag(q, "force", o.Force)
	if !o.PruneChildren {
		q.Set("noprune", "1")
	}
	var res ImageRemoveResult
	err := c.call(ctx, request{method: http.MethodDelete, path: "/images/" + ref, query: q}, &res.Items)
	return res, err
}

// ImagePruneOptions is POST /images/prune.
type ImagePruneOptions struct {
	Filters Filters
}

// ImagePruneResult is what went and the space it freed.
type ImagePruneResult struct {
	Report image.PruneReport
}

// ImagePrune deletes dangling (or, with dangling=false, unused) images.
func (c *Client) ImagePrune(ctx context.Context, o ImagePruneOptions) (ImagePruneResult, error) {
	q := url.Values{}
	o.Filters.encode(q)
	var res ImagePruneResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/images/prune", query: q}, &res.Report)
	return res, err
}

// ImageSaveResult is the tar archive `save` writes.
type ImageSaveResult interface {
	io.ReadCloser
}

// ImageSave exports images as a docker/OCI archive.
func (c *Client) ImageSave(ctx context.Context, refs []string) (ImageSaveResult, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/images/get", query: url.Values{"names": refs}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageLoadOption adjusts ImageLoad.
type ImageLoadOption func(*imageLoadOpts)

type imageLoadOpts struct {
	quiet bool
}

// ImageLoadWithQuiet asks for no progress output.
func ImageLoadWithQuiet(quiet bool) ImageLoadOption {
	return func(o *imageLoadOpts) { o.quiet = quiet }
}

// ImageLoadResult is the load's output stream.
type ImageLoadResult interface {
	io.ReadCloser
}

// ImageLoad imports the images of a `save` archive.
func (c *Client) ImageLoad(ctx context.Context, input io.Reader, opts ...ImageLoadOption) (ImageLoadResult, error) {
	var o imageLoadOpts
	for _, opt := range opts {
		opt(&o)
	}
	q := url.Values{"quiet": {"0"}}
	if o.quiet {
		q.Set("quiet", "1")
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/images/load", query: q, body: input,
		headers: http.Header{"Content-Type": {"application/x-tar"}}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageImportSource is what `import` reads: Source when SourceName is "-",
// else the URL or path SourceName names.
type ImageImportSource struct {
	Source     io.Reader
	SourceName string
}

// ImageImportOptions is POST /images/create?fromSrc=….
type ImageImportOptions struct {
	Message string
	Changes []string // Dockerfile instructions applied to the config
}

// ImageImportResult is the import's output stream.
type ImageImportResult interface {
	io.ReadCloser
}

// ImageImport makes a one-layer image from a tarball.
func (c *Client) ImageImport(ctx context.Context, src ImageImportSource, ref string, o ImageImportOptions) (ImageImportResult, error) {
	q := url.Values{}
	if ref != "" {
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return nil, err
		}
		q.Set("repo", ref)
	}
	setString(q, "fromSrc", src.SourceName)
	setString(q, "message", o.Message)
	for _, ch := range o.Changes {
		q.Add("changes", ch)
	}
	var body any
	if src.Source != nil {
		body = src.Source
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/images/create", query: q, body: body})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageBuildOptions is POST /build: the options `build` offers.
type ImageBuildOptions struct {
	Tags           []string
	SuppressOutput bool // only the image ID at the end (build -q)
	NoCache        bool
	Remove         bool
	ForceRemove    bool
	PullParent     bool
	Dockerfile     string
	Target         string
	BuildArgs      map[string]*string
	Labels         map[string]string
	NetworkMode    string
	AuthConfigs    map[string]registry.AuthConfig
}

// ImageBuildResult is the build's output, a stream of JSON messages.
type ImageBuildResult struct {
	Body io.ReadCloser
}

// ImageBuild sends a build context (a tar stream) to the daemon's builder.
func (c *Client) ImageBuild(ctx context.Context, buildContext io.Reader, o ImageBuildOptions) (ImageBuildResult, error) {
	q, err := buildQuery(o)
	if err != nil {
		return ImageBuildResult{}, err
	}
	auths, err := json.Marshal(o.AuthConfigs)
	if err != nil {
		return ImageBuildResult{}, err
	}
	h := http.Header{
		"Content-Type":      {"application/x-tar"},
		"X-Registry-Config": {base64.URLEncoding.EncodeToString(auths)},
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/build", query: q, headers: h, body: buildContext})
	if err != nil {
		return ImageBuildResult{}, err
	}
	return ImageBuildResult{Body: resp.Body}, nil
}

func buildQuery(o ImageBuildOptions) (url.Values, error) {
	q := url.Values{}
	if len(o.Tags) > 0 {
		q["t"] = o.Tags
	}
	flag(q, "q", o.SuppressOutput)
	flag(q, "nocache", o.NoCache)
	if !o.Remove {
		q.Set("rm", "0")
	}
	flag(q, "forcerm", o.ForceRemove)
	flag(q, "pull", o.PullParent)
	setString(q, "dockerfile", o.Dockerfile)
	setString(q, "target", o.Target)
	if o.NetworkMode != "" && o.NetworkMode != "default" {
		q.Set("networkmode", o.NetworkMode)
	}
	if len(o.BuildArgs) > 0 {
		b, err := json.Marshal(o.BuildArgs)
		if err != nil {
			return nil, err
		}
		q.Set("buildargs", string(b))
	}
	if len(o.Labels) > 0 {
		b, err := json.Marshal(o.Labels)
		if err != nil {
			return nil, err
		}
		q.Set("labels", string(b))
	}
	return q, nil
}

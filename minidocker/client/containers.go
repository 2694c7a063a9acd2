package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minidocker/minidocker/minidocker/reference"
)

// ContainerCreateOptions is POST /containers/create.
type ContainerCreateOptions struct {
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
	Platform         *ocispec.Platform
	Name             string
	Image            string // the image, when Config does not name it
}

// ContainerCreateResult is the new container's ID and the daemon's warnings.
type ContainerCreateResult struct {
	ID       string
	Warnings []string
}

// ContainerCreate creates a container (it does not start it).
func (c *Client) ContainerCreate(ctx context.Context, o ContainerCreateOptions) (ContainerCreateResult, error) {
	cfg := container.Config{}
	if o.Config != nil {
		cfg = *o.Config
	}
	if o.Image != "" {
		if cfg.Image != "" {
			return ContainerCreateResult{}, invalid("either Image or config.Image should be set")
		}
		cfg.Image = o.Image
	}
	if cfg.Image == "" {
		return ContainerCreateResult{}, invalid("config.Image or Image is required")
	}
	q := url.Values{}
	setString(q, "name", o.Name)
	if o.Platform != nil && o.Platform.OS != "" {
		q.Set("platform", formatPlatform(*o.Platform))
	}
	body := container.CreateRequest{Config: &cfg, HostConfig: o.HostConfig, NetworkingConfig: o.NetworkingConfig}
	var res container.CreateResponse
	err := c.call(ctx, request{method: http.MethodPost, path: "/containers/create", query: q, body: body}, &res)
	return ContainerCreateResult{ID: res.ID, Warnings: res.Warnings}, err
}

// PrepareContainerCreate builds now what encoding/json builds on a
// process's first ContainerCreate: an encoder for each of the ~30 struct
// types a create body can hold (~170 fields, config and host config), made
// the first time a type is encoded whatever the values. That costs a CLI
// about as much as kong's parse of run's line, and depends on nothing, so a
// caller that will create a container can run this on another goroutine
// while it does the rest; ContainerCreate then finds the encoders made.
func PrepareContainerCreate() {
	_, _ = json.Marshal(container.CreateRequest{})
}

// ContainerInspectOptions is GET /containers/{id}/json.
type ContainerInspectOptions struct {
	Size bool // compute SizeRw and SizeRootFs
}

// ContainerInspectResult is the container, decoded and as the daemon sent it.
type ContainerInspectResult struct {
	Container container.InspectResponse
	Raw       json.RawMessage
}

// ContainerInspect returns a container's full record.
func (c *Client) ContainerInspect(ctx context.Context, id string, o ContainerInspectOptions) (ContainerInspectResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerInspectResult{}, err
	}
	q := url.Values{}
	flag(q, "size", o.Size)
	var res ContainerInspectResult
	if err := c.call(ctx, request{method: http.MethodGet, path: "/containers/" + id + "/json", query: q}, &res.Raw); err != nil {
		return ContainerInspectResult{}, err
	}
	err = json.Unmarshal(res.Raw, &res.Container)
	return res, err
}

// ContainerListOptions is GET /containers/json.
type ContainerListOptions struct {
	Size    bool
	All     bool
	Limit   int
	Filters Filters
}

// ContainerListResult is the list `ps` prints.
type ContainerListResult struct {
	Items []container.Summary
}

// ContainerList lists containers.
func (c *Client) ContainerList(ctx context.Context, o ContainerListOptions) (ContainerListResult, error) {
	q := url.Values{}
	flag(q, "all", o.All)
	flag(q, "size", o.Size)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	o.Filters.encode(q)
	var res ContainerListResult
	err := c.call(ctx, request{method: http.MethodGet, path: "/containers/json", query: q}, &res.Items)
	return res, err
}

// ContainerStartOptions is POST /containers/{id}/start (checkpoints are
// not supported: the fields are absent on purpose).
type ContainerStartOptions struct{}

// ContainerStartResult is empty: a start answers 204.
type ContainerStartResult struct{}

// ContainerStart starts a created or stopped container.
func (c *Client) ContainerStart(ctx context.Context, id string, _ ContainerStartOptions) (ContainerStartResult, error) {
	return ContainerStartResult{}, c.post(ctx, "container", id, "/start", nil)
}

// ContainerStopOptions is POST /containers/{id}/stop.
type ContainerStopOptions struct {
	Signal  string
	Timeout *int // seconds before SIGKILL; nil: the container's own
}

// ContainerStopResult is empty.
type ContainerStopResult struct{}

// ContainerStop stops a container: Signal, then SIGKILL after Timeout.
func (c *Client) ContainerStop(ctx context.Context, id string, o ContainerStopOptions) (ContainerStopResult, error) {
	q := url.Values{}
	setInt(q, "t", o.Timeout)
	setString(q, "signal", o.Signal)
	return ContainerStopResult{}, c.post(ctx, "container", id, "/stop", q)
}

// ContainerRestartOptions is POST /containers/{id}/restart.
type ContainerRestartOptions struct {
	Signal  string
	Timeout *int
}

// ContainerRestartResult is empty.
type ContainerRestartResult struct{}

// ContainerRestart stops (as ContainerStop) then starts a container.
func (c *Client) ContainerRestart(ctx context.Context, id string, o ContainerRestartOptions) (ContainerRestartResult, error) {
	q := url.Values{}
	setInt(q, "t", o.Timeout)
	setString(q, "signal", o.Signal)
	return ContainerRestartResult{}, c.post(ctx, "container", id, "/restart", q)
}

// ContainerKillOptions is POST /containers/{id}/kill.
type ContainerKillOptions struct {
	Signal string // name or number; empty: SIGKILL
}

// ContainerKillResult is empty.
type ContainerKillResult struct{}

// ContainerKill sends a signal to the container's main process.
func (c *Client) ContainerKill(ctx context.Context, id string, o ContainerKillOptions) (ContainerKillResult, error) {
	q := url.Values{}
	setString(q, "signal", o.Signal)
	return ContainerKillResult{}, c.post(ctx, "container", id, "/kill", q)
}

// ContainerPauseOptions is POST /containers/{id}/pause.
type ContainerPauseOptions struct{}

// ContainerPauseResult is empty.
type ContainerPauseResult struct{}

// ContainerPause freezes every process of a container.
func (c *Client) ContainerPause(ctx context.Context, id string, _ ContainerPauseOptions) (ContainerPauseResult, error) {
	return ContainerPauseResult{}, c.post(ctx, "container", id, "/pause", nil)
}

// ContainerUnpauseOptions is POST /containers/{id}/unpause.
type ContainerUnpauseOptions struct{}

// ContainerUnpauseResult is empty.
type ContainerUnpauseResult struct{}

// ContainerUnpause thaws a paused container.
func (c *Client) ContainerUnpause(ctx context.Context, id string, _ ContainerUnpauseOptions) (ContainerUnpauseResult, error) {
	return ContainerUnpauseResult{}, c.post(ctx, "container", id, "/unpause", nil)
}

// ContainerRemoveOptions is DELETE /containers/{id}.
type ContainerRemoveOptions struct {
	RemoveVolumes bool
	RemoveLinks   bool
	Force         bool
}

// ContainerRemoveResult is empty.
type ContainerRemoveResult struct{}

// ContainerRemove deletes a container.
func (c *Client) ContainerRemove(ctx context.Context, id string, o ContainerRemoveOptions) (ContainerRemoveResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerRemoveResult{}, err
	}
	q := url.Values{}
	flag(q, "v", o.RemoveVolumes)
	flag(q, "link", o.RemoveLinks)
	flag(q, "force", o.Force)
	return ContainerRemoveResult{}, c.call(ctx, request{method: http.MethodDelete, path: "/containers/" + id, query: q}, nil)
}

// ContainerRenameOptions is POST /containers/{id}/rename.
type ContainerRenameOptions struct {
	NewName string
}

// ContainerRenameResult is empty.
type ContainerRenameResult struct{}

// ContainerRename gives a container a new name.
func (c *Client) ContainerRename(ctx context.Context, id string, o ContainerRenameOptions) (ContainerRenameResult, error) {
	q := url.Values{"name": {strings.TrimSpace(o.NewName)}}
	return ContainerRenameResult{}, c.post(ctx, "container", id, "/rename", q)
}

// ContainerResizeOptions is POST /containers/{id}/resize.
type ContainerResizeOptions struct {
	Height uint
	Width  uint
}

// ContainerResizeResult is empty.
type ContainerResizeResult struct{}

// ContainerResize sets the size of a container's TTY.
func (c *Client) ContainerResize(ctx context.Context, id string, o ContainerResizeOptions) (ContainerResizeResult, error) {
	return ContainerResizeResult{}, c.post(ctx, "container", id, "/resize", sizeQuery(o.Height, o.Width))
}

func sizeQuery(h, w uint) url.Values {
	return url.Values{"h": {strconv.FormatUint(uint64(h), 10)}, "w": {strconv.FormatUint(uint64(w), 10)}}
}

// ContainerUpdateOptions is POST /containers/{id}/update.
type ContainerUpdateOptions struct {
	Resources     *container.Resources
	RestartPolicy *container.RestartPolicy
}

// ContainerUpdateResult carries the daemon's warnings.
type ContainerUpdateResult struct {
	Warnings []string
}

// ContainerUpdate changes a container's resources or restart policy.
func (c *Client) ContainerUpdate(ctx context.Context, id string, o ContainerUpdateOptions) (ContainerUpdateResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerUpdateResult{}, err
	}
	body := container.UpdateConfig{}
	if o.Resources != nil {
		body.Resources = *o.Resources
	}
	if o.RestartPolicy != nil {
		body.RestartPolicy = *o.RestartPolicy
	}
	var res container.UpdateResponse
	err = c.call(ctx, request{method: http.MethodPost, path: "/containers/" + id + "/update", body: body}, &res)
	return ContainerUpdateResult{Warnings: res.Warnings}, err
}

// ContainerWaitOptions is POST /containers/{id}/wait.
type ContainerWaitOptions struct {
	Condition container.WaitCondition // "" is not-running
}

// ContainerWaitResult delivers the exit status on Result, or a failure on
// Error: exactly one of them receives a value.
type ContainerWaitResult struct {
	Result <-chan container.WaitResponse
	Error  <-chan error
}

// ContainerWait returns once the daemon has accepted the wait (so a start
// that follows cannot be missed) and delivers the exit status later.
func (c *Client) ContainerWait(ctx context.Context, id string, o ContainerWaitOptions) ContainerWaitResult {
	resultC := make(chan container.WaitResponse, 1)
	errC := make(chan error, 1)
	res := ContainerWaitResult{Result: resultC, Error: errC}
	id, err := checkID("container", id)
	if err != nil {
		errC <- err
		return res
	}
	q := url.Values{}
	setString(q, "condition", string(o.Condition))
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/containers/" + id + "/wait", query: q})
	if err != nil {
		errC <- err
		return res
	}
	go func() {
		defer resp.Body.Close()
		var w container.WaitResponse
		if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
			errC <- err
			return
		}
		resultC <- w
	}()
	return res
}

// ContainerAttachOptions is POST /containers/{id}/attach.
type ContainerAttachOptions struct {
	Stream     bool
	Stdin      bool
	Stdout     bool
	Stderr     bool
	DetachKeys string
	Logs       bool
}

// ContainerAttachResult is the hijacked connection.
type ContainerAttachResult struct {
	HijackedResponse
}

// ContainerAttach connects to a container's standard streams.
func (c *Client) ContainerAttach(ctx context.Context, id string, o ContainerAttachOptions) (ContainerAttachResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerAttachResult{}, err
	}
	q := url.Values{}
	flag(q, "stream", o.Stream)
	flag(q, "stdin", o.Stdin)
	flag(q, "stdout", o.Stdout)
	flag(q, "stderr", o.Stderr)
	flag(q, "logs", o.Logs)
	setString(q, "detachKeys", o.DetachKeys)
	h, err := c.hijack(ctx, request{method: http.MethodPost, path: "/containers/" + id + "/attach", query: q,
		headers: http.Header{"Content-Type": {"text/plain"}}})
	return ContainerAttachResult{HijackedResponse: h}, err
}

// ContainerLogsOptions is GET /containers/{id}/logs. Since and Until are
// passed as they are (a Unix timestamp, as the CLI computes it).
type ContainerLogsOptions struct {
	ShowStdout bool
	ShowStderr bool
	Since      string
	Until      string
	Timestamps bool
	Follow     bool
	Tail       string
	Details    bool
}

// ContainerLogsResult is the log stream (stdcopy-framed unless a TTY).
type ContainerLogsResult interface {
	io.ReadCloser
}

// ContainerLogs streams a container's log.
func (c *Client) ContainerLogs(ctx context.Context, id string, o ContainerLogsOptions) (ContainerLogsResult, error) {
	q := url.Values{}
	flag(q, "stdout", o.ShowStdout)
	flag(q, "stderr", o.ShowStderr)
	flag(q, "timestamps", o.Timestamps)
	flag(q, "details", o.Details)
	flag(q, "follow", o.Follow)
	setString(q, "since", o.Since)
	setString(q, "until", o.Until)
	if o.Tail != "" && o.Tail != "all" {
		q.Set("tail", o.Tail)
	}
	return c.stream(ctx, http.MethodGet, "container", id, "/logs", q)
}

// ContainerStatsOptions is GET /containers/{id}/stats.
type ContainerStatsOptions struct {
	Stream                bool
	IncludePreviousSample bool // one sample after a second, with the one before for CPU %
}

// ContainerStatsResult is the stream of JSON samples.
type ContainerStatsResult struct {
	Body io.ReadCloser
}

// ContainerStats reads a container's resource usage.
func (c *Client) ContainerStats(ctx context.Context, id string, o ContainerStatsOptions) (ContainerStatsResult, error) {
	q := url.Values{"stream": {strconv.FormatBool(o.Stream)}}
	if !o.Stream && !o.IncludePreviousSample {
		q.Set("one-shot", "true")
	}
	body, err := c.stream(ctx, http.MethodGet, "container", id, "/stats", q)
	return ContainerStatsResult{Body: body}, err
}

// ContainerTopOptions is GET /containers/{id}/top.
type ContainerTopOptions struct {
	Arguments []string // ps options
}

// ContainerTopResult is `ps` output as a table.
type ContainerTopResult struct {
	Processes [][]string
	Titles    []string
}

// ContainerTop lists the processes of a container.
func (c *Client) ContainerTop(ctx context.Context, id string, o ContainerTopOptions) (ContainerTopResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerTopResult{}, err
	}
	q := url.Values{}
	if len(o.Arguments) > 0 {
		q.Set("ps_args", strings.Join(o.Arguments, " "))
	}
	var res container.TopResponse
	err = c.call(ctx, request{method: http.MethodGet, path: "/containers/" + id + "/top", query: q}, &res)
	return ContainerTopResult{Processes: res.Processes, Titles: res.Titles}, err
}

// ContainerCommitOptions is POST /commit.
type ContainerCommitOptions struct {
	Reference string
	Comment   string
	Author    string
	Changes   []string
	NoPause   bool
	Config    *container.Config
}

// ContainerCommitResult is the new image's ID.
type ContainerCommitResult struct {
	ID string
}

// ContainerCommit makes an image of a container's filesystem.
func (c *Client) ContainerCommit(ctx context.Context, id string, o ContainerCommitOptions) (ContainerCommitResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerCommitResult{}, err
	}
	q := url.Values{"container": {id}}
	if o.Reference != "" {
		if err := setRepoTag(q, o.Reference); err != nil {
			return ContainerCommitResult{}, err
		}
	}
	setString(q, "comment", o.Comment)
	setString(q, "author", o.Author)
	for _, ch := range o.Changes {
		q.Add("changes", ch)
	}
	if o.NoPause {
		q.Set("pause", "0")
	}
	var body any
	if o.Config != nil {
		body = o.Config
	}
	var res container.CommitResponse
	err = c.call(ctx, request{method: http.MethodPost, path: "/commit", query: q, body: body}, &res)
	return ContainerCommitResult{ID: res.ID}, err
}

// setRepoTag sets the repo and tag parameters for a reference to create
// (commit, tag): a digest cannot be created, only a tag.
func setRepoTag(q url.Values, ref string) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return err
	}
	if _, ok := named.(reference.Digested); ok {
		return errors.New("refusing to create a tag with a digest reference")
	}
	named = reference.TagNameOnly(named)
	q.Set("repo", named.Name())
	if t, ok := named.(reference.Tagged); ok {
		q.Set("tag", t.Tag())
	}
	return nil
}

// ContainerDiffOptions is GET /containers/{id}/changes.
type ContainerDiffOptions struct{}

// ContainerDiffResult lists the changed paths.
type ContainerDiffResult struct {
	Changes []container.FilesystemChange
}

// ContainerDiff lists what changed in a container's filesystem.
func (c *Client) ContainerDiff(ctx context.Context, id string, _ ContainerDiffOptions) (ContainerDiffResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ContainerDiffResult{}, err
	}
	var res ContainerDiffResult
	err = c.call(ctx, request{method: http.MethodGet, path: "/containers/" + id + "/changes"}, &res.Changes)
	return res, err
}

// ContainerExportOptions is GET /containers/{id}/export.
type ContainerExportOptions struct{}

// ContainerExportResult is the tar stream of the filesystem.
type ContainerExportResult interface {
	io.ReadCloser
}

// ContainerExport streams a container's filesystem as a tar archive.
func (c *Client) ContainerExport(ctx context.Context, id string, _ ContainerExportOptions) (ContainerExportResult, error) {
	return c.stream(ctx, http.MethodGet, "container", id, "/export", nil)
}

// ContainerPruneOptions is POST /containers/prune.
type ContainerPruneOptions struct {
	Filters Filters
}

// ContainerPruneResult is what went and the space it freed.
type ContainerPruneResult struct {
	Report container.PruneReport
}

// ContainerPrune removes every stopped container (that the filters keep).
func (c *Client) ContainerPrune(ctx context.Context, o ContainerPruneOptions) (ContainerPruneResult, error) {
	q := url.Values{}
	o.Filters.encode(q)
	var res ContainerPruneResult
	err := c.call(ctx, request{method: http.MethodPost, path: "/containers/prune", query: q}, &res.Report)
	return res, err
}

// post is POST /{kind}s/{id}{action} with no body and no answer to read.
func (c *Client) post(ctx context.Context, kind, id, action string, q url.Values) error {
	id, err := checkID(kind, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, path: "/" + kind + "s/" + id + action, query: q}, nil)
}

// stream starts a request on /{kind}s/{id}{action} whose answer the caller reads.
func (c *Client) stream(ctx context.Context, method, kind, id, action string, q url.Values) (io.ReadCloser, error) {
	id, err := checkID(kind, id)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: method, path: "/" + kind + "s/" + id + action, query: q})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// invalid is a refusal made before any request: the input is wrong.
func invalid(msg string) error {
	return cerrdefs.ErrInvalidArgument.WithMessage(msg)
}

func formatPlatform(p ocispec.Platform) string {
	return strings.TrimRight(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
}

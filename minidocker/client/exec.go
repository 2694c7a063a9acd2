package client

import (
	"context"
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// ConsoleSize is a terminal's size in characters.
type ConsoleSize struct {
	Height, Width uint
}

// consoleSize is the API's [height, width], sent only for a TTY.
func consoleSize(tty bool, s ConsoleSize) (*[2]uint, error) {
	if s.Height == 0 && s.Width == 0 {
		return nil, nil
	}
	if !tty {
		return nil, invalid("console size is only supported when TTY is enabled")
	}
	return &[2]uint{s.Height, s.Width}, nil
}

// ExecCreateOptions is POST /containers/{id}/exec.
type ExecCreateOptions struct {
	User         string
	Privileged   bool
	TTY          bool
	ConsoleSize  ConsoleSize
	AttachStdin  bool
	AttachStderr bool
	AttachStdout bool
	DetachKeys   string
	Env          []string
	WorkingDir   string
	Cmd          []string
}

// ExecCreateResult is the new exec's ID.
type ExecCreateResult struct {
	ID string
}

// ExecCreate prepares a process to run in a container (ExecStart or
// ExecAttach runs it).
func (c *Client) ExecCreate(ctx context.Context, id string, o ExecCreateOptions) (ExecCreateResult, error) {
	id, err := checkID("container", id)
	if err != nil {
		return ExecCreateResult{}, err
	}
	size, err := consoleSize(o.TTY, o.ConsoleSize)
	if err != nil {
		return ExecCreateResult{}, err
	}
	body := container.ExecCreateRequest{
		User: o.User, Privileged: o.Privileged, Tty: o.TTY, ConsoleSize: size,
		AttachStdin: o.AttachStdin, AttachStdout: o.AttachStdout, AttachStderr: o.AttachStderr,
		DetachKeys: o.DetachKeys, Env: o.Env, WorkingDir: o.WorkingDir, Cmd: o.Cmd,
	}
	var res container.ExecCreateResponse
	err = c.call(ctx, request{method: http.MethodPost, path: "/containers/" + id + "/exec", body: body}, &res)
	return ExecCreateResult{ID: res.ID}, err
}

// ExecStartOptions is POST /exec/{id}/start without attaching.
type ExecStartOptions struct {
	Detach      bool
	TTY         bool
	ConsoleSize ConsoleSize
}

// ExecStartResult is empty.
type ExecStartResult struct{}

// ExecStart runs an exec in the background (`exec -d`).
func (c *Client) ExecStart(ctx context.Context, execID string, o ExecStartOptions) (ExecStartResult, error) {
	size, err := consoleSize(o.TTY, o.ConsoleSize)
	if err != nil {
		return ExecStartResult{}, err
	}
	body := container.ExecStartRequest{Detach: o.Detach, Tty: o.TTY, ConsoleSize: size}
	return ExecStartResult{}, c.call(ctx, request{method: http.MethodPost, path: "/exec/" + execID + "/start", body: body}, nil)
}

// ExecAttachOptions is POST /exec/{id}/start, attached.
type ExecAttachOptions struct {
	TTY         bool
	ConsoleSize ConsoleSize
}

// ExecAttachResult is the hijacked connection of the exec's streams.
type ExecAttachResult struct {
	HijackedResponse
}

// ExecAttach starts an exec and connects to its standard streams.
func (c *Client) ExecAttach(ctx context.Context, execID string, o ExecAttachOptions) (ExecAttachResult, error) {
	size, err := consoleSize(o.TTY, o.ConsoleSize)
	if err != nil {
		return ExecAttachResult{}, err
	}
	body := container.ExecStartRequest{Tty: o.TTY, ConsoleSize: size}
	h, err := c.hijack(ctx, request{method: http.MethodPost, path: "/exec/" + execID + "/start", body: body})
	return ExecAttachResult{HijackedResponse: h}, err
}

// ExecResizeOptions is POST /exec/{id}/resize.
type ExecResizeOptions ContainerResizeOptions

// ExecResizeResult is empty.
type ExecResizeResult struct{}

// ExecResize sets the size of an exec's TTY. The path is /exec/…, not
// /execs/… (post's plural form of a kind).
func (c *Client) ExecResize(ctx context.Context, execID string, o ExecResizeOptions) (ExecResizeResult, error) {
	id, err := checkID("exec", execID)
	if err != nil {
		return ExecResizeResult{}, err
	}
	return ExecResizeResult{}, c.call(ctx, request{method: http.MethodPost, path: "/exec/" + id + "/resize", query: sizeQuery(o.Height, o.Width)}, nil)
}

// ExecInspectOptions is GET /exec/{id}/json.
type ExecInspectOptions struct{}

// ExecInspectResult is the state of an exec.
type ExecInspectResult struct {
	ID          string
	ContainerID string
	Running     bool
	ExitCode    int
	PID         int
}

// ExecInspect reports whether an exec runs and, once it has ended, its
// exit code.
func (c *Client) ExecInspect(ctx context.Context, execID string, _ ExecInspectOptions) (ExecInspectResult, error) {
	var res container.ExecInspectResponse
	if err := c.call(ctx, request{method: http.MethodGet, path: "/exec/" + execID + "/json"}, &res); err != nil {
		return ExecInspectResult{}, err
	}
	out := ExecInspectResult{ID: res.ID, ContainerID: res.ContainerID, Running: res.Running, PID: res.Pid}
	if res.ExitCode != nil {
		out.ExitCode = *res.ExitCode
	}
	return out, nil
}

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
)

// request is one API call: method, path under /vX.Y, query, headers, and a
// body that is either a reader (sent as is) or a value (sent as JSON).
type request struct {
	method  string
	path    string
	query   url.Values
	headers http.Header
	body    any
}

// do sends r and returns the response; a status of 400 or more becomes an
// error carrying the daemon's message and an error kind (see statusError).
// The caller closes the body of a successful response.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.connectError(err)
	}
	if resp.StatusCode >= http.StatusBadRequest {
		defer resp.Body.Close()
		return nil, statusError(resp)
	}
	return resp, nil
}

// call is do for the many endpoints whose answer is JSON (into out, when
// out is not nil) or nothing.
func (c *Client) call(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	body, isJSON, err := encodeBody(r.body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.endpoint(r.path, r.query).String(), body)
	if err != nil {
		return nil, err
	}
	for k, v := range r.headers {
		req.Header[k] = v
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "minidocker-client")
	return req, nil
}

// encodeBody turns a request body into a reader: readers go as they are,
// nil is no body, anything else is marshalled to JSON.
func encodeBody(body any) (io.Reader, bool, error) {
	switch b := body.(type) {
	case nil:
		return nil, false, nil
	case io.Reader:
		return b, false, nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, false, err
	}
	return bytes.NewReader(data), true, nil
}

// statusError reads the daemon's error answer. The message is what the
// daemon said ({"message": …} or plain text), behind docker's "Error
// response from daemon: " prefix; the kind comes from the status (404 →
// not found, 409 → conflict, …) so callers test errdefs.IsNotFound(err)
// instead of matching text.
func statusError(resp *http.Response) error {
	var msg string
	if resp.Request == nil || resp.Request.Method != http.MethodHead {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		msg = daemonMessage(resp, body)
	}
	var err error
	if msg == "" {
		err = fmt.Errorf("request returned %s for API route and version %s, check if the server supports the requested API version",
			resp.Status, resp.Request.URL)
	} else {
		err = fmt.Errorf("Error response from daemon: %w", errors.New(msg))
	}
	return withKind(err, resp.StatusCode)
}

// daemonMessage is the text of an error body: the "message" field of a
// JSON answer, or the body itself.
func daemonMessage(resp *http.Response, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if resp.Header.Get("Content-Type") == "application/json" {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return strings.TrimSpace(e.Message)
		}
		return fmt.Sprintf("API returned a %d (%s) but provided no error-message", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return strings.TrimSpace(string(body))
}

// kindError is an error with the errdefs kind its HTTP status stands for;
// its text is the daemon's message, unchanged.
type kindError struct {
	err  error
	kind error // a containerd errdefs sentinel, e.g. cerrdefs.ErrNotFound
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return errors.Is(e.kind, target) }

// withKind classifies err by an HTTP status: the statuses the daemon
// answers (see api.httpStatus) and a few more have a kind of their own,
// any other 4xx is invalid input and any 5xx an internal error.
func withKind(err error, status int) error {
	return &kindError{err: err, kind: statusKind(status)}
}

func statusKind(status int) error {
	switch status {
	case http.StatusNotModified:
		return cerrdefs.ErrNotModified
	case http.StatusBadRequest:
		return cerrdefs.ErrInvalidArgument
	case http.StatusUnauthorized:
		return cerrdefs.ErrUnauthenticated
	case http.StatusForbidden:
		return cerrdefs.ErrPermissionDenied
	case http.StatusNotFound:
		return cerrdefs.ErrNotFound
	case http.StatusConflict:
		return cerrdefs.ErrConflict
	case http.StatusNotImplemented:
		return cerrdefs.ErrNotImplemented
	case http.StatusServiceUnavailable:
		return cerrdefs.ErrUnavailable
	}
	switch {
	case status >= 400 && status < 500:
		return cerrdefs.ErrInvalidArgument
	case status >= 500 && status < 600:
		return cerrdefs.ErrInternal
	}
	return cerrdefs.ErrUnknown
}

// connectionError marks a failure to reach the daemon at all (see
// IsErrConnectionFailed).
type connectionError struct{ err error }

func (e connectionError) Error() string { return e.err.Error() }
func (e connectionError) Unwrap() error { return e.err }

// IsErrConnectionFailed reports whether err means the daemon could not be
// reached (no socket, nobody listening, no permission).
func IsErrConnectionFailed(err error) bool {
	return errors.As(err, &connectionError{})
}

// connectError words a transport failure. A cancelled context is the
// caller's doing and stays as it is.
func (c *Client) connectError(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, os.ErrPermission):
		return connectionError{fmt.Errorf("permission denied while trying to connect to the docker API at %v", c.host)}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return connectionError{fmt.Errorf("Cannot connect to the Docker daemon at %s. Is the docker daemon running?", c.host)}
	}
	return connectionError{fmt.Errorf("error during connect: %w", err)}
}

// checkID refuses an empty object name before any request is made.
func checkID(kind, id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", cerrdefs.ErrInvalidArgument.WithMessage("invalid " + kind + " name or ID: value is empty")
	}
	return id, nil
}

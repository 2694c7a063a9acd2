package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// registerContainerRoutes adds the container endpoints of the Engine API.
func (s *Server) registerContainerRoutes() {
	s.routes.handle("POST", "/containers/create", s.createContainer)
	s.routes.handle("GET", "/containers/json", s.listContainers)
	s.routes.handle("GET", "/containers/{id}/json", s.inspectContainer)
	s.routes.handle("POST", "/containers/{id}/start", s.startContainer)
	s.routes.handle("POST", "/containers/{id}/stop", s.stopContainer)
	s.routes.handle("POST", "/containers/{id}/restart", s.restartContainer)
	s.routes.handle("POST", "/containers/{id}/kill", s.killContainer)
	s.routes.handle("POST", "/containers/{id}/wait", s.waitContainer)
	s.routes.handle("POST", "/containers/{id}/attach", s.attachContainer)
	s.routes.handle("POST", "/containers/{id}/resize", s.resizeContainer)
	s.routes.handle("POST", "/containers/{id}/rename", s.renameContainer)
	s.routes.handle("DELETE", "/containers/{id}", s.removeContainer)
	s.routes.handle("GET", "/containers/{id}/logs", s.containerLogs)
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req container.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	id, warnings, err := s.daemon.CreateContainer(daemon.CreateOptions{
		Name: r.URL.Query().Get("name"), Config: req.Config, HostConfig: req.HostConfig,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CreateResponse{ID: id, Warnings: warnings})
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	opts := daemon.ListOptions{All: boolValue(r, "all")}
	if l := q.Get("limit"); l != "" {
		opts.Limit, _ = strconv.Atoi(l)
	}
	if f := q.Get("filters"); f != "" {
		filters, err := parseFilters(f, daemon.ContainerFilters...)
		if err != nil {
			return err
		}
		opts.Filters = filters
	}
	return writeJSON(w, http.StatusOK, s.daemon.ListContainers(opts))
}

// parseFilters reads docker's filters JSON: {"name":{"x":true}} (or the
// old form {"name":["x"]}). With allowed given, any other key is refused
// with docker's 400 "invalid filter 'key'".
func parseFilters(s string, allowed ...string) (map[string][]string, error) {
	out := map[string][]string{}
	var m map[string]map[string]bool
	if err := json.Unmarshal([]byte(s), &m); err == nil {
		for k, vs := range m {
			for v, on := range vs {
				if on {
					out[k] = append(out[k], v)
				}
			}
		}
	} else if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, errdefs.Invalid("invalid filter: %v", err)
	}
	if len(allowed) > 0 {
		for k := range out {
			if !slices.Contains(allowed, k) {
				return nil, errdefs.Invalid("invalid filter '%s'", k)
			}
		}
	}
	return out, nil
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	resp, err := s.daemon.InspectContainer(v["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.containerInspectJSON(r, resp))
}

func (s *Server) startContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.daemon.StartContainer(v["id"]))
}

// noContent is the answer of an operation that returns nothing: 204, or
// err when the operation failed.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// timeoutParam reads ?t= (seconds); nil when absent.
func timeoutParam(r *http.Request) (*int, error) {
	t := r.URL.Query().Get("t")
	if t == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return nil, errdefs.Invalid("invalid value for t: %s", t)
	}
	return &n, nil
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, s.daemon.StopContainer(v["id"], t, r.URL.Query().Get("signal")))
}

func (s *Server) restartContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, s.daemon.RestartContainer(v["id"], t, r.URL.Query().Get("signal")))
}

func (s *Server) killContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.daemon.KillContainer(v["id"], r.URL.Query().Get("signal")))
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.daemon.RemoveContainer(v["id"], boolValue(r, "force"), boolValue(r, "v")))
}

func (s *Server) renameContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.daemon.RenameContainer(v["id"], r.URL.Query().Get("name")))
}

func (s *Server) resizeContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	h, _ := strconv.ParseUint(r.URL.Query().Get("h"), 10, 16)
	wd, _ := strconv.ParseUint(r.URL.Query().Get("w"), 10, 16)
	if err := s.daemon.ResizeContainer(v["id"], uint(h), uint(wd)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// waitContainer answers the headers at once (docker run sends wait before
// start and blocks on the headers), then the exit code when the condition
// is met.
func (s *Server) waitContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	c, err := s.daemon.GetContainer(v["id"])
	if err != nil {
		return err
	}
	ch, err := c.WaitChannel(r.URL.Query().Get("condition"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case <-ch:
	case <-r.Context().Done():
		return nil
	}
	code, msg := c.ExitStatus()
	resp := container.WaitResponse{StatusCode: int64(code)}
	if msg != "" {
		resp.Error = &container.WaitExitError{Message: msg}
	}
	return json.NewEncoder(w).Encode(resp)
}

// attachContainer hijacks the connection (101 UPGRADED) and splices it to
// the shim's attach stream: raw bytes for a tty, stdcopy frames otherwise.
func (s *Server) attachContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	c, err := s.daemon.GetContainer(v["id"])
	if err != nil {
		return err
	}
	insp, err := s.daemon.InspectContainer(c.ID)
	if err != nil {
		return err
	}
	stdin, stdout, stderr := boolValue(r, "stdin"), boolValue(r, "stdout"), boolValue(r, "stderr")
	wait, err := s.daemon.AttachContainer(c, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return errors.New("attach: connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctype := "application/vnd.docker.multiplexed-stream"
	if insp.Config.Tty {
		ctype = "application/vnd.docker.raw-stream"
	}
	upgrade := r.Header.Get("Upgrade") != ""
	if upgrade {
		fmt.Fprintf(rw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ctype)
	} else {
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype)
	}
	if err := rw.Flush(); err != nil {
		return nil
	}
	// Give up waiting for the start when the client goes away (it only
	// half-closes its side when it has no stdin to send).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shimConn, err := wait(ctx)
	if err != nil {
		return nil
	}
	defer shimConn.Close()
	if stdin {
		go func() {
			io.Copy(shimConn, bufReader(rw.Reader, conn))
			if cw, ok := shimConn.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		}()
	}
	io.Copy(conn, shimConn)
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	return nil
}

// bufReader reads what the server already buffered, then the connection.
func bufReader(br *bufio.Reader, c net.Conn) io.Reader {
	if br.Buffered() == 0 {
		return c
	}
	b, _ := br.Peek(br.Buffered())
	return io.MultiReader(strings.NewReader(string(b)), c)
}

// containerLogs streams the json-file log: stdcopy frames, or raw bytes
// for a tty container, each line optionally prefixed by its timestamp.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	c, err := s.daemon.GetContainer(v["id"])
	if err != nil {
		return err
	}
	insp, err := s.daemon.InspectContainer(c.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opts := daemon.LogsOptions{
		Follow: boolValue(r, "follow"), Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"),
		Timestamps: boolValue(r, "timestamps"), Tail: -1,
	}
	if !opts.Stdout && !opts.Stderr {
		return errdefs.Invalid("Bad parameters: you must choose at least one stream")
	}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return errdefs.Invalid("invalid value for tail: %s", t)
		}
		opts.Tail = n
	}
	if opts.Since, err = parseTimestamp(q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimestamp(q.Get("until")); err != nil {
		return err
	}
	tty := insp.Config.Tty
	if tty {
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	} else {
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	var hdr [8]byte
	err = s.daemon.ContainerLogs(r.Context(), c, opts, func(e libcontainer.LogEntry) error {
		line := e.Log
		if opts.Timestamps {
			line = append([]byte(e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z")+" "), line...)
		}
		if !tty {
			hdr[0] = 1
			if e.Stream == "stderr" {
				hdr[0] = 2
			}
			hdr[4], hdr[5], hdr[6], hdr[7] = byte(len(line)>>24), byte(len(line)>>16), byte(len(line)>>8), byte(len(line))
			if _, err := w.Write(hdr[:]); err != nil {
				return err
			}
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if opts.Follow && flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		return nil // the headers are out: nothing more to say
	}
	return nil
}

// parseTimestamp reads docker's since/until: Unix seconds with an
// optional fraction ("1700000000.123456789"), as the CLI sends.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		if t, terr := time.Parse(time.RFC3339Nano, s); terr == nil {
			return t, nil
		}
		return time.Time{}, errdefs.Invalid("invalid timestamp: %s", s)
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		ns, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Unix(n, ns), nil
}

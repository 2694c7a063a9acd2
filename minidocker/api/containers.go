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
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/detachkeys"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// containerBackend is what the container endpoints need from the daemon.
type containerBackend interface {
	CreateContainer(opts daemon.CreateOptions) (id string, warnings []string, err error)
	ListContainers(opts daemon.ListOptions) []container.Summary
	InspectContainer(ref string) (*container.InspectResponse, error)
	ContainerSize(ref string) (rw, rootfs int64, err error)
	LegacyNetworkSettings(containerID string) daemon.LegacyNetworkFields
	StartContainer(ref string) error
	StopContainer(ref string, timeout *int, signal string) error
	RestartContainer(ref string, timeout *int, signal string) error
	KillContainer(ref, signal string) error
	RemoveContainer(ref string, force, volumes bool) error
	RemoveLink(name string) error
	RenameContainer(ref, newName string) error
	ResizeContainer(ref string, h, w uint) error
	ContainerWait(ctx context.Context, ref, condition string) (<-chan container.WaitResponse, error)
	ContainerAttach(ref string, stdin, stdout, stderr bool) (func(ctx context.Context) (net.Conn, error), error)
	ContainerLogs(ctx context.Context, ref string, opts daemon.LogsOptions, fn func(libcontainer.LogEntry) error) error
	ContainerStatPath(ref, path string) (container.PathStat, error)
	ContainerArchive(ref, path string) (container.PathStat, func(io.Writer) error, error)
	ContainerExtractToDir(ref, path string, noOverwriteDirNonDir, copyUIDGID bool, r io.Reader) error
	ContainerTop(ref, psArgs string) (container.TopResponse, error)
	ContainerStats(ctx context.Context, ref string, stream, oneShot bool, emit func(*container.StatsResponse) error) error
	Commit(ctx context.Context, opts daemon.CommitOptions) (string, error)
}

// containerRouter serves the /containers endpoints (exec has its own
// router) and POST /commit.
type containerRouter struct{ backend containerBackend }

func (s containerRouter) register(rt *router) {
	rt.handle("POST", "/containers/create", s.createContainer)
	rt.handle("GET", "/containers/json", s.listContainers)
	rt.handle("GET", "/containers/{id}/json", s.inspectContainer)
	rt.handle("POST", "/containers/{id}/start", s.startContainer)
	rt.handle("POST", "/containers/{id}/stop", s.stopContainer)
	rt.handle("POST", "/containers/{id}/restart", s.restartContainer)
	rt.handle("POST", "/containers/{id}/kill", s.killContainer)
	rt.handle("POST", "/containers/{id}/wait", s.waitContainer)
	rt.handle("POST", "/containers/{id}/attach", s.attachContainer)
	rt.handle("POST", "/containers/{id}/resize", s.resizeContainer)
	rt.handle("POST", "/containers/{id}/rename", s.renameContainer)
	rt.handle("DELETE", "/containers/{id}", s.removeContainer)
	// `rm --link /me/alias` sends DELETE /containers//me/alias?link=1
	rt.handle("DELETE", "/containers/{id...}", s.removeContainer)
	rt.handle("GET", "/containers/{id}/logs", s.containerLogs)
	rt.handle("GET", "/containers/{name}/archive", s.getContainerArchive) // and HEAD
	rt.handle("PUT", "/containers/{name}/archive", s.putContainerArchive)
	rt.handle("GET", "/containers/{name}/top", s.getContainerTop)
	rt.handle("GET", "/containers/{name}/stats", s.getContainerStats)
	rt.handle("POST", "/commit", s.postCommit)
}

func (s containerRouter) createContainer(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req container.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Config != nil && req.Config.Healthcheck != nil && apiVersionBefore(r, "1.44") {
		req.Config.Healthcheck.StartInterval = 0 // a field older clients do not know, as dockerd drops it
	}
	id, warnings, err := s.backend.CreateContainer(daemon.CreateOptions{
		Name: r.URL.Query().Get("name"), Config: req.Config, HostConfig: req.HostConfig,
		NetworkingConfig: req.NetworkingConfig, Platform: createPlatform(r),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CreateResponse{ID: id, Warnings: warnings})
}

// createPlatform is the create's "platform" parameter, which clients
// before API 1.41 did not send (dockerd ignores it from them).
func createPlatform(r *http.Request) string {
	if apiVersionBefore(r, "1.41") {
		return ""
	}
	return r.URL.Query().Get("platform")
}

func (s containerRouter) listContainers(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	opts := daemon.ListOptions{All: boolValue(r, "all"), Size: boolValue(r, "size")}
	if l := q.Get("limit"); l != "" {
		opts.Limit, _ = strconv.Atoi(l)
	}
	filters, err := filtersParam(r, daemon.ContainerFilters...)
	if err != nil {
		return err
	}
	if err := daemon.CheckContainerFilters(filters); err != nil {
		return err
	}
	opts.Filters = filters
	return writeJSON(w, http.StatusOK, s.backend.ListContainers(opts))
}

func (s containerRouter) inspectContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	resp, err := s.backend.InspectContainer(v["id"])
	if err != nil {
		return err
	}
	if boolValue(r, "size") { // inspect --size
		rw, rootfs, err := s.backend.ContainerSize(resp.ID)
		if err != nil {
			return err
		}
		resp.SizeRw, resp.SizeRootFs = &rw, &rootfs
	}
	return writeJSON(w, http.StatusOK, s.inspectJSON(r, resp))
}

func (s containerRouter) startContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.StartContainer(v["id"]))
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

func (s containerRouter) stopContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, s.backend.StopContainer(v["id"], t, r.URL.Query().Get("signal")))
}

func (s containerRouter) restartContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	return noContent(w, s.backend.RestartContainer(v["id"], t, r.URL.Query().Get("signal")))
}

func (s containerRouter) killContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.KillContainer(v["id"], r.URL.Query().Get("signal")))
}

func (s containerRouter) removeContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	if boolValue(r, "link") { // `rm --link /me/alias`: the link goes, no container does
		return noContent(w, s.backend.RemoveLink(v["id"]))
	}
	return noContent(w, s.backend.RemoveContainer(v["id"], boolValue(r, "force"), boolValue(r, "v")))
}

func (s containerRouter) renameContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.RenameContainer(v["id"], r.URL.Query().Get("name")))
}

func (s containerRouter) resizeContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	h, wd, err := resizeParams(r)
	if err != nil {
		return err
	}
	if err := s.backend.ResizeContainer(v["id"], h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// waitContainer answers the headers at once (docker run sends wait before
// start and blocks on the headers), then the exit code when the condition
// is met.
func (s containerRouter) waitContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	ch, err := s.backend.ContainerWait(r.Context(), v["id"], r.URL.Query().Get("condition"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case resp := <-ch:
		return json.NewEncoder(w).Encode(resp)
	case <-r.Context().Done():
		return nil
	}
}

// attachContainer hijacks the connection (101 UPGRADED) and splices it to
// the shim's attach stream: raw bytes for a tty, stdcopy frames otherwise.
// On a tty the client's keys are watched for the detach sequence
// (detachKeys, default ctrl-p,ctrl-q): it ends this attachment, not the
// container.
func (s containerRouter) attachContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	keys, err := detachkeys.Parse(r.URL.Query().Get("detachKeys"))
	if err != nil {
		return errdefs.Invalid("Invalid detach keys (%s) provided", r.URL.Query().Get("detachKeys"))
	}
	insp, err := s.backend.InspectContainer(v["id"])
	if err != nil {
		return err
	}
	stdin, stdout, stderr := boolValue(r, "stdin"), boolValue(r, "stdout"), boolValue(r, "stderr")
	wait, err := s.backend.ContainerAttach(insp.ID, stdin, stdout, stderr)
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
	// half-closes its side when it has no stdin to send, which is not
	// leaving: see watchHangup).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go watchHangup(ctx, conn, cancel)
	shimConn, err := wait(ctx)
	cancel() // attached (or given up): stop watching
	if err != nil {
		return nil
	}
	defer shimConn.Close()
	if stdin {
		go func() {
			in := bufReader(rw.Reader, conn)
			if insp.Config.Tty {
				in = detachkeys.NewReader(in, keys)
			}
			io.Copy(shimConn, in)
			// the end of stdin, or a detach: the shim ends this
			// attachment (and closes the container's stdin only for
			// StdinOnce without a tty)
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

// watchHangup calls gone when the client has closed its connection
// completely, until ctx ends. On a unix socket that is POLLHUP; a client
// that only shut down its writing side (no stdin to send) still reads and
// gets POLLRDHUP, which is not asked for here. Polling does not read, so
// stdin the client sends stays queued for the attach.
func watchHangup(ctx context.Context, conn net.Conn, gone func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	for ctx.Err() == nil {
		hup := false
		err := raw.Control(func(fd uintptr) {
			// events 0: POLLHUP and POLLERR are always reported
			fds := []unix.PollFd{{Fd: int32(fd)}}
			if n, _ := unix.Poll(fds, 200); n > 0 {
				hup = fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
			}
		})
		if err != nil || hup {
			gone()
			return
		}
	}
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
// for a tty container, each line optionally prefixed by its timestamp and
// its details (the attrs of --log-opt labels, env, tag).
func (s containerRouter) containerLogs(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	insp, err := s.backend.InspectContainer(v["id"])
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opts := daemon.LogsOptions{
		Follow: boolValue(r, "follow"), Stdout: boolValue(r, "stdout"), Stderr: boolValue(r, "stderr"),
		Timestamps: boolValue(r, "timestamps"), Tail: -1,
	}
	details := boolValue(r, "details")
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
	err = s.backend.ContainerLogs(r.Context(), insp.ID, opts, func(e libcontainer.LogEntry) error {
		line := e.Log
		if details {
			line = append(append(logDetails(e.Attrs), ' '), line...)
		}
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

// inspectJSON adds the top-level NetworkSettings fields that API
// versions before 1.52 carry (IPAddress, Gateway, MacAddress, ... of the
// default bridge: what `docker inspect -f '{{.NetworkSettings.IPAddress}}'`
// prints with docker 28) to a container's inspect answer. The types of
// API 1.52+ no longer have them, so they are merged into the JSON.
func (s containerRouter) inspectJSON(r *http.Request, resp *container.InspectResponse) any {
	if resp == nil || resp.NetworkSettings == nil {
		return resp
	}
	if !apiVersionBefore(r, "1.52") {
		return resp
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return resp
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil {
		return resp
	}
	var ns map[string]any
	if json.Unmarshal(doc["NetworkSettings"], &ns) != nil {
		return resp
	}
	f := s.backend.LegacyNetworkSettings(resp.ID)
	for k, v := range map[string]any{
		"Bridge": f.Bridge, "HairpinMode": f.HairpinMode, "EndpointID": f.EndpointID,
		"Gateway": f.Gateway, "IPAddress": f.IPAddress, "IPPrefixLen": f.IPPrefixLen,
		"MacAddress": f.MacAddress, "IPv6Gateway": "", "GlobalIPv6Address": "",
		"GlobalIPv6PrefixLen": 0, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
		"SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil,
	} {
		if _, ok := ns[k]; !ok {
			ns[k] = v
		}
	}
	nb, err := json.Marshal(ns)
	if err != nil {
		return resp
	}
	doc["NetworkSettings"] = nb
	return doc
}

// logDetails is how `docker logs --details` shows a line's attrs: key=value
// pairs sorted by key, query-escaped, joined by commas (empty without
// attrs: the line then starts with the space that follows).
func logDetails(attrs map[string]string) []byte {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, url.QueryEscape(k)...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(attrs[k])...)
	}
	return b
}

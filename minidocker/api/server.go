package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/version"
)

// Server answers Engine API requests for one daemon.
type Server struct {
	routes router
	// closing is closed when the server shuts down: endless streams
	// (events) end then instead of holding the shutdown up.
	closing     chan struct{}
	closingOnce sync.Once
}

// routeSet is one area of the API (containers, images, ...), as moby's
// api/server/router packages are: it holds the small backend interface the
// area needs and adds its routes to the router.
type routeSet interface {
	register(rt *router)
}

// NewServer registers every route. Each area lives in its own file with
// its own backend interface; the daemon implements them all, and the
// compiler checks that here.
func NewServer(d *daemon.Daemon) *Server {
	s := &Server{closing: make(chan struct{})}
	for _, set := range []routeSet{
		systemRouter{backend: d},
		imageRouter{backend: d},
		containerRouter{backend: d},
		containerStateRouter{backend: d},
		containerFSRouter{backend: d},
		pruneRouter{backend: d},
		execRouter{backend: d},
		networkRouter{backend: d},
		volumeRouter{backend: d},
		eventRouter{backend: d, closing: s.closing},
		networkConnectRouter{backend: d},
		buildRouter{backend: d},
	} {
		set.register(&s.routes)
	}
	return s
}

var versionPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/v(\d+)\.(\d+)(/.*)$`) })

// apiVersionKey is the request context key of the API version the client
// asked for ("1.41" of /v1.41/...; absent without a prefix).
type apiVersionKey struct{}

// apiVersion is the version the client asked for, read once by ServeHTTP;
// without a /vX.Y/ prefix it is the newest we speak, as with dockerd.
func apiVersion(r *http.Request) string {
	if v, ok := r.Context().Value(apiVersionKey{}).(string); ok {
		return v
	}
	return version.APIVersion
}

// apiVersionBefore reports whether the request speaks a version older than v.
func apiVersionBefore(r *http.Request, v string) bool {
	return compareVersions(apiVersion(r), v) < 0
}

// ServeHTTP sets docker's response headers, checks the API version the
// client asked for in the path (once: handlers read it with apiVersion),
// and dispatches to the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Api-Version", version.APIVersion)
	h.Set("Server", "Minidocker/"+version.Version+" (linux)")
	h.Set("Ostype", "linux")
	h.Set("Docker-Experimental", "false")

	path := r.URL.Path
	if m := versionPrefix().FindStringSubmatch(path); m != nil {
		if err := checkAPIVersion(m[1] + "." + m[2]); err != nil {
			writeError(w, r, err)
			return
		}
		path = m[3]
		r = r.WithContext(context.WithValue(r.Context(), apiVersionKey{}, m[1]+"."+m[2]))
	}
	handler, vars, found := s.routes.lookup(r.Method, path)
	switch {
	case handler != nil:
		slog.Debug("api request", "method", r.Method, "path", r.URL.Path)
		if err := handler(w, r, vars); err != nil {
			writeError(w, r, err)
		}
	case found:
		writeError(w, r, errdefs.As(errdefs.KindUnknown, fmt.Errorf("method %s not allowed for %s", r.Method, path)), http.StatusMethodNotAllowed)
	default:
		writeError(w, r, errdefs.NotFound("page not found"))
	}
}

// checkAPIVersion refuses versions outside the range we advertise, with
// dockerd's wording so the docker CLI shows a familiar message.
func checkAPIVersion(v string) error {
	// exercise:begin 01-api-version
	switch {
	case compareVersions(v, version.MinAPIVersion) < 0:
		return errdefs.Invalid("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, version.MinAPIVersion)
	case compareVersions(v, version.APIVersion) > 0:
		return errdefs.Invalid("client version %s is too new. Maximum supported API version is %s", v, version.APIVersion)
	}
	return nil
	// exercise:end 01-api-version
}

// compareVersions compares "major.minor" strings numerically.
func compareVersions(a, b string) int {
	// exercise:begin 01-api-version
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := 0; i < 2; i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
	// exercise:end 01-api-version
}

// writeError answers with docker's error body {"message": "..."} and the
// status code that the error's kind asks for (or the one given).
func writeError(w http.ResponseWriter, r *http.Request, err error, status ...int) {
	code := httpStatus(err)
	if len(status) > 0 {
		code = status[0]
	}
	if code >= 500 {
		slog.Error("api error", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		slog.Debug("api error", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	}
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, map[string]string{"message": err.Error()})
}

// httpStatus is the one place where an error's kind becomes the status
// code dockerd answers with.
func httpStatus(err error) int {
	switch errdefs.KindOf(err) {
	case errdefs.KindNotFound:
		return http.StatusNotFound
	case errdefs.KindConflict:
		return http.StatusConflict
	case errdefs.KindInvalid:
		return http.StatusBadRequest
	case errdefs.KindNotModified:
		return http.StatusNotModified
	case errdefs.KindUnauthorized:
		return http.StatusUnauthorized
	case errdefs.KindForbidden:
		return http.StatusForbidden
	case errdefs.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeJSON answers with v as JSON and the given status code.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes a request body as dockerd does: an empty body is
// allowed; otherwise the Content-Type must be JSON, the body one JSON
// value and nothing after it. A bad body is the client's fault (400).
func readJSON(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // a chunked request with an empty body
		}
		return errdefs.Invalid("invalid JSON: %v", err)
	}
	// Only white space may follow the value. dec.More() would let a stray
	// "}" or "]" through (it stops at either), so `{"Image":"x"}}` would
	// be accepted; FuzzRequestBodies found that.
	if _, err := dec.Token(); err != io.EOF {
		return errdefs.Invalid("unexpected content after JSON")
	}
	return nil
}

// checkJSONContentType accepts "application/json" with any parameters
// (charset=utf-8), and refuses anything else with dockerd's words.
func checkJSONContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errdefs.Invalid("malformed Content-Type header (%s): %v", ct, err)
	}
	if mt != "application/json" {
		return errdefs.Invalid("unsupported Content-Type header (%s): must be 'application/json'", ct)
	}
	return nil
}

// resizeParams reads the h and w of a container or exec resize; a value
// that is not a terminal size is the client's mistake (400).
func resizeParams(r *http.Request) (h, w uint, err error) {
	q := r.URL.Query()
	hh, err1 := strconv.ParseUint(q.Get("h"), 10, 16)
	ww, err2 := strconv.ParseUint(q.Get("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, errdefs.Invalid("invalid resize parameters: h=%q w=%q", q.Get("h"), q.Get("w"))
	}
	return uint(hh), uint(ww), nil
}

// boolValue reads a query flag as docker does: "1", "true", "True" are on.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(r.URL.Query().Get(key)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// filtersParam reads the ?filters= of a list or prune request (nil when
// absent); with allowed given, any other key is a 400.
func filtersParam(r *http.Request, allowed ...string) (map[string][]string, error) {
	f := r.URL.Query().Get("filters")
	if f == "" {
		return nil, nil
	}
	return parseFilters(f, allowed...)
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
	for k := range out {
		if len(allowed) > 0 && !slices.Contains(allowed, k) {
			return nil, errdefs.Invalid("invalid filter '%s'", k)
		}
	}
	return out, nil
}

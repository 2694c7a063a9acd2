package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/version"
)

// Server answers Engine API requests for one daemon.
type Server struct {
	daemon *daemon.Daemon
	routes router
}

// NewServer registers every route. Each area adds its own in its file.
func NewServer(d *daemon.Daemon) *Server {
	s := &Server{daemon: d}
	s.registerSystemRoutes()
	s.registerImageRoutes()
	s.registerContainerRoutes()
	s.registerNetworkRoutes()
	s.registerBuildRoutes()
	s.registerContainerToolRoutes()
	return s
}

var versionPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/v(\d+)\.(\d+)(/.*)$`) })

// ServeHTTP sets docker's response headers, checks the API version the
// client asked for in the path, and dispatches to the route.
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
	switch {
	case compareVersions(v, version.MinAPIVersion) < 0:
		return errdefs.Invalid("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, version.MinAPIVersion)
	case compareVersions(v, version.APIVersion) > 0:
		return errdefs.Invalid("client version %s is too new. Maximum supported API version is %s", v, version.APIVersion)
	}
	return nil
}

// compareVersions compares "major.minor" strings numerically.
func compareVersions(a, b string) int {
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
}

// writeError answers with docker's error body {"message": "..."} and the
// status code that the error's kind asks for (or the one given).
func writeError(w http.ResponseWriter, r *http.Request, err error, status ...int) {
	code := errdefs.StatusCode(err)
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

// writeJSON answers with v as JSON and the given status code.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes a request body; a bad body is the client's fault (400).
func readJSON(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return errdefs.Invalid("invalid JSON body: %v", err)
	}
	return nil
}

// boolValue reads a query flag as docker does: "1", "true", "True" are on.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(r.URL.Query().Get(key)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

package registry

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// The URL space of the distribution spec. Repository names may contain
// slashes ("library/nginx", "a/b/c"), so a name cannot be matched as one
// path segment; instead each route is a regular expression anchored at both
// ends, and what follows the name (/manifests/…, /blobs/…) pins where the
// name stops.
//
//	GET            /v2/                                  are you a registry? (and: am I logged in?)
//	GET            /v2/_catalog                          repositories
//	GET            /v2/<name>/tags/list                  tags
//	GET HEAD PUT DELETE /v2/<name>/manifests/<tag|digest>
//	GET HEAD DELETE     /v2/<name>/blobs/<digest>
//	POST           /v2/<name>/blobs/uploads/             start (or finish, or mount) an upload
//	GET PATCH PUT DELETE /v2/<name>/blobs/uploads/<id>
//	GET            /v2/<name>/referrers/<digest>

// nameComponent and the full name grammar come from the distribution spec.
// Because every component starts with [a-z0-9], a name can never be "..",
// start with "_" (our own directory names) or escape the store.
const (
	nameComponent = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`
	namePattern   = nameComponent + `(?:/` + nameComponent + `)*`
	maxNameLength = 255
)

// The patterns are compiled on first use, not at package init: every
// minidocker process links this package, and most (the CLI, the shim,
// init) never route a registry request.
var (
	nameRe   = lazyRegexp(`^` + namePattern + `$`)
	uploadRe = lazyRegexp(`^/v2/(` + namePattern + `)/blobs/uploads(?:/([^/]*))?$`)
	tagsRe   = lazyRegexp(`^/v2/(` + namePattern + `)/tags/list$`)
	itemRe   = lazyRegexp(`^/v2/(` + namePattern + `)/(manifests|blobs|referrers)/([^/]+)$`)
	// looseRe recognises the shape of a repository URL with a bad name, so
	// the answer can be NAME_INVALID instead of a bare 404.
	looseRe = lazyRegexp(`^/v2/(.+)/(manifests|blobs|referrers|tags)/`)
)

// lazyRegexp returns a function that compiles pattern on its first call.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

func validName(name string) bool {
	return len(name) <= maxNameLength && nameRe().MatchString(name)
}

// route dispatches one request. Handlers return an error instead of writing
// one, so every failure leaves through writeError in the spec's JSON shape.
func (s *Server) route(w http.ResponseWriter, r *http.Request) error {
	p := r.URL.Path
	m := r.Method
	switch {
	case p == "/v2/" || p == "/v2":
		if m != http.MethodGet && m != http.MethodHead {
			return errUnsupported(m + " " + p)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		if m == http.MethodGet {
			w.Write([]byte("{}"))
		}
		return nil
	case p == "/v2/_catalog":
		if m != http.MethodGet && m != http.MethodHead {
			return errUnsupported(m + " " + p)
		}
		return s.getCatalog(w, r)
	}
	if g := uploadRe().FindStringSubmatch(p); g != nil && len(g[1]) <= maxNameLength {
		return s.routeUpload(w, r, g[1], g[2])
	}
	if g := tagsRe().FindStringSubmatch(p); g != nil && len(g[1]) <= maxNameLength {
		if m != http.MethodGet && m != http.MethodHead {
			return errUnsupported(m + " " + p)
		}
		return s.getTags(w, r, g[1])
	}
	if g := itemRe().FindStringSubmatch(p); g != nil && len(g[1]) <= maxNameLength {
		return s.routeItem(w, r, g[1], g[2], g[3])
	}
	if g := looseRe().FindStringSubmatch(p); g != nil {
		return errNameInvalid(g[1])
	}
	if !strings.HasPrefix(p, "/v2/") {
		return &apiError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "not a registry API path", Detail: p}
	}
	return &apiError{Status: http.StatusNotFound, Code: "NAME_UNKNOWN", Message: "unknown registry API path", Detail: p}
}

// routeUpload dispatches /v2/<name>/blobs/uploads/[<id>]: POST starts an
// upload; GET/HEAD, PATCH, PUT and DELETE act on one.
func (s *Server) routeUpload(w http.ResponseWriter, r *http.Request, name, id string) error {
	m := r.Method
	switch {
	case id == "" && m == http.MethodPost:
		return s.postUpload(w, r, name)
	case id == "":
		return errUnsupported(m + " " + r.URL.Path)
	case m == http.MethodGet || m == http.MethodHead:
		return s.getUpload(w, r, name, id)
	case m == http.MethodPatch:
		return s.patchUpload(w, r, name, id)
	case m == http.MethodPut:
		return s.putUpload(w, r, name, id)
	case m == http.MethodDelete:
		return s.deleteUpload(w, r, name, id)
	}
	return errUnsupported(m + " " + r.URL.Path)
}

// routeItem dispatches /v2/<name>/{manifests,blobs,referrers}/<reference>.
func (s *Server) routeItem(w http.ResponseWriter, r *http.Request, name, kind, ref string) error {
	switch kind + " " + r.Method {
	case "manifests GET", "manifests HEAD":
		return s.getManifest(w, r, name, ref)
	case "manifests PUT":
		return s.putManifest(w, r, name, ref)
	case "manifests DELETE":
		return s.deleteManifest(w, r, name, ref)
	case "blobs GET", "blobs HEAD":
		return s.getBlob(w, r, name, ref)
	case "blobs DELETE":
		return s.deleteBlob(w, r, name, ref)
	case "referrers GET", "referrers HEAD":
		return s.getReferrers(w, r, name, ref)
	}
	return errUnsupported(r.Method + " " + r.URL.Path)
}

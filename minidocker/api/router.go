package api

import (
	"net/http"
	"strings"
)

// HandlerFunc is an API handler. It returns an error instead of writing
// one, so that every error gets the same JSON shape and status mapping.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, vars map[string]string) error

// route is one registered endpoint. Patterns are split into segments; a
// segment "{name}" captures one path segment and "{name...}" captures one or
// more, so image names with slashes (/images/localhost:5000/a/b/json) work.
// Go's ServeMux only allows a multi-segment wildcard at the end, which is
// why this tiny router exists.
type route struct {
	method   string
	segments []string
	handler  HandlerFunc
}

type router struct{ routes []route }

func (rt *router) handle(method, pattern string, h HandlerFunc) {
	rt.routes = append(rt.routes, route{method: method, segments: split(pattern), handler: h})
}

func split(path string) []string { return strings.Split(strings.Trim(path, "/"), "/") }

// lookup finds the handler for method and path. found reports whether the
// path matched some route at all, which tells 405 from 404.
func (rt *router) lookup(method, path string) (h HandlerFunc, vars map[string]string, found bool) {
	// exercise:begin 01-router
	segs := split(path)
	for _, r := range rt.routes {
		v, ok := match(r.segments, segs)
		if !ok {
			continue
		}
		found = true
		if r.method == method || (method == http.MethodHead && r.method == http.MethodGet) {
			return r.handler, v, true
		}
	}
	return nil, nil, found
	// exercise:end 01-router
}

// match matches a split path against a split pattern and returns the
// captured variables.
func match(pattern, path []string) (map[string]string, bool) {
	// exercise:begin 01-router
	vars := map[string]string{}
	for i, p := range pattern {
		if name, ok := strings.CutSuffix(strings.TrimPrefix(p, "{"), "...}"); ok && strings.HasPrefix(p, "{") {
			// A multi-segment wildcard takes everything but the rest of the pattern.
			rest := pattern[i+1:]
			n := len(path) - i - len(rest)
			if n < 1 {
				return nil, false
			}
			vars[name] = strings.Join(path[i:i+n], "/")
			tail, ok := match(rest, path[i+n:])
			for k, v := range tail {
				vars[k] = v
			}
			return vars, ok
		}
		if i >= len(path) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if path[i] == "" {
				return nil, false
			}
			vars[p[1:len(p)-1]] = path[i]
			continue
		}
		if p != path[i] {
			return nil, false
		}
	}
	return vars, len(pattern) == len(path)
	// exercise:end 01-router
}

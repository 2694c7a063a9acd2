package api

import (
	"net/http"
	"testing"
)

// TestRouterEdgeCases: HEAD is answered by the GET route, a {name}
// segment never matches an empty segment, a fixed segment must match
// exactly, and a path that matches no route at all is a 404 (not found),
// while a known path with another method is a 405 (found, no handler).
func TestRouterEdgeCases(t *testing.T) {
	var rt router
	ok := func(w http.ResponseWriter, r *http.Request, v map[string]string) error { return nil }
	rt.handle("GET", "/containers/{id}/json", ok)
	rt.handle("GET", "/_ping", ok)
	rt.handle("POST", "/containers/{id}/start", ok)
	rt.handle("GET", "/images/{name...}", ok)

	for _, tc := range []struct {
		method, path string
		handler      bool
		found        bool
		vars         map[string]string
	}{
		{"HEAD", "/_ping", true, true, nil},
		{"GET", "/containers/abc/json", true, true, map[string]string{"id": "abc"}},
		{"GET", "/containers//json", false, false, nil},
		{"GET", "/containers/abc/jsonx", false, false, nil},
		{"GET", "/containers/abc", false, false, nil},
		{"DELETE", "/containers/abc/start", false, true, nil},
		{"GET", "/images/a/b/c", true, true, map[string]string{"name": "a/b/c"}},
		{"GET", "/images", false, false, nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			h, vars, found := rt.lookup(tc.method, tc.path)
			if (h != nil) != tc.handler || found != tc.found {
				t.Errorf("%s %s: handler %v, found %v; want %v, %v", tc.method, tc.path, h != nil, found, tc.handler, tc.found)
				return
			}
			for k, want := range tc.vars {
				if vars[k] != want {
					t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, k, vars[k], want)
				}
			}
		})
	}
}

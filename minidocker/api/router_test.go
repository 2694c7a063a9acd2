package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRouterMatchesMultiSegmentNames(t *testing.T) {
	var rt router
	var got string
	rt.handle("GET", "/images/{name...}/json", func(w http.ResponseWriter, r *http.Request, v map[string]string) error {
		got = "inspect " + v["name"]
		return nil
	})
	rt.handle("GET", "/containers/{id}/json", func(w http.ResponseWriter, r *http.Request, v map[string]string) error {
		got = "container " + v["id"]
		return nil
	})
	for path, want := range map[string]string{
		"/images/busybox/json":                    "inspect busybox",
		"/images/localhost:5000/lib/busybox/json": "inspect localhost:5000/lib/busybox",
		"/containers/abc/json":                    "container abc",
	} {
		t.Run(path, func(t *testing.T) {
			h, vars, found := rt.lookup("GET", path)
			if assert.True(t, found, path) && assert.NotNil(t, h, path) {
				_ = h(nil, nil, vars)
				assert.Equal(t, want, got)
			}
		})
	}
	_, _, found := rt.lookup("GET", "/images/json/extra")
	assert.False(t, found)
	h, _, found := rt.lookup("POST", "/containers/abc/json")
	assert.True(t, found, "path exists")
	assert.Nil(t, h, "but not for POST: 405")
}

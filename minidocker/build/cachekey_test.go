package build

import (
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// TestCacheKeyParts: a step's cache key changes with each thing that
// makes the step's result different — the parent image, the step itself,
// the config it produces, the author — and cacheKeyOf keeps its parts
// apart ("ab"+"c" is not "a"+"bc").
func TestCacheKeyParts(t *testing.T) {
	if a, b := cacheKeyOf("ab", "c"), cacheKeyOf("a", "bc"); a == b {
		t.Errorf("cacheKeyOf(ab, c) == cacheKeyOf(a, bc): the parts run into each other")
	}
	if cacheKeyOf("a", "b") != cacheKeyOf("a", "b") || len(cacheKeyOf("a")) != 64 {
		t.Errorf("cacheKeyOf must be a stable sha256 hex: %q", cacheKeyOf("a"))
	}
	bd := &builder{}
	base := func() *stage {
		st := &stage{imageID: "sha256:parent"}
		st.img.Author = "me"
		st.img.Config.Env = []string{"A=1"}
		st.img.Config.Labels = map[string]string{"l": "1"}
		return st
	}
	key0 := bd.cacheKey(base(), "/bin/sh -c make")
	if key0 != bd.cacheKey(base(), "/bin/sh -c make") {
		t.Fatal("the same step on the same parent must give the same key")
	}
	for name, change := range map[string]func(*stage) string{
		"parent image": func(st *stage) string { st.imageID = "sha256:other"; return "/bin/sh -c make" },
		"the step":     func(st *stage) string { return "/bin/sh -c make install" },
		"a label":      func(st *stage) string { st.img.Config.Labels = map[string]string{"l": "2"}; return "/bin/sh -c make" },
		"the env":      func(st *stage) string { st.img.Config.Env = []string{"A=2"}; return "/bin/sh -c make" },
		"the author":   func(st *stage) string { st.img.Author = "you"; return "/bin/sh -c make" },
		"the user": func(st *stage) string {
			st.img.Config = dockerspec.DockerOCIImageConfig{}
			st.img.Config.Env, st.img.Config.Labels = []string{"A=1"}, map[string]string{"l": "1"}
			st.img.Config.User = "nobody"
			return "/bin/sh -c make"
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := base()
			if bd.cacheKey(st, change(st)) == key0 {
				t.Errorf("changing %s does not change the cache key: a stale layer would be reused", name)
			}
		})
	}
}

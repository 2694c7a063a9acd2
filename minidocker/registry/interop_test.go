package registry

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// A real client: go-containerregistry (the library under crane, ko, …)
// pushes and pulls images and an index through its own upload strategy
// (streamed PATCH, cross-repo mount), with basic auth.
func TestGoContainerRegistryClient(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	s, err := New(Options{Root: t.TempDir(), HtpasswdFile: writeHtpasswd(t, "ci:"+string(hash)), Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")
	auth := remote.WithAuth(&authn.Basic{Username: "ci", Password: "pw"})
	ctx := context.Background()

	img, err := random.Image(3000, 3)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(host+"/library/busybox:latest", name.Insecure)
	if err := remote.Write(tag, img, auth); err != nil {
		t.Fatalf("push: %v", err)
	}
	pulled, err := remote.Image(tag, auth)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	want, _ := img.Digest()
	got, _ := pulled.Digest()
	if got != want {
		t.Fatalf("pulled %s, pushed %s", got, want)
	}
	layers, _ := pulled.Layers()
	for _, l := range layers {
		rc, err := l.Compressed() // verifies the digest while reading
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("layer: %v", err)
		}
		rc.Close()
	}

	// The same image to another repository: layers are mounted, not re-sent.
	tag2, _ := name.NewTag(host+"/mirror/busybox:1", name.Insecure)
	if err := remote.Write(tag2, img, auth); err != nil {
		t.Fatalf("push to second repo: %v", err)
	}

	idx, err := random.Index(1000, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	itag, _ := name.NewTag(host+"/library/busybox:multi", name.Insecure)
	if err := remote.WriteIndex(itag, idx, auth); err != nil {
		t.Fatalf("push index: %v", err)
	}
	desc, err := remote.Get(itag, auth)
	if err != nil || !desc.MediaType.IsIndex() {
		t.Fatalf("get index: %v %v", err, desc)
	}

	tags, err := remote.List(tag.Context(), auth, remote.WithContext(ctx))
	if err != nil || strings.Join(tags, ",") != "latest,multi" {
		t.Errorf("tags %v %v", tags, err)
	}
	reg, _ := name.NewRegistry(host, name.Insecure)
	repos, err := remote.Catalog(ctx, reg, auth)
	if err != nil || strings.Join(repos, ",") != "library/busybox,mirror/busybox" {
		t.Errorf("catalog %v %v", repos, err)
	}

	// Without credentials nothing works.
	if _, err := remote.Image(tag); err == nil {
		t.Error("anonymous pull succeeded on a registry with htpasswd")
	}
}

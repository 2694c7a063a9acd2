package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestSaveReadByOtherTools checks our save output with go-containerregistry's
// readers of both layouts (docker's manifest.json and the OCI layout), which
// validate every digest and diffID.
func TestSaveReadByOtherTools(t *testing.T) {
	s := newStore(t)
	loadFixture(t, s)
	want := readFixtureInspect(t)
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{"fixture:v1"}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	tag, _ := name.NewTag("fixture:v1")
	img, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, &tag)
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, img)
	if cn, _ := img.ConfigName(); "sha256:"+cn.Hex != want.Id {
		t.Errorf("config %s", cn)
	}
	// the OCI layout view
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		p := filepath.Join(dir, h.Name)
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := io.ReadAll(tr)
		os.WriteFile(p, b, 0o644)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	// every blob is what its name says
	ents, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, "blobs", "sha256", e.Name()))
		if digestOf(b) != "sha256:"+e.Name() {
			t.Errorf("blob %s has the wrong content", e.Name())
		}
	}
	// (validate.Index would gunzip the layers: go-containerregistry assumes
	// compressed layers in a layout; docker ≥ 25 writes them uncompressed, as we do)
	oimgs, err := partialImages(idx)
	if err != nil || len(oimgs) != 1 {
		t.Fatal(oimgs, err)
	}
	if cn, _ := oimgs[0].ConfigName(); "sha256:"+cn.Hex != want.Id {
		t.Errorf("OCI config %s", cn)
	}
	if ls, _ := oimgs[0].Layers(); len(ls) != 7 {
		t.Errorf("OCI layers %d", len(ls))
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["io.containerd.image.name"] != "docker.io/library/fixture:v1" {
		t.Errorf("index %+v", im.Manifests)
	}
}

// TestLoadGgcrTarball loads a docker-archive written by another tool, with
// gzip-compressed layers.
func TestLoadGgcrTarball(t *testing.T) {
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("127.0.0.1:5000/rand:v1")
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	lines, err := s.Load(context.Background(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "|") != "Loaded image: 127.0.0.1:5000/rand:v1" {
		t.Errorf("lines %q", lines)
	}
	cn, _ := img.ConfigName()
	if ins, err := s.Inspect("127.0.0.1:5000/rand:v1"); err != nil || ins.ID != "sha256:"+cn.Hex {
		t.Errorf("inspect %v %v", ins, err)
	}
}

func TestPullIndexAndMirror(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t, nil)
	mk := func(arch string) v1.Image {
		img, _ := random.Image(1024, 2)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, _ = mutate.ConfigFile(img, cf)
		return img
	}
	arm, amd := mk("arm64"), mk("amd64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	ref, _ := name.ParseReference(host + "/library/multi:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	amdID, _ := amd.ConfigName()

	s := newStore(t)
	var pl progressLog
	img, err := s.Pull(ctx, host+"/library/multi:v1", RegistryOptions{}, pl.sink)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != "sha256:"+amdID.Hex {
		t.Errorf("picked %s, want the amd64 image", img.ID)
	}
	if !strings.Contains(pl.String(), "Digest: "+idxDigest.String()) {
		t.Errorf("progress:\n%s", pl.String())
	}

	// a docker.io name through a mirror (the mirror has it, so docker.io is never asked)
	m := newStore(t)
	pl = progressLog{}
	img, err = m.Pull(ctx, "multi:v1", RegistryOptions{Mirrors: []string{"http://" + host}}, pl.sink)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != "sha256:"+amdID.Hex {
		t.Errorf("mirror pull %s", img.ID)
	}
	ins, _ := m.Inspect("multi:v1")
	if strings.Join(ins.RepoTags, ",") != "multi:v1" || len(ins.RepoDigests) != 1 || ins.RepoDigests[0] != "multi@"+idxDigest.String() {
		t.Errorf("tags %v digests %v", ins.RepoTags, ins.RepoDigests)
	}
	if !strings.HasSuffix(pl.String(), "Status: Downloaded newer image for multi:v1") || !strings.HasPrefix(pl.String(), "v1: Pulling from library/multi") {
		t.Errorf("progress:\n%s", pl.String())
	}
}

func partialImages(idx v1.ImageIndex) ([]v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []v1.Image
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// checkImage reads every layer of img both ways and checks the digests
// (what validate.Image does, without its go-cmp dependency).
func checkImage(t *testing.T, img v1.Image) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != len(cf.RootFS.DiffIDs) {
		t.Fatalf("%d layers, %d diffIDs", len(ls), len(cf.RootFS.DiffIDs))
	}
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if got := digestOf(b); got != cf.RootFS.DiffIDs[i].String() {
			t.Errorf("layer %d: diffID %s, config says %s", i, got, cf.RootFS.DiffIDs[i])
		}
	}
}

package build

import (
	"context"
	"encoding/json"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fixtureDir holds the reference output of the real docker, made by
// scripts/mkfixtures (MINIDOCKER_FIXTURES points elsewhere, e.g. at a fresh
// run of that script).
func fixtureDir() string {
	if d := os.Getenv("MINIDOCKER_FIXTURES"); d != "" {
		return d
	}
	return filepath.Join(testutil.RepoRoot(), "testdata", "docker")
}

// fixturePath is the path of one fixture file; the fixtures are part of the
// repository, so a missing one fails the test.
func fixturePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(fixtureDir(), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v (remake the fixtures with scripts/mkfixtures)", name, err)
	}
	return p
}

// fixtureContext copies the fixture context (read-only files) into a temp
// dir with the Dockerfile, writable so tests can touch/edit files.
func fixtureContext(t testing.TB) string {
	dir := t.TempDir()
	must(t, cpA(fixturePath(t, "context"), filepath.Join(dir, "ctx")))
	ctx := filepath.Join(dir, "ctx")
	filepath.Walk(ctx, func(p string, fi os.FileInfo, err error) error {
		if fi.IsDir() {
			os.Chmod(p, 0o755)
		} else {
			os.Chmod(p, 0o644)
		}
		return nil
	})
	df, err := os.ReadFile(fixturePath(t, "fixture.Dockerfile"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(ctx, "fixture.Dockerfile"), df, 0o644))
	return ctx
}

type inspectJSON struct {
	Author string
	Config struct {
		User         string
		ExposedPorts map[string]struct{}
		Env          []string
		Cmd          []string
		Volumes      map[string]struct{}
		WorkingDir   string
		Entrypoint   []string
		Labels       map[string]string
		StopSignal   string
	}
}

func TestFixtureMatchesDocker(t *testing.T) {
	var want []inspectJSON
	data, err := os.ReadFile(fixturePath(t, "image-inspect.json"))
	must(t, err)
	must(t, json.Unmarshal(data, &want))
	var saved struct {
		History []struct {
			CreatedBy  string `json:"created_by"`
			Author     string `json:"author"`
			EmptyLayer bool   `json:"empty_layer"`
		} `json:"history"`
	}
	// the config blob of fixture:v1, extracted from the docker save tar
	saveTar := fixturePath(t, "fixture-v1.docker-save.tar")
	var manifest []struct{ Config string }
	must(t, json.Unmarshal(readTarMember(t, saveTar, "manifest.json"), &manifest))
	raw := readTarMember(t, saveTar, manifest[0].Config)
	must(t, json.Unmarshal(raw, &saved))

	f := newFake(t)
	f.busybox(t)
	ctxDir := fixtureContext(t)
	state := t.TempDir()
	id, out, err := doBuild(t, f, ctxDir, Options{Tags: []string{"fixture:v1"}, Dockerfile: "fixture.Dockerfile", StateDir: state})
	if err != nil {
		t.Fatal(err, out)
	}
	img, _ := f.GetImage(context.Background(), id)
	c := img.Config.Config
	w := want[0].Config
	if c.User != w.User || c.WorkingDir != w.WorkingDir || c.StopSignal != w.StopSignal ||
		!slices.Equal(c.Env, w.Env) || !slices.Equal(c.Cmd, w.Cmd) || !slices.Equal(c.Entrypoint, w.Entrypoint) ||
		!sameKeys(c.ExposedPorts, w.ExposedPorts) || !sameKeys(c.Volumes, w.Volumes) || !sameMap(c.Labels, w.Labels) ||
		img.Config.Author != want[0].Author {
		t.Errorf("config differs:\n got %+v\nwant %+v", c, w)
	}
	if len(img.Config.History) != len(saved.History) {
		t.Fatalf("history length %d, docker %d", len(img.Config.History), len(saved.History))
	}
	// exact, including "COPY file:0be1f879… in /app/ " and "COPY dir:02f1dbbf…":
	// the source hash is docker's (tarsum v1 of the context entries)
	uid0 := os.Geteuid() == 0 // docker's context files are owned 0:0; so are ours only as root
	hashRE := regexp.MustCompile(`(file|dir):[0-9a-f]{64}`)
	for i, h := range img.Config.History {
		d := saved.History[i]
		got, exp := h.CreatedBy, d.CreatedBy
		if !uid0 {
			got, exp = hashRE.ReplaceAllString(got, "$1:HASH"), hashRE.ReplaceAllString(exp, "$1:HASH")
		}
		if got != exp || h.EmptyLayer != d.EmptyLayer || h.Author != d.Author {
			t.Errorf("history[%d]:\n got %q empty=%v author=%q\nwant %q empty=%v author=%q", i, got, h.EmptyLayer, h.Author, exp, d.EmptyLayer, d.Author)
		}
	}
	if n := len(img.Config.RootFS.DiffIDs); n != 7 {
		t.Errorf("%d layers, docker has 7", n)
	}
	// WORKDIR layer holds only app/; COPY layers hold the files
	layers := f.layers[id] // topmost first: RUN×3, COPY dir, COPY file, WORKDIR, base
	if ents, _ := os.ReadDir(layers[5]); len(ents) != 1 || ents[0].Name() != "app" {
		t.Errorf("WORKDIR layer: %v", ents)
	}
	for _, p := range []string{"app/conf/a.conf", "app/conf/sub/b.conf"} {
		if _, err := os.Stat(filepath.Join(layers[3], p)); err != nil {
			t.Errorf("COPY dir layer: %v", err)
		}
	}

	// legacy container/container_config of the last step, as in the fixture
	cc := f.lastReq.ContainerConfig
	if cc == nil || !slices.Equal(cc.Cmd, []string{"/bin/sh", "-c", "#(nop) ", `CMD ["hello"]`}) ||
		cc.Hostname != f.lastReq.Container[:12] || cc.Image != f.parentOf(id) ||
		!slices.Equal(cc.Entrypoint, []string{"/bin/echo"}) || cc.User != "nobody" || len(cc.ExposedPorts) != 2 {
		t.Errorf("container_config %+v", cc)
	}

	// the output, IDs masked, equals docker's (minus the CLI's own lines)
	compareOutput(t, out, fixturePath(t, "build-output.txt"))

	// second build: every step from cache, same image
	id2, out2, err := doBuild(t, f, ctxDir, Options{Tags: []string{"fixture:v1"}, Dockerfile: "fixture.Dockerfile", StateDir: state})
	if err != nil || id2 != id {
		t.Fatalf("cached build: %v %s %s", err, id2, id)
	}
	compareOutput(t, out2, fixturePath(t, "build-output-cached.txt"))
}

var idRE = regexp.MustCompile(`[0-9a-f]{12}`)

func compareOutput(t *testing.T, got, fixture string) {
	t.Helper()
	data, err := os.ReadFile(fixture)
	must(t, err)
	var want []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "DEPRECATED") || strings.HasPrefix(l, "            ") || strings.HasPrefix(l, "Sending build context") || l == "" {
			continue
		}
		want = append(want, idRE.ReplaceAllString(l, "ID"))
	}
	var have []string
	for _, l := range strings.Split(got, "\n") {
		if l == "" || strings.HasPrefix(l, "ran: ") {
			continue
		}
		have = append(have, idRE.ReplaceAllString(l, "ID"))
	}
	if !slices.Equal(have, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", filepath.Base(fixture), strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}

func sameKeys(a, b map[string]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

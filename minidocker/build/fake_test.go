package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeBackend keeps images in memory and layers as directories (copies of
// the upperdirs it is given). Run is a Go function supplied by the test.
type fakeBackend struct {
	mu       sync.Mutex
	dir      string
	images   map[string]Image
	layers   map[string][]string // image ID → layer dirs, topmost first
	refs     map[string]string
	registry map[string]func() // refs that PullImage can "pull"
	runs     []RunSpec
	run      func(spec RunSpec) (int, error)
	commits  int
	tags     map[string]string
	lastReq  CommitRequest
}

func newFake(t testing.TB) *fakeBackend {
	f := &fakeBackend{dir: t.TempDir(), images: map[string]Image{}, layers: map[string][]string{},
		refs: map[string]string{}, registry: map[string]func(){}, tags: map[string]string{}}
	f.run = fakeShell
	return f
}

// fakeShell understands a few shell commands by writing into the upper dir.
func fakeShell(spec RunSpec) (int, error) {
	line := strings.Join(spec.Args, " ")
	if strings.Contains(line, "false") || strings.Contains(line, "exit 1") {
		return 1, nil
	}
	if strings.Contains(line, "exit 3") {
		return 3, nil
	}
	fmt.Fprintf(spec.Stdout, "ran: %s\n", line)
	// record every RUN as a file so the step has a layer
	p := filepath.Join(spec.UpperDir, "run-"+shortHash(line))
	return 0, os.WriteFile(p, []byte(strings.Join(spec.Env, "\n")), 0o644)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

func (f *fakeBackend) GetImage(ctx context.Context, ref string) (Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img, ok := f.images[ref]; ok {
		return img, nil
	}
	r := ref
	if !strings.Contains(r, ":") && !strings.Contains(r, "@") {
		r += ":latest"
	}
	if id, ok := f.refs[r]; ok {
		return f.images[id], nil
	}
	for id, img := range f.images {
		if len(ref) >= 12 && strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), ref) {
			return img, nil
		}
	}
	return Image{}, errdefs.NotFound("No such image: %s", r)
}

func (f *fakeBackend) PullImage(ctx context.Context, ref string, out io.Writer) (Image, error) {
	r := ref
	if !strings.Contains(r, ":") {
		r += ":latest"
	}
	if mk, ok := f.registry[r]; ok {
		fmt.Fprintf(out, "%s: Pulling from library/%s\n", strings.SplitN(r, ":", 2)[1], strings.SplitN(r, ":", 2)[0])
		mk()
		return f.GetImage(ctx, r)
	}
	name := strings.SplitN(ref, ":", 2)[0]
	return Image{}, errdefs.NotFound("pull access denied for %s, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", name)
}

func (f *fakeBackend) LayerDirs(ctx context.Context, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.images[id]; !ok {
		return nil, errdefs.NotFound("No such image: %s", id)
	}
	return append([]string(nil), f.layers[id]...), nil
}

func (f *fakeBackend) Commit(ctx context.Context, parentID, upperDir string, req CommitRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits++
	var img dockerspec.DockerOCIImage
	var parentLayers []string
	if parentID != "" {
		p, ok := f.images[parentID]
		if !ok {
			return "", fmt.Errorf("no parent %s", parentID)
		}
		parentLayers = f.layers[parentID]
		img = p.Config
		img.History = append([]ocispec.History(nil), img.History...)
		img.RootFS.DiffIDs = append([]digestT(nil), img.RootFS.DiffIDs...)
	} else {
		img.OS, img.Architecture = req.OS, req.Architecture
		img.RootFS.Type = "layers"
	}
	created := req.Created
	img.Created = &created
	img.Config = req.Config
	img.Author = req.Author
	layers := append([]string(nil), parentLayers...)
	if upperDir != "" {
		dst := filepath.Join(f.dir, fmt.Sprintf("layer%d", f.commits))
		if err := cpA(upperDir, dst); err != nil {
			return "", err
		}
		layers = append([]string{dst}, layers...)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digestT("sha256:"+treeDigest(dst)))
	}
	img.History = append(img.History, ocispec.History{Created: &created, CreatedBy: req.CreatedBy, Author: req.Author, EmptyLayer: upperDir == ""})
	data, _ := json.Marshal(struct {
		dockerspec.DockerOCIImage
		Container       string `json:"container,omitempty"`
		ContainerConfig any    `json:"container_config,omitempty"`
	}{img, req.Container, req.ContainerConfig})
	sum := sha256.Sum256(data)
	id := "sha256:" + hex.EncodeToString(sum[:])
	f.images[id] = Image{ID: id, Config: img}
	f.layers[id] = layers
	f.lastReq = req
	return id, nil
}

func (f *fakeBackend) Run(ctx context.Context, spec RunSpec) (int, error) {
	f.mu.Lock()
	f.runs = append(f.runs, spec)
	f.mu.Unlock()
	return f.run(spec)
}

func (f *fakeBackend) Tag(ctx context.Context, id, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs[ref] = id
	f.tags[ref] = id
	return nil
}

// addImage stores an image made of the given layer dirs (bottom first).
func (f *fakeBackend) addImage(ref string, cfg dockerspec.DockerOCIImage, layerDirsBottomFirst ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var top []string
	var diff []digestT
	for _, d := range layerDirsBottomFirst {
		top = append([]string{d}, top...)
		diff = append(diff, digestT("sha256:"+treeDigest(d)))
	}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: diff}
	data, _ := json.Marshal(cfg)
	sum := sha256.Sum256(data)
	id := "sha256:" + hex.EncodeToString(sum[:])
	f.images[id] = Image{ID: id, Config: cfg}
	f.layers[id] = top
	if ref != "" {
		f.refs[ref] = id
	}
	return id
}

// busybox adds a tiny busybox-like base image as "busybox:latest".
func (f *fakeBackend) busybox(t testing.TB) string {
	d := filepath.Join(f.dir, "busybox-layer")
	must(t, os.MkdirAll(filepath.Join(d, "bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(d, "etc"), 0o755))
	must(t, os.MkdirAll(filepath.Join(d, "tmp"), 0o1777))
	must(t, os.MkdirAll(filepath.Join(d, "run"), 0o755))
	must(t, os.MkdirAll(filepath.Join(d, "var"), 0o755))
	must(t, os.Symlink("/run", filepath.Join(d, "var/run")))
	must(t, os.WriteFile(filepath.Join(d, "bin/busybox"), []byte("#!busybox"), 0o755))
	must(t, os.Symlink("/bin/busybox", filepath.Join(d, "bin/sh")))
	must(t, os.Symlink("/bin/busybox", filepath.Join(d, "bin/vi")))
	must(t, os.WriteFile(filepath.Join(d, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\nstaff:x:50:\nbob:x:1000:\n"), 0o644))
	created := time.Date(2026, 11, 27, 13, 9, 4, 0, time.UTC)
	var cfg dockerspec.DockerOCIImage
	cfg.Created = &created
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Cmd = []string{"sh"}
	cfg.Config.Labels = map[string]string{"minidocker.peer": "busybox"}
	cfg.History = []ocispec.History{{Created: &created, Comment: "Imported from -"}}
	return f.addImage("busybox:latest", cfg, d)
}

type digestT = digestAlias

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cpA(src, dst string) error {
	type dirTime struct {
		p    string
		t    time.Time
		mode fs.FileMode
	}
	var dirs []dirTime
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirTime{target, fi.ModTime(), fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSetuid | fs.ModeSticky)})
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, 0o600); err != nil {
				return err
			}
			os.Chmod(target, fi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky))
			os.Chtimes(target, fi.ModTime(), fi.ModTime())
		default:
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			os.Lchown(target, int(st.Uid), int(st.Gid))
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // modes and times last: children are written
		os.Chmod(dirs[i].p, dirs[i].mode)
		os.Chtimes(dirs[i].p, dirs[i].t, dirs[i].t)
	}
	return err
}

// treeDigest is a stand-in diff ID: a hash of the names and contents.
func treeDigest(dir string) string {
	h := sha256.New()
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		rel, _ := filepath.Rel(dir, n)
		h.Write([]byte(rel))
		if data, err := os.ReadFile(n); err == nil {
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parentOf finds the image whose layers/history are one step shorter (the
// fake does not keep parent links; this is enough for the fixture test).
func (f *fakeBackend) parentOf(id string) string {
	img := f.images[id]
	n := len(img.Config.History)
	for pid, p := range f.images {
		if len(p.Config.History) == n-1 && pid != id && slices.Equal(historyLines(p), historyLines(img)[:n-1]) {
			return pid
		}
	}
	return ""
}

func historyLines(img Image) []string {
	var out []string
	for _, h := range img.Config.History {
		out = append(out, h.CreatedBy)
	}
	return out
}

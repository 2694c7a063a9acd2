package build

import (
	"errors"
	"github.com/minidocker/minidocker/minidocker/rootpath"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileView is a read-only tree the builder copies from: the build context
// or the merged view of an image's layers. Names are slash-separated,
// clean and relative ("." is the top). Implementations never follow a
// symlink themselves; resolveInScope does that, clamped to the top.
type fileView interface {
	Lstat(name string) (fs.FileInfo, error)
	Readlink(name string) (string, error)
	Open(name string) (*os.File, error)
	ReadDir(name string) ([]string, error) // sorted names
	Close() error
}

// dirView is a directory read through os.Root: the kernel refuses any
// access that would leave it.
//
// hidden names (cleaned, relative) do not exist for COPY/ADD: the
// Dockerfile and .dockerignore when .dockerignore lists them, as dockerd
// removes them from the context after reading them.
type dirView struct {
	root   *os.Root
	hidden map[string]bool
}

func openDirView(dir string) (*dirView, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirView{root: r}, nil
}

func (d *dirView) isHidden(name string) bool {
	return len(d.hidden) > 0 && d.hidden[path.Clean(strings.TrimPrefix(filepath.ToSlash(name), "/"))]
}

func (d *dirView) notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (d *dirView) Lstat(name string) (fs.FileInfo, error) {
	if d.isHidden(name) {
		return nil, d.notExist("lstat", name)
	}
	return d.root.Lstat(name)
}

func (d *dirView) Readlink(name string) (string, error) {
	if d.isHidden(name) {
		return "", d.notExist("readlink", name)
	}
	return d.root.Readlink(name)
}

func (d *dirView) Open(name string) (*os.File, error) {
	if d.isHidden(name) {
		return nil, d.notExist("open", name)
	}
	return d.root.Open(name)
}

func (d *dirView) Close() error { return d.root.Close() }

func (d *dirView) ReadDir(name string) ([]string, error) {
	if d.isHidden(name) {
		return nil, d.notExist("open", name)
	}
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	if len(d.hidden) > 0 {
		kept := names[:0]
		for _, n := range names {
			if !d.isHidden(path.Join(name, n)) {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	return names, err
}

// hideIgnored hides the Dockerfile and .dockerignore from COPY/ADD when
// the context's .dockerignore lists them (the CLIs send them regardless:
// the daemon needs to read them). This is how a Dockerfile from outside
// the context, sent as ".dockerfile.<random>" and listed in .dockerignore
// by the client, stays out of `COPY . /dst`.
func (d *dirView) hideIgnored(dockerfiles ...string) error {
	f, err := d.root.Open(".dockerignore")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ign, err := parseIgnore(f)
	f.Close()
	if err != nil {
		return err
	}
	for _, name := range append([]string{".dockerignore"}, dockerfiles...) {
		if name = path.Clean(name); ign.excluded(name) {
			if d.hidden == nil {
				d.hidden = map[string]bool{}
			}
			d.hidden[name] = true
		}
	}
	return nil
}

// layerView merges unpacked layers (topmost first) the way overlayfs does.
type layerView struct {
	dirs  []string
	roots []*os.Root
}

func openLayerView(dirs []string) (*layerView, error) {
	v := &layerView{dirs: dirs}
	for _, d := range dirs {
		r, err := os.OpenRoot(d)
		if err != nil {
			v.Close()
			return nil, err
		}
		v.roots = append(v.roots, r)
	}
	return v, nil
}

func (v *layerView) Close() error {
	for _, r := range v.roots {
		r.Close()
	}
	return nil
}

func isWhiteoutDev(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

func (v *layerView) opaque(i int, dir string) bool {
	if _, err := v.roots[i].Lstat(path.Join(dir, ".wh..wh..opq")); err == nil {
		return true
	}
	p := filepath.Join(v.dirs[i], filepath.FromSlash(dir))
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(p, attr, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// whitedOut reports whether layer i deletes name.
func (v *layerView) whitedOut(i int, name string) bool {
	dir, base := path.Split(name)
	if _, err := v.roots[i].Lstat(path.Join(dir, ".wh."+base)); err == nil {
		return true
	}
	fi, err := v.roots[i].Lstat(name)
	return err == nil && isWhiteoutDev(fi)
}

// find returns the index of the layer that provides name, or -1.
func (v *layerView) find(name string) int {
	if name == "." {
		if len(v.roots) == 0 {
			return -1
		}
		return 0
	}
	parts := strings.Split(name, "/")
	for i := range v.roots {
		stop := false
		// ancestors: whiteout, non-directory or opaque in this layer.
		for j := 1; j < len(parts); j++ {
			anc := strings.Join(parts[:j], "/")
			if v.whitedOut(i, anc) {
				return -1
			}
			fi, err := v.roots[i].Lstat(anc)
			if err == nil && !fi.IsDir() {
				return -1
			}
			if err == nil && v.opaque(i, anc) {
				stop = true
			}
		}
		if v.whitedOut(i, name) {
			return -1
		}
		if _, err := v.roots[i].Lstat(name); err == nil {
			return i
		}
		if stop {
			return -1
		}
	}
	return -1
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (v *layerView) Lstat(name string) (fs.FileInfo, error) {
	i := v.find(name)
	if i < 0 {
		if name == "." {
			return rootDirInfo{}, nil
		}
		return nil, notExist("stat", name)
	}
	return v.roots[i].Lstat(name)
}

func (v *layerView) Readlink(name string) (string, error) {
	i := v.find(name)
	if i < 0 {
		return "", notExist("readlink", name)
	}
	return v.roots[i].Readlink(name)
}

func (v *layerView) Open(name string) (*os.File, error) {
	i := v.find(name)
	if i < 0 {
		return nil, notExist("open", name)
	}
	return v.roots[i].Open(name)
}

func (v *layerView) ReadDir(name string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	found := false
	for i := range v.roots {
		if name != "." && v.find(name) < 0 {
			break
		}
		fi, err := v.roots[i].Lstat(name)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			break
		}
		found = true
		f, err := v.roots[i].Open(name)
		if err != nil {
			return nil, err
		}
		ents, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if n == ".wh..wh..opq" {
				continue
			}
			if strings.HasPrefix(n, ".wh.") {
				seen[strings.TrimPrefix(n, ".wh.")] = true
				continue
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			if e.Type()&fs.ModeCharDevice != 0 {
				if info, err := e.Info(); err == nil && isWhiteoutDev(info) {
					continue
				}
			}
			out = append(out, n)
		}
		if v.opaque(i, name) {
			break
		}
	}
	if !found && name != "." {
		return nil, notExist("readdir", name)
	}
	sort.Strings(out)
	return out, nil
}

type rootDirInfo struct{ fs.FileInfo }

func (rootDirInfo) Name() string      { return "/" }
func (rootDirInfo) IsDir() bool       { return true }
func (rootDirInfo) Mode() fs.FileMode { return fs.ModeDir | 0o755 }
func (rootDirInfo) Size() int64       { return 0 }
func (rootDirInfo) Sys() any          { return nil }

// resolveInScope follows symlinks in name inside view, treating the view's
// top as "/" (absolute targets and ".." are clamped to it, as docker does
// for the build context and image roots). With followLast false the last
// component is not followed. The result is clean and relative.
func resolveInScope(v fileView, name string, followLast bool) (string, error) {
	return rootpath.Resolve(v, cleanRel(name), followLast)
}

// cleanRel makes any path relative to "/" with ".." clamped at the top.
func cleanRel(p string) string {
	c := path.Clean("/" + filepath.ToSlash(p))
	if c == "/" {
		return "."
	}
	return c[1:]
}

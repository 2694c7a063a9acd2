package archive

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ChangeKind is what happened to a path, with the numbers of the Engine
// API's FilesystemChange (docker diff prints C, A and D).
type ChangeKind uint8

// The kinds of change, in the API's numbering.
const (
	ChangeModify ChangeKind = 0
	ChangeAdd    ChangeKind = 1
	ChangeDelete ChangeKind = 2
)

// Change is one path of `docker diff`, absolute inside the container.
type Change struct {
	Path string
	Kind ChangeKind
}

// OverlayChanges lists what a container changed, read from its overlay
// upper directory alone: everything there is new (A) unless a lower layer
// has it (C); a whiteout device is a deletion (D); an opaque directory
// hides all the lower entries it does not hold again (each a D). A
// directory copied up unchanged is not listed, but the parent of an added
// or deleted entry always is (C), as docker lists it. lowers are the
// image's layer directories, topmost first. The paths in ignore are left
// out as if absent (the mount points a runtime makes).
func OverlayChanges(lowers []string, upper string, ignore ...string) ([]Change, error) {
	cw := &changeWalker{lowers: lowers, upper: upper, listed: map[string]bool{}, ignore: map[string]bool{}}
	for _, p := range ignore {
		cw.ignore[p] = true
	}
	if err := cw.walk("/"); err != nil {
		return nil, err
	}
	slices.SortStableFunc(cw.out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return cw.out, nil
}

type changeWalker struct {
	lowers []string
	upper  string
	listed map[string]bool // directories already listed
	ignore map[string]bool
	out    []Change
}

// walk looks at the children of directory dir (absolute in the container).
func (cw *changeWalker) walk(dir string) error {
	ents, err := os.ReadDir(filepath.Join(cw.upper, dir))
	if err != nil {
		return err
	}
	for _, e := range ents {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone meanwhile (a running container)
		} else if err != nil {
			return err
		}
		if err := cw.entry(path.Join(dir, e.Name()), fi); err != nil {
			return err
		}
	}
	return nil
}

func (cw *changeWalker) entry(p string, fi fs.FileInfo) error {
	if cw.ignore[p] {
		return nil
	}
	if isWhiteout(fi) {
		cw.add(p, ChangeDelete)
		return nil
	}
	lower, inLower := cw.lowerStat(p)
	switch {
	case !inLower:
		cw.add(p, ChangeAdd)
	case !fi.IsDir() || !lower.IsDir() || !sameDir(fi, lower):
		cw.add(p, ChangeModify)
	}
	if !fi.IsDir() {
		return nil
	}
	if inLower && opaqueDir(filepath.Join(cw.upper, p)) {
		if err := cw.hidden(p); err != nil {
			return err
		}
	}
	return cw.walk(p)
}

// add records a change, and its parent directory as modified (once).
func (cw *changeWalker) add(p string, kind ChangeKind) {
	if kind != ChangeModify || !cw.listed[p] {
		cw.out = append(cw.out, Change{Path: p, Kind: kind})
	}
	cw.listed[p] = true
	if kind == ChangeModify {
		return
	}
	if parent := path.Dir(p); parent != "/" && !cw.listed[parent] {
		cw.listed[parent] = true
		cw.out = append(cw.out, Change{Path: parent, Kind: ChangeModify})
	}
}

// hidden lists as deleted the lower entries of an opaque directory that
// the upper one does not hold again.
func (cw *changeWalker) hidden(dir string) error {
	seen := map[string]bool{}
	for _, l := range cw.lowers {
		ents, err := os.ReadDir(filepath.Join(l, dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name())
			if seen[p] {
				continue
			}
			seen[p] = true
			if _, err := os.Lstat(filepath.Join(cw.upper, p)); err == nil {
				continue
			}
			if _, ok := cw.lowerStat(p); ok {
				cw.add(p, ChangeDelete)
			}
		}
	}
	return nil
}

// lowerStat finds p in the image's merged view: the topmost layer that
// has it, unless a whiteout or an opaque directory above hides it.
func (cw *changeWalker) lowerStat(p string) (fs.FileInfo, bool) {
	for _, l := range cw.lowers {
		fi, err := os.Lstat(filepath.Join(l, p))
		if err == nil {
			return fi, !isWhiteout(fi)
		}
		if opaqueAncestor(l, p) {
			return nil, false
		}
	}
	return nil, false
}

// opaqueAncestor reports whether a directory above p in layer l is opaque
// (it hides the layers below it).
func opaqueAncestor(l, p string) bool {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if opaqueDir(filepath.Join(l, d)) {
			return true
		}
	}
	return false
}

// opaqueDir reports whether the directory at p is an opaque overlay dir.
func opaqueDir(p string) bool {
	for _, name := range []string{xattrOpaque, xattrOpaqueUser} {
		b := make([]byte, 8)
		if n, err := unix.Lgetxattr(p, name, b); err == nil && n == 1 && b[0] == 'y' {
			return true
		}
	}
	return false
}

// sameDir: a directory copied up for a change below it keeps the lower
// one's mode and owner. Its times are not compared: an entry made in it
// (a runtime's mount point, too) moves them, and an added or deleted
// entry lists its parent anyway.
func sameDir(a, b fs.FileInfo) bool {
	sa, oka := a.Sys().(*syscall.Stat_t)
	sb, okb := b.Sys().(*syscall.Stat_t)
	return a.Mode() == b.Mode() && oka && okb && sa.Uid == sb.Uid && sa.Gid == sb.Gid
}

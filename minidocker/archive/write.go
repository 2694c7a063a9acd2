package archive

import (
	"archive/tar"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// WriteOptions say how WriteTree names and filters what it writes.
type WriteOptions struct {
	// Name is the name of the top entry: "hostname", "etc", "." (a
	// directory's contents, "./…"), "/" (entries "/…"). "" writes no top
	// entry and names the rest relative to it ("bin/sh"), as a layer or a
	// build context is.
	Name string
	// OverlayWhiteouts writes overlayfs whiteouts (0/0 character devices)
	// as OCI ".wh.NAME" entries and an opaque directory's xattr as a
	// ".wh..wh..opq" entry: what turns an overlay upperdir into a layer.
	OverlayWhiteouts bool
	// RootOwned writes every entry as owned by 0:0 (a build context, as
	// the docker CLI sends it).
	RootOwned bool
	// MapIDs, if set, gives each entry's owner in the archive from its
	// owner on disk (a remapped container's files: host 100000 → 0).
	MapIDs func(uid, gid int) (int, int)
	// Exclude, if set, is asked about every entry below the top (rel is
	// slash-separated, relative to it): skip leaves the entry out; prune
	// also leaves out everything below a directory (.dockerignore).
	Exclude func(rel string, isDir bool) (skip, prune bool)
}

// pseudoFS are the file systems whose contents are never archived (a
// running container's /proc, /sys, …), only their mount point, as docker cp
// does.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.CGROUP_SUPER_MAGIC: true,
	unix.CGROUP2_SUPER_MAGIC: true, unix.DEVPTS_SUPER_MAGIC: true, 0x19800202: true, // mqueue
	unix.DEBUGFS_MAGIC: true, unix.TRACEFS_MAGIC: true, unix.SECURITYFS_MAGIC: true,
	unix.BPF_FS_MAGIC: true,
}

// Writer is the one tar writer: trees from disk (AddTree) and files made in
// memory (AddFile, AddDir) go into the same archive.
type Writer struct {
	tw  *tar.Writer
	buf []byte
}

// NewWriter starts an archive on w; Close finishes it.
func NewWriter(w io.Writer) *Writer {
	return &Writer{tw: tar.NewWriter(w), buf: make([]byte, 128<<10)}
}

// Close writes the end-of-archive marker (it does not close the io.Writer).
func (w *Writer) Close() error { return w.tw.Close() }

// AddFile adds a regular file of size bytes read from r.
func (w *Writer) AddFile(name string, mode int64, mtime time.Time, size int64, r io.Reader) error {
	err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size,
		ModTime: mtime, Format: tar.FormatPAX})
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(w.tw, io.LimitReader(r, size), w.buf)
	if err == nil && n != size {
		err = fmt.Errorf("%s: %d bytes instead of %d", name, n, size)
	}
	return err
}

// AddDir adds a directory entry.
func (w *Writer) AddDir(name string, mode int64, mtime time.Time) error {
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimSuffix(name, "/") + "/",
		Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
}

// WriteTree writes rel (relative to root, not followed if it is a symlink)
// and, for a directory, everything below it, to w as one tar: the writer
// behind `docker cp` (both directions), commit's layer diff, the build
// context and export. See AddTree.
func WriteTree(ctx context.Context, root *os.Root, rel string, w io.Writer, opts WriteOptions) error {
	aw := NewWriter(w)
	if err := aw.AddTree(ctx, root, rel, opts); err != nil {
		return err
	}
	return aw.Close()
}

// AddTree adds rel (relative to root, not followed if it is a symlink) and,
// for a directory, everything below it. Everything is read through root, so
// a symlink swapped in meanwhile cannot make it read outside. Entries are
// sorted, times are whole seconds without atime/ctime and owners are numbers
// only (as docker's archiver writes them); hardlinked files become one file
// plus links; file capabilities travel as a PAX
// "SCHILY.xattr.security.capability" record; sockets are left out.
func (w *Writer) AddTree(ctx context.Context, root *os.Root, rel string, opts WriteOptions) error {
	t := &treeWriter{ctx: ctx, root: root, tw: w.tw, opts: opts,
		links: map[[2]uint64]string{}, buf: w.buf}
	return t.walk(rel, "")
}

type treeWriter struct {
	ctx   context.Context
	root  *os.Root
	tw    *tar.Writer
	opts  WriteOptions
	links map[[2]uint64]string // (dev, inode) → name of its first entry
	buf   []byte
}

// entryName is the tar name of sub (a path below the top, "" for the top).
func (t *treeWriter) entryName(sub string) string {
	switch {
	case sub == "":
		return t.opts.Name
	case t.opts.Name == "":
		return sub
	case t.opts.Name == "/":
		return "/" + sub
	}
	return t.opts.Name + "/" + sub
}

func (t *treeWriter) walk(p, sub string) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	fi, err := t.root.Lstat(p)
	if err != nil {
		if sub != "" && errors.Is(err, fs.ErrNotExist) {
			return nil // vanished meanwhile
		}
		return err
	}
	if sub != "" && t.opts.Exclude != nil {
		skip, prune := t.opts.Exclude(sub, fi.IsDir())
		if skip && (prune || !fi.IsDir()) {
			return nil
		}
		if skip {
			return t.children(p, sub)
		}
	}
	if sub == "" && t.opts.Name == "" {
		return t.children(p, sub) // no top entry
	}
	if t.opts.OverlayWhiteouts && isWhiteout(fi) {
		dir, base := path.Split(t.entryName(sub))
		return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + whiteoutPrefix + base,
			Mode: 0o600, ModTime: fi.ModTime().Truncate(time.Second), Format: tar.FormatPAX})
	}
	hdr, err := t.header(p, sub, fi)
	if err != nil || hdr == nil {
		return err
	}
	switch {
	case hdr.Typeflag == tar.TypeReg:
		return t.file(p, hdr)
	case fi.IsDir():
		return t.dir(p, sub, hdr)
	}
	return t.tw.WriteHeader(hdr)
}

// header describes fi as docker's archiver does; nil means "not archived"
// (a socket).
func (t *treeWriter) header(p, sub string, fi fs.FileInfo) (*tar.Header, error) {
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = t.root.Readlink(p); err != nil {
			return nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, nil // a socket: tar cannot hold it, docker skips it too
	}
	hdr.Name = t.entryName(sub)
	if fi.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	hdr.ModTime = hdr.ModTime.Truncate(time.Second)
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Format = tar.FormatPAX
	if t.opts.RootOwned {
		hdr.Uid, hdr.Gid = 0, 0
	} else if t.opts.MapIDs != nil {
		hdr.Uid, hdr.Gid = t.opts.MapIDs(hdr.Uid, hdr.Gid)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, seen := t.links[key]; seen {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			t.links[key] = hdr.Name
		}
	}
	return hdr, nil
}

// file writes a regular file's header (with its capabilities) and content.
func (t *treeWriter) file(p string, hdr *tar.Header) error {
	f, err := t.root.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	addCapability(f, hdr, t.opts.MapIDs)
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(t.tw, io.LimitReader(f, hdr.Size), t.buf)
	if err != nil {
		return err
	}
	if n < hdr.Size { // the file shrank while we read it: pad to the size announced
		_, err = io.CopyN(t.tw, zeroReader{}, hdr.Size-n)
	}
	return err
}

// dir writes a directory's header, its opaque marker and its children.
func (t *treeWriter) dir(p, sub string, hdr *tar.Header) error {
	d, err := t.root.Open(p)
	if err != nil {
		return err
	}
	var sfs unix.Statfs_t
	pseudo := unix.Fstatfs(int(d.Fd()), &sfs) == nil && pseudoFS[int64(sfs.Type)] && sub != ""
	opaque := t.opts.OverlayWhiteouts && isOpaque(d)
	d.Close()
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if opaque {
		err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: hdr.Name + opaqueMarker,
			Mode: hdr.Mode & 0o7777, ModTime: time.Unix(0, 0), Format: tar.FormatPAX})
		if err != nil {
			return err
		}
	}
	if pseudo {
		return nil
	}
	return t.children(p, sub)
}

// children walks the entries of directory p in name order.
func (t *treeWriter) children(p, sub string) error {
	d, err := t.root.Open(p)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		childSub := n
		if sub != "" {
			childSub = sub + "/" + n
		}
		if err := t.walk(path.Join(p, n), childSub); err != nil {
			return err
		}
	}
	return nil
}

// isOpaque reports whether the open directory d is an opaque overlay dir.
func isOpaque(d *os.File) bool {
	for _, name := range []string{xattrOpaque, xattrOpaqueUser} {
		b := make([]byte, 8)
		n, err := unix.Fgetxattr(int(d.Fd()), name, b)
		if err == nil && n == 1 && b[0] == 'y' {
			return true
		}
	}
	return false
}

// addCapability carries the file capabilities of f into hdr. Other
// attributes stay behind, as with docker: overlay's own ones must never
// reach a layer.
func addCapability(f *os.File, hdr *tar.Header, mapIDs func(uid, gid int) (int, int)) {
	b := make([]byte, 256)
	n, err := unix.Fgetxattr(int(f.Fd()), xattrCapability, b)
	if err != nil || n <= 0 {
		return
	}
	if hdr.PAXRecords == nil {
		hdr.PAXRecords = map[string]string{}
	}
	hdr.PAXRecords[paxXattr+xattrCapability] = string(archiveCapability(b[:n], mapIDs))
}

// The layout of security.capability (linux/capability.h): a little-endian
// magic whose top byte is the revision, then the capability sets; the
// namespaced revision 3 adds the host uid of the root it applies under.
const (
	capRevisionMask = 0xFF000000
	capRevision2    = 0x02000000
	capRevision3    = 0x03000000
	capSizeV2       = 20
	capSizeV3       = 24
)

// archiveCapability is the capability value an archive gets. A root in a
// user namespace (a --userns-remap container, a remapped RUN step) can
// only write the namespaced form, naming its host uid (100000): mapIDs
// maps that back as it maps owners, and a capability of the archive's root
// becomes the plain form every image carries, which applies wherever the
// image runs. Without mapIDs, or for any other value, the bytes stay.
func archiveCapability(v []byte, mapIDs func(uid, gid int) (int, int)) []byte {
	if mapIDs == nil || len(v) != capSizeV3 || binary.LittleEndian.Uint32(v)&capRevisionMask != capRevision3 {
		return v
	}
	root, _ := mapIDs(int(binary.LittleEndian.Uint32(v[capSizeV2:])), 0)
	out := append([]byte(nil), v...)
	if root != 0 {
		binary.LittleEndian.PutUint32(out[capSizeV2:], uint32(root))
		return out
	}
	binary.LittleEndian.PutUint32(out, binary.LittleEndian.Uint32(v)&^capRevisionMask|capRevision2)
	return out[:capSizeV2]
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// Overlay whiteout conventions shared by the OCI layer format and overlayfs.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	opaqueMarker   = ".wh..wh..opq"

	xattrOpaque     = "trusted.overlay.opaque"
	xattrOpaqueUser = "user.overlay.opaque"
)

// UnpackStats reports what an unpack did.
type UnpackStats struct {
	Entries int
}

// Unpack extracts one layer tar (plain or gzip) from r into dir, which must
// exist and should be empty. It is the only code that writes layer content
// to disk, and it writes only through an os.Root opened on dir: no entry name
// ("../x", "/etc/x"), no symlink (absolute, "../.." or planted by an earlier
// entry), and no hardlink can make it write outside dir. The kernel enforces
// that (openat2 RESOLVE_BENEATH-like semantics of os.Root), so the checks in
// this file are for clear errors, not the safety boundary.
//
// OCI whiteouts become overlayfs whiteouts: ".wh.NAME" becomes a 0/0
// character device NAME and ".wh..wh..opq" sets trusted.overlay.opaque=y on
// its directory. Owners, modes (setuid/setgid/sticky included), mtimes
// (symlinks too), hardlinks inside the layer and device nodes are kept.
// A later entry with the same name replaces an earlier one (a directory over a
// directory merges).
//
// As non-root, owners that cannot be set are left as they are, devices other
// than whiteouts are skipped and the opaque marker falls back to
// user.overlay.opaque (overlay's "userxattr" mode).
func Unpack(ctx context.Context, r io.Reader, dir string) (UnpackStats, error) {
	src, closer, err := decompress(r)
	if err != nil {
		return UnpackStats{}, err
	}
	defer closer()
	return unpackTar(ctx, src, dir)
}

// decompress returns the uncompressed stream of a layer blob: gzip is
// detected by its magic bytes, anything else is taken as a plain tar.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("layer: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return nil, nil, errors.New("layer: zstd-compressed layers are not supported")
	}
	return br, func() {}, nil
}

// unpackTar is Unpack for an uncompressed tar stream.
func unpackTar(ctx context.Context, src io.Reader, dir string) (UnpackStats, error) {
	var st UnpackStats
	root, err := os.OpenRoot(dir)
	if err != nil {
		return st, err
	}
	defer root.Close()

	u := &unpacker{root: root, rootless: os.Geteuid() != 0, buf: make([]byte, 128<<10)}
	tr := tar.NewReader(src)
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("layer: reading tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return st, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		st.Entries++
	}
	// Read what follows the end-of-archive marker so a caller hashing the
	// stream sees every byte (diffIDs cover the padding too).
	if _, err := io.Copy(io.Discard, src); err != nil {
		return st, fmt.Errorf("layer: %w", err)
	}
	return st, u.finish()
}

type dirMeta struct {
	name  string
	mode  fs.FileMode
	atime time.Time
	mtime time.Time
}

type unpacker struct {
	root     *os.Root
	rootless bool
	buf      []byte
	dirs     map[string]dirMeta // applied at the end: writing children changes a dir's mtime
}

// cleanName turns a tar entry name into a path relative to the layer root.
// Absolute names are taken as relative to the layer (as docker does); names
// that climb out with ".." are refused. "" means the layer root itself.
func cleanName(name string) (string, error) {
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errors.New("path escapes the layer directory")
	}
	if p == "." {
		return "", nil
	}
	return p, nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dirName, base := path.Split(name)
	dirName = strings.TrimSuffix(dirName, "/")
	if dirName == "" {
		dirName = "."
	}

	// Whiteouts.
	if strings.HasPrefix(base, whiteoutPrefix) {
		if err := u.mkdirAll(dirName); err != nil {
			return err
		}
		if base == opaqueMarker {
			return u.setOpaque(dirName)
		}
		if strings.HasPrefix(base, whiteoutMeta) {
			return nil // other aufs metadata (.wh..wh.plnk, ...): not part of the view
		}
		target := path.Join(dirName, base[len(whiteoutPrefix):])
		if err := u.root.RemoveAll(target); err != nil {
			return err
		}
		delete(u.dirs, target)
		return u.mknod(dirName, path.Base(target), unix.S_IFCHR|0, 0)
	}

	if name == "" { // the layer root: only its metadata
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the layer root must be a directory")
		}
		return u.dirMeta(".", hdr)
	}
	if err := u.mkdirAll(dirName); err != nil {
		return err
	}

	// Make room: a later entry wins; a directory over a directory merges.
	if fi, err := u.root.Lstat(name); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := u.root.RemoveAll(name); err != nil {
				return err
			}
			delete(u.dirs, name)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	mode := hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := u.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return u.dirMeta(name, hdr)
	case tar.TypeReg, tar.TypeRegA:
		f, err := u.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(f, io.LimitReader(r, hdr.Size), u.buf)
		if err == nil {
			err = u.fileXattrs(f, hdr)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := u.root.Symlink(hdr.Linkname, name); err != nil {
			return err
		}
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if target == "" {
			return errors.New("hardlink to the layer root")
		}
		if err := u.root.Link(target, name); err != nil {
			return err
		}
		return nil // shares the inode (and so the metadata) of its target
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		var typ uint32 = unix.S_IFIFO
		if hdr.Typeflag == tar.TypeChar {
			typ = unix.S_IFCHR
		} else if hdr.Typeflag == tar.TypeBlock {
			typ = unix.S_IFBLK
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := u.mknod(dirName, base, typ|uint32(mode.Perm()), int(dev)); err != nil {
			if u.rootless && errors.Is(err, unix.EPERM) {
				return nil // an unprivileged user cannot make devices: skip, like rootless docker
			}
			return err
		}
	default:
		return nil // unknown types (sparse, ...): skipped, as docker does
	}

	if err := u.chown(name, hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// after chown: chown clears setuid/setgid
		if err := u.root.Chmod(name, mode); err != nil {
			return err
		}
	}
	return u.times(dirName, base, hdr.Typeflag == tar.TypeSymlink, atimeOf(hdr), hdr.ModTime)
}

func atimeOf(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

func (u *unpacker) mkdirAll(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	fi, err := u.root.Lstat(dir)
	if err == nil && fi.IsDir() {
		return nil
	}
	// A directory whited out earlier in this same layer and now written
	// under again was deleted and re-created: it becomes an opaque directory.
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := u.root.Lstat(p)
		if err != nil {
			break
		}
		if isWhiteout(fi) {
			if err := u.root.Remove(p); err != nil {
				return err
			}
			if err := u.root.Mkdir(p, 0o755); err != nil {
				return err
			}
			if err := u.setOpaque(p); err != nil {
				return err
			}
		}
	}
	return u.root.MkdirAll(dir, 0o755)
}

// isWhiteout reports whether fi is an overlay whiteout (0/0 char device).
func isWhiteout(fi fs.FileInfo) bool {
	return fi.Mode()&fs.ModeCharDevice != 0 && statRdev(fi) == 0
}

func (u *unpacker) dirMeta(name string, hdr *tar.Header) error {
	if err := u.chown(name, hdr); err != nil {
		return err
	}
	if u.dirs == nil {
		u.dirs = map[string]dirMeta{}
	}
	u.dirs[name] = dirMeta{
		name:  name,
		mode:  hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
		atime: atimeOf(hdr),
		mtime: hdr.ModTime,
	}
	if f, err := u.root.Open(name); err == nil {
		err = u.fileXattrs(f, hdr)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// finish applies directory modes and times, deepest first.
func (u *unpacker) finish() error {
	names := make([]string, 0, len(u.dirs))
	for n := range u.dirs {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		d := u.dirs[n]
		if fi, err := u.root.Lstat(n); err != nil || !fi.IsDir() {
			continue // replaced or whited out by a later entry
		}
		if err := u.root.Chmod(n, d.mode); err != nil {
			return err
		}
		if err := u.root.Chtimes(n, d.atime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacker) chown(name string, hdr *tar.Header) error {
	err := u.root.Lchown(name, hdr.Uid, hdr.Gid)
	if err != nil && u.rootless && errors.Is(err, unix.EPERM) {
		return nil
	}
	return err
}

// withDir runs fn with a descriptor of dir, a directory resolved inside the
// root. fn then works on a single name inside it with the *at syscalls, which
// is how we reach what os.Root has no method for (mknod, lutimes).
func (u *unpacker) withDir(dir string, fn func(fd int) error) error {
	d, err := u.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()))
}

func (u *unpacker) mknod(dir, base string, mode uint32, dev int) error {
	return u.withDir(dir, func(fd int) error {
		return unix.Mknodat(fd, base, mode, dev)
	})
}

func (u *unpacker) times(dir, base string, nofollow bool, atime, mtime time.Time) error {
	flags := 0
	if nofollow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if mtime.IsZero() {
		return nil
	}
	return u.withDir(dir, func(fd int) error {
		return unix.UtimesNanoAt(fd, base, ts, flags)
	})
}

func (u *unpacker) setOpaque(dir string) error {
	return u.withDir(dir, func(fd int) error {
		err := unix.Fsetxattr(fd, xattrOpaque, []byte("y"), 0)
		if err != nil && u.rootless && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP)) {
			err = unix.Fsetxattr(fd, xattrOpaqueUser, []byte("y"), 0)
		}
		return err
	})
}

// fileXattrs applies PAX "SCHILY.xattr." records (file capabilities, ...).
// Overlay's own attributes are never taken from a tar.
func (u *unpacker) fileXattrs(f *os.File, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			continue
		}
		if err := unix.Fsetxattr(int(f.Fd()), name, []byte(v), 0); err != nil {
			if u.rootless || errors.Is(err, unix.ENOTSUP) {
				continue
			}
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

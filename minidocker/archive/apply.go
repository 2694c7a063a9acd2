package archive

import (
	"archive/tar"
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

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/rootpath"
)

// ApplyOptions say how Apply treats what it extracts.
type ApplyOptions struct {
	// OverlayWhiteouts turns OCI whiteouts into overlayfs ones, for image
	// layers: ".wh.NAME" becomes a 0/0 character device NAME and
	// ".wh..wh..opq" marks its directory opaque (trusted.overlay.opaque=y).
	// Without it such entries are ordinary files.
	OverlayWhiteouts bool
	// InScope resolves each entry's directory inside root as a chroot would
	// (rootpath.Resolve), so a symlink /a -> /etc makes "a/x" land in the
	// root's etc/. docker cp and the build context need it. Without it a
	// symlink on the way that leaves root (absolute or "../..") fails.
	InScope bool
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory or the other way round (docker cp sets it).
	NoOverwriteDirNonDir bool
	// NoLchown keeps the extracting user as owner (the CLI's side of cp).
	NoLchown bool
	// MapIDs, if set, gives the owner on disk of each entry from its
	// owner in the archive (cp into a remapped container: 0 → 100000).
	MapIDs func(uid, gid int) (int, int)
	// RebaseFrom, RebaseTo rename entries whose first component is
	// RebaseFrom ("/" matches every entry) to start with RebaseTo instead:
	// how docker cp gives the copy the destination's name.
	RebaseFrom, RebaseTo string
}

// Apply extracts the tar r (plain or compressed, see DecompressStream) into
// the directory dir of root and returns how many entries it read. It writes
// only through root: no entry name ("../x", "/etc/x"), no symlink (absolute,
// "../.." or planted by an earlier entry) and no hardlink can make it write
// outside root. The kernel enforces that (os.Root resolves every name
// beneath its directory), so the checks here are for clear errors, not the
// safety boundary.
//
// Owners, modes (setuid/setgid/sticky included), times (symlinks too),
// extended attributes from PAX "SCHILY.xattr." records (file capabilities),
// hardlinks inside the archive and device nodes are kept. Ownership is set
// before the attributes, because chown clears security.capability, and the
// mode last, because chown also clears setuid/setgid. A later entry with the
// same name replaces an earlier one (a directory over a directory merges).
// As non-root, owners that cannot be set are left as they are, devices are
// skipped and the opaque marker falls back to user.overlay.opaque (overlay's
// "userxattr" mode).
func Apply(ctx context.Context, root *os.Root, dir string, r io.Reader, opts ApplyOptions) (int, error) {
	plain, err := DecompressStream(r)
	if err != nil {
		return 0, errdefs.Invalid("%v", err)
	}
	defer plain.Close()
	a := &applier{root: root, dir: path.Clean(dir), opts: opts, rootless: os.Geteuid() != 0,
		buf: make([]byte, 128<<10), dirs: map[string]dirMeta{}}
	n := 0
	tr := tar.NewReader(plain)
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, errdefs.Invalid("reading tar: %v", err)
		}
		n++
		if err := a.entry(hdr, tr); err != nil {
			return n, fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	// Read what follows the end-of-archive marker so a caller hashing the
	// stream sees every byte (diffIDs cover the padding too).
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return n, err
	}
	return n, a.finish()
}

// dirMeta is what is applied to a directory once everything in it is written
// (writing a child changes its mtime; a read-only mode would stop the writes).
type dirMeta struct {
	mode         fs.FileMode
	atime, mtime time.Time
}

type applier struct {
	root     *os.Root
	dir      string
	opts     ApplyOptions
	rootless bool
	buf      []byte
	dirs     map[string]dirMeta
}

// cleanName turns a tar entry name into a path relative to the extraction
// directory. Absolute names are taken as relative to it (as docker does);
// names that climb out with ".." are refused. "" means the directory itself.
func cleanName(name string) (string, error) {
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errdefs.Invalid("invalid archive entry %q: it climbs out of the destination", name)
	}
	if p == "." {
		return "", nil
	}
	return p, nil
}

// CleanName is cleanName for callers that read a tar themselves.
func CleanName(name string) (string, error) { return cleanName(name) }

// rebase applies RebaseFrom/RebaseTo to an entry name.
func (o ApplyOptions) rebase(name string) string {
	switch {
	case o.RebaseFrom == "":
		return name
	case o.RebaseFrom == "/":
		return o.RebaseTo + "/" + strings.TrimPrefix(name, "/")
	case name == o.RebaseFrom || name == o.RebaseFrom+"/", strings.HasPrefix(name, o.RebaseFrom+"/"):
		return o.RebaseTo + strings.TrimPrefix(name, o.RebaseFrom)
	}
	return name
}

// target says where an entry goes: its resolved directory (relative to
// root) and its base name.
func (a *applier) target(name string) (dir, base string, err error) {
	d := path.Join(a.dir, path.Dir(name))
	if a.opts.InScope {
		if d, err = rootpath.Resolve(a.root, d, true); err != nil {
			return "", "", err
		}
	}
	return d, path.Base(name), nil
}

func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	name, err := cleanName(a.opts.rebase(hdr.Name))
	if err != nil {
		return err
	}
	if name == "" { // the extraction directory: only its metadata
		if hdr.Typeflag != tar.TypeDir {
			return errdefs.Invalid("the archive's top entry must be a directory")
		}
		if !a.opts.OverlayWhiteouts {
			return nil // cp and contexts leave the destination as it is
		}
		return a.dirMeta(a.dir, hdr)
	}
	dir, base, err := a.target(name)
	if err != nil {
		return err
	}
	if err := a.mkdirAll(dir); err != nil {
		return err
	}
	if a.opts.OverlayWhiteouts && strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(dir, base)
	}
	full := path.Join(dir, base)
	if err := a.makeRoom(full, hdr); err != nil {
		return err
	}
	done, err := a.create(dir, base, hdr, r)
	if err != nil || done {
		return err
	}
	return a.metadata(dir, base, hdr)
}

// whiteout applies one OCI whiteout entry found in dir.
func (a *applier) whiteout(dir, base string) error {
	if base == opaqueMarker {
		return a.setOpaque(dir)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // other aufs metadata (.wh..wh.plnk, ...): not part of the view
	}
	target := path.Join(dir, base[len(whiteoutPrefix):])
	if err := a.root.RemoveAll(target); err != nil {
		return err
	}
	delete(a.dirs, target)
	return a.mknod(dir, path.Base(target), unix.S_IFCHR|0, 0)
}

// makeRoom removes what is in the way of an entry: a later entry wins; a
// directory over a directory merges.
func (a *applier) makeRoom(full string, hdr *tar.Header) error {
	fi, err := a.root.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	isDir := hdr.Typeflag == tar.TypeDir
	if a.opts.NoOverwriteDirNonDir && fi.IsDir() != isDir {
		if fi.IsDir() {
			return errdefs.Invalid("cannot overwrite directory %q with non-directory %q", path.Join("/", full), hdr.Name)
		}
		return errdefs.Invalid("cannot overwrite non-directory %q with directory %q", path.Join("/", full), hdr.Name)
	}
	if fi.IsDir() && isDir {
		return nil
	}
	delete(a.dirs, full)
	return a.root.RemoveAll(full)
}

// create makes the file, directory, link or node of one entry. done means
// the entry needs no metadata of its own (a hardlink shares its target's; a
// skipped type has none).
func (a *applier) create(dir, base string, hdr *tar.Header, r io.Reader) (done bool, err error) {
	full := path.Join(dir, base)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := a.root.Mkdir(full, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return true, err
		}
		return true, a.dirMeta(full, hdr)
	case tar.TypeReg, tar.TypeRegA:
		return false, a.writeFile(full, hdr, r)
	case tar.TypeSymlink:
		return false, a.root.Symlink(hdr.Linkname, full)
	case tar.TypeLink:
		return true, a.hardlink(full, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		err := a.mknod(dir, base, typ|uint32(hdr.Mode&0o777), int(dev))
		if err != nil && a.rootless && errors.Is(err, unix.EPERM) {
			return true, nil // an unprivileged user cannot make devices: skip, like rootless docker
		}
		return false, err
	}
	return true, nil // unknown types (sparse, ...): skipped, as docker does
}

func (a *applier) writeFile(full string, hdr *tar.Header, r io.Reader) error {
	f, err := a.root.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	// onlyWriter hides File.ReadFrom: from a reader that is not a file it
	// falls back to io.Copy with a 32 KiB buffer of its own, and a write
	// syscall per 32 KiB cost a layer pull more CPU than the hashing.
	_, err = io.CopyBuffer(onlyWriter{f}, io.LimitReader(r, hdr.Size), a.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// onlyWriter is an io.Writer and nothing else, so io.CopyBuffer uses the
// buffer it is given.
type onlyWriter struct{ io.Writer }

func (a *applier) hardlink(full string, hdr *tar.Header) error {
	name, err := cleanName(a.opts.rebase(hdr.Linkname))
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
	}
	if name == "" {
		return errdefs.Invalid("hardlink to the extraction directory")
	}
	dir, base, err := a.target(name)
	if err != nil {
		return err
	}
	return a.root.Link(path.Join(dir, base), full)
}

// metadata sets owner, extended attributes, mode and times, in that order
// (see Apply for why).
func (a *applier) metadata(dir, base string, hdr *tar.Header) error {
	full := path.Join(dir, base)
	if err := a.chown(full, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return a.times(dir, base, true, atimeOf(hdr), hdr.ModTime)
	}
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
		if err := a.xattrs(full, hdr); err != nil {
			return err
		}
	}
	if err := a.root.Chmod(full, TarMode(hdr)); err != nil {
		return err
	}
	return a.times(dir, base, false, atimeOf(hdr), hdr.ModTime)
}

// TarMode is the permission part of a header's mode as an fs.FileMode.
func TarMode(hdr *tar.Header) fs.FileMode {
	return hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

func atimeOf(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

// mkdirAll makes dir and its parents. In a layer, a directory whited out
// earlier in the same layer and now written under again was deleted and
// re-created: it becomes an opaque directory.
func (a *applier) mkdirAll(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	if fi, err := a.root.Lstat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if a.opts.OverlayWhiteouts {
		parts := strings.Split(dir, "/")
		for i := range parts {
			p := strings.Join(parts[:i+1], "/")
			fi, err := a.root.Lstat(p)
			if err != nil {
				break
			}
			if isWhiteout(fi) {
				if err := a.reopen(p); err != nil {
					return err
				}
			}
		}
	}
	return a.root.MkdirAll(dir, 0o755)
}

// reopen replaces the whiteout p with an opaque directory.
func (a *applier) reopen(p string) error {
	if err := a.root.Remove(p); err != nil {
		return err
	}
	if err := a.root.Mkdir(p, 0o755); err != nil {
		return err
	}
	return a.setOpaque(p)
}

// isWhiteout reports whether fi is an overlay whiteout (0/0 char device).
func isWhiteout(fi fs.FileInfo) bool {
	return fi.Mode()&fs.ModeCharDevice != 0 && statRdev(fi) == 0
}

// dirMeta sets a directory's owner and attributes now and keeps its mode and
// times for finish.
func (a *applier) dirMeta(name string, hdr *tar.Header) error {
	if err := a.chown(name, hdr); err != nil {
		return err
	}
	a.dirs[name] = dirMeta{mode: TarMode(hdr), atime: atimeOf(hdr), mtime: hdr.ModTime}
	return a.xattrs(name, hdr)
}

// finish applies directory modes and times, deepest first.
func (a *applier) finish() error {
	names := make([]string, 0, len(a.dirs))
	for n := range a.dirs {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		d := a.dirs[n]
		if fi, err := a.root.Lstat(n); err != nil || !fi.IsDir() {
			continue // replaced or whited out by a later entry
		}
		if err := a.root.Chmod(n, d.mode); err != nil {
			return err
		}
		if err := a.root.Chtimes(n, d.atime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) chown(name string, hdr *tar.Header) error {
	if a.opts.NoLchown {
		return nil
	}
	uid, gid := hdr.Uid, hdr.Gid
	if a.opts.MapIDs != nil {
		uid, gid = a.opts.MapIDs(uid, gid)
	}
	err := a.root.Lchown(name, uid, gid)
	if err != nil && a.rootless && errors.Is(err, unix.EPERM) {
		return nil
	}
	return err
}

// withDir runs fn with a descriptor of dir, a directory resolved inside the
// root. fn then works on a single name inside it with the *at syscalls, which
// is how we reach what os.Root has no method for (mknod, lutimes).
func (a *applier) withDir(dir string, fn func(fd int) error) error {
	d, err := a.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()))
}

func (a *applier) mknod(dir, base string, mode uint32, dev int) error {
	return a.withDir(dir, func(fd int) error {
		return unix.Mknodat(fd, base, mode, dev)
	})
}

func (a *applier) times(dir, base string, nofollow bool, atime, mtime time.Time) error {
	if mtime.IsZero() {
		return nil
	}
	flags := 0
	if nofollow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return a.withDir(dir, func(fd int) error {
		return unix.UtimesNanoAt(fd, base, ts, flags)
	})
}

func (a *applier) setOpaque(dir string) error {
	return a.withDir(dir, func(fd int) error {
		err := unix.Fsetxattr(fd, xattrOpaque, []byte("y"), 0)
		if err != nil && a.rootless && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP)) {
			err = unix.Fsetxattr(fd, xattrOpaqueUser, []byte("y"), 0)
		}
		return err
	})
}

// xattrs applies the PAX "SCHILY.xattr." records of a regular file or
// directory (file capabilities, ...). Overlay's own attributes are never
// taken from an archive: a layer could otherwise make itself opaque or
// redirect a lookup.
func (a *applier) xattrs(name string, hdr *tar.Header) error {
	var set [][2]string
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, paxXattr)
		if ok && !strings.HasPrefix(x, "trusted.overlay.") && !strings.HasPrefix(x, "user.overlay.") {
			set = append(set, [2]string{x, v})
		}
	}
	if len(set) == 0 {
		return nil
	}
	f, err := a.root.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, kv := range set {
		if err := unix.Fsetxattr(int(f.Fd()), kv[0], []byte(kv[1]), 0); err != nil {
			if a.rootless || errors.Is(err, unix.ENOTSUP) {
				continue // not ours to set, or the file system has no xattrs
			}
			return fmt.Errorf("xattr %s: %w", kv[0], err)
		}
	}
	return nil
}

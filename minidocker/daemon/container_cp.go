package daemon

// docker cp: read and write a container's files, running or not.
//
// Every path a client names is a path *inside* the container, so it is
// resolved the way the container itself would resolve it: a symlink
// /evil -> /etc/shadow means the container's /etc/shadow, and ../.. can
// never climb above the container's /. Two layers make sure of it:
//
//  1. rootpath.Resolve walks the path one component at a time and follows
//     symlinks itself, restarting absolute targets at the container's root
//     and clamping ".." at it — what a chroot would do (docker does the same
//     with FollowSymlinkInScope and a chroot'ed tar helper);
//  2. every open, stat, mkdir, symlink and chown goes through an *os.Root
//     opened on the container's root directory, so even if a process in the
//     container swaps a directory for a symlink between (1) and the system
//     call, the kernel-level lookup cannot leave the root (os.Root refuses
//     any step out of it).
//
// Where the container's root comes from (containerFS):
//
//   - running: /proc/<PID 1>/root. The overlay is mounted only inside the
//     container's mount namespace; /proc/<pid>/root is that namespace's
//     root as the container sees it, volumes (-v) included. Mounting the
//     overlay a second time while the container uses it would share one
//     upper/work dir between two overlay mounts, which overlayfs calls
//     undefined behaviour.
//   - stopped: the overlay (image layers + the container's upper/work) and
//     the container's volumes are mounted in a throwaway mount namespace:
//     a throwaway OS thread (libcontainer.OnThrowawayThread) unshares its mount
//     namespace, mounts, opens the merged dir as an *os.Root and stays
//     parked until the copy is done; then it ends, and with it the
//     namespace and every mount in it. Nothing ever appears in the
//     daemon's mount table, so nothing can leak, even if the daemon
//     crashes mid-copy.

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minidocker/minidocker/minidocker/rootpath"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// cpTarget is a container path as docker cp understands it.
type cpTarget struct {
	abs  string // "/" + path, cleaned, with a trailing "/." kept
	rel  string // resolved, relative to the root; the final symlink not followed
	name string // the name the archive's entries start with
}

// cpResolve applies docker's rules: the directory part is resolved in the
// container, the base name is kept (a symlink is copied as a symlink); a
// path ending in "/." means the directory's contents.
func cpResolve(root *os.Root, p string) cpTarget {
	clean := path.Clean("/" + p)
	contents := strings.HasSuffix(p, "/.") || p == "."
	t := cpTarget{abs: clean}
	switch {
	case contents:
		if clean != "/" {
			t.abs += "/."
		} else {
			t.abs = "/."
		}
		t.rel, _ = rootpath.Resolve(root, clean, true)
		t.name = "."
	case clean == "/":
		t.rel, t.name = ".", "/"
	default:
		dir, _ := rootpath.Resolve(root, path.Dir(clean), true)
		t.rel = path.Join(dir, path.Base(clean))
		t.name = path.Base(clean)
	}
	return t
}

// ContainerStatPath answers HEAD /containers/{id}/archive: what docker cp
// learns about a path before it copies.
func (d *Daemon) ContainerStatPath(ref, p string) (container.PathStat, error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return container.PathStat{}, err
	}
	root, release, err := d.containerFS(c)
	if err != nil {
		return container.PathStat{}, err
	}
	defer release()
	st, _, err := statPath(root, p, ref)
	return st, err
}

func statPath(root *os.Root, p, ref string) (container.PathStat, cpTarget, error) {
	t := cpResolve(root, p)
	fi, err := root.Lstat(t.rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return container.PathStat{}, t, errdefs.NotFound("Could not find the file %s in container %s", p, ref)
		}
		return container.PathStat{}, t, err
	}
	st := container.PathStat{Name: path.Base(t.abs), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := rootpath.Resolve(root, t.abs, true)
		if err != nil {
			return st, t, err
		}
		st.LinkTarget = path.Join("/", target)
	}
	if strings.HasSuffix(p, "/") && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
		return st, t, errdefs.Invalid("%s: not a directory", p)
	}
	return st, t, nil
}

// EncodePathStat is the X-Docker-Container-Path-Stat header value.
func EncodePathStat(st container.PathStat) string {
	b, _ := json.Marshal(st)
	return base64.StdEncoding.EncodeToString(b)
}

// ContainerArchive answers GET /containers/{id}/archive: stat tells the
// caller what the path is (for the header); write then streams the tar.
func (d *Daemon) ContainerArchive(ref, p string) (st container.PathStat, write func(io.Writer) error, err error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return st, nil, err
	}
	root, release, err := d.containerFS(c)
	if err != nil {
		return st, nil, err
	}
	st, t, err := statPath(root, p, ref)
	if err != nil {
		release()
		return st, nil, err
	}
	return st, func(w io.Writer) error {
		defer release()
		return WriteArchive(root, t.rel, t.name, w)
	}, nil
}

// ContainerExtractToDir answers PUT /containers/{id}/archive: the tar is
// unpacked into the directory p (which must exist) of the container.
func (d *Daemon) ContainerExtractToDir(ref, p string, noOverwriteDirNonDir bool, r io.Reader) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	root, release, err := d.containerFS(c)
	if err != nil {
		return err
	}
	defer release()
	rel, err := rootpath.Resolve(root, p, true)
	if err != nil {
		return err
	}
	fi, err := root.Stat(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return errdefs.NotFound("Could not find the file %s in container %s", p, ref)
		}
		return err
	}
	if !fi.IsDir() {
		return errdefs.Invalid("extraction point is not a directory")
	}
	return ExtractArchive(root, rel, r, ExtractOptions{NoOverwriteDirNonDir: noOverwriteDirNonDir})
}

// containerFS opens the container's root directory (see the file
// comment); release closes it (and ends the private mount namespace).
func (d *Daemon) containerFS(c *Container) (root *os.Root, release func(), err error) {
	if shim := c.Shim(); shim != nil && shim.Pid > 0 {
		root, err := os.OpenRoot(fmt.Sprintf("/proc/%d/root", shim.Pid))
		if err != nil {
			return nil, nil, fmt.Errorf("open the root of container %s: %w", c.ID, err)
		}
		// PID 1 is the shim's child: its pid cannot be reused before the
		// shim has reaped it, and then the record no longer says running.
		if now := c.Shim(); now == nil || now.Pid != shim.Pid {
			root.Close()
			return d.containerFS(c)
		}
		return root, func() { root.Close() }, nil
	}
	lowers, upper, work, err := c.RootfsDirs(d)
	if err != nil {
		return nil, nil, err
	}
	c.Lock()
	var binds []bind
	if c.HostConfig != nil {
		binds, _ = parseBinds(c.HostConfig.Binds, filepath.Join(d.cfg.DataRoot, "volumes"))
	}
	c.Unlock()
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work
	return mountPrivately(c.Dir, opts, binds)
}

// mountPrivately mounts the container's overlay (and its volumes, like
// docker does for cp) in a mount namespace of its own, on a locked thread
// that stays parked until release: the namespace, and with it every mount,
// ends with that thread (or with the daemon). dir is where the (empty)
// mount point can be made.
func mountPrivately(dir, overlayOpts string, binds []bind) (*os.Root, func(), error) {
	mnt, err := os.MkdirTemp(dir, ".cp-")
	if err != nil {
		return nil, nil, err
	}
	type result struct {
		root *os.Root
		err  error
	}
	rc := make(chan result, 1)
	done := make(chan struct{})
	// a throwaway thread (never the main one), parked until release: the
	// thread, and its mount namespace, end when the function returns
	go libcontainer.OnThrowawayThread(func() {
		r := func() result {
			if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
				return result{err: fmt.Errorf("unshare: %w", err)}
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return result{err: fmt.Errorf("make / private: %w", err)}
			}
			if err := unix.Mount("overlay", mnt, "overlay", 0, overlayOpts); err != nil {
				return result{err: fmt.Errorf("mount overlay: %w", err)}
			}
			root, err := os.OpenRoot(mnt)
			if err != nil {
				return result{err: err}
			}
			for _, b := range binds {
				if err := bindInRoot(root, b); err != nil {
					root.Close()
					return result{err: err}
				}
			}
			return result{root: root}
		}()
		rc <- r
		if r.err == nil {
			<-done
		}
	})
	r := <-rc
	os.Remove(mnt) // the mount lives on in the private namespace only
	if r.err != nil {
		return nil, nil, r.err
	}
	var once sync.Once
	return r.root, func() {
		once.Do(func() {
			r.root.Close()
			close(done)
		})
	}, nil
}

// bindInRoot bind-mounts a volume's host directory on its destination in
// the container (resolved inside root, so a symlink in the image cannot
// send the mount elsewhere). A missing destination is made; a missing
// source is skipped: the volume then simply is not part of the copy.
func bindInRoot(root *os.Root, b bind) error {
	src, err := os.Stat(b.Source)
	if err != nil {
		return nil
	}
	rel, err := rootpath.Resolve(root, b.Destination, true)
	if err != nil {
		return nil
	}
	// a missing mount point is made, as the container's start would
	if _, err := root.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
		if src.IsDir() {
			root.MkdirAll(rel, 0o755)
		} else if root.MkdirAll(path.Dir(rel), 0o755) == nil {
			if f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
				f.Close()
			}
		}
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil
	}
	defer f.Close()
	target := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if err := unix.Mount(b.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("mount volume %s on %s: %w", b.Source, b.Destination, err)
	}
	if b.ReadOnly {
		return unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
	}
	return nil
}

// pseudo file systems whose contents docker cp never copies (a running
// container's /proc, /sys, …), only their mount point.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.CGROUP_SUPER_MAGIC: true,
	unix.CGROUP2_SUPER_MAGIC: true, unix.DEVPTS_SUPER_MAGIC: true, 0x19800202: true, // mqueue
	unix.DEBUGFS_MAGIC: true, unix.TRACEFS_MAGIC: true, unix.SECURITYFS_MAGIC: true,
	unix.BPF_FS_MAGIC: true,
}

// WriteArchive writes rel (relative to root, not followed if a symlink)
// and, for a directory, everything below it, as a tar whose entries start
// with name ("hostname", "etc/…", "./…" for a directory's contents, "/…"
// for the root).
func WriteArchive(root *os.Root, rel, name string, w io.Writer) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	entryName := func(sub string) string {
		switch {
		case sub == "":
			return name
		case name == "/":
			return "/" + sub
		}
		return name + "/" + sub
	}
	var walk func(p, sub string) error
	walk = func(p, sub string) error {
		fi, err := root.Lstat(p)
		if err != nil {
			if sub != "" && errors.Is(err, fs.ErrNotExist) {
				return nil // vanished meanwhile
			}
			return err
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = root.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // a socket: tar cannot hold it, docker skips it too
		}
		hdr.Name = entryName(sub)
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if fi.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, seen := links[key]; seen {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				return tw.WriteHeader(hdr)
			}
			links[key] = hdr.Name
		}
		switch {
		case fi.Mode().IsRegular():
			f, err := root.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			n, err := io.CopyN(tw, f, hdr.Size)
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if n < hdr.Size { // the file shrank while we read it: pad
				_, err = io.CopyN(tw, zeroReader{}, hdr.Size-n)
			}
			return err
		case fi.IsDir():
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			dir, err := root.Open(p)
			if err != nil {
				return err
			}
			var sfs unix.Statfs_t
			if unix.Fstatfs(int(dir.Fd()), &sfs) == nil && pseudoFS[int64(sfs.Type)] && sub != "" {
				dir.Close()
				return nil
			}
			names, err := dir.Readdirnames(-1)
			dir.Close()
			if err != nil {
				return err
			}
			sortStrings(names)
			for _, n := range names {
				childSub := n
				if sub != "" {
					childSub = sub + "/" + n
				}
				if err := walk(path.Join(p, n), childSub); err != nil {
					return err
				}
			}
			return nil
		default:
			return tw.WriteHeader(hdr)
		}
	}
	if err := walk(rel, ""); err != nil {
		return err
	}
	return tw.Close()
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ExtractOptions tune ExtractArchive.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory or the other way round (docker cp sets it).
	NoOverwriteDirNonDir bool
	// NoLchown keeps the extracting user as owner (the CLI's side of cp).
	NoLchown bool
	// RebaseFrom, RebaseTo rename entries whose first component is
	// RebaseFrom ("/" matches every entry) to start with RebaseTo instead:
	// how docker cp gives the copy the destination's name.
	RebaseFrom, RebaseTo string
}

func (o ExtractOptions) rebase(name string) string {
	switch {
	case o.RebaseFrom == "":
		return name
	case o.RebaseFrom == "/":
		return o.RebaseTo + "/" + strings.TrimPrefix(name, "/")
	case name == o.RebaseFrom || name == o.RebaseFrom+"/":
		return o.RebaseTo + strings.TrimPrefix(name, o.RebaseFrom)
	case strings.HasPrefix(name, o.RebaseFrom+"/"):
		return o.RebaseTo + strings.TrimPrefix(name, o.RebaseFrom)
	}
	return name
}

// ExtractArchive unpacks the tar r into the directory dir (relative to
// root). Each entry's directory is resolved inside root (rootpath.Resolve), an
// existing entry of the same name is replaced — never written through, so
// a symlink in the container cannot redirect a copy — and all changes go
// through root.
func ExtractArchive(root *os.Root, dir string, r io.Reader, opts ExtractOptions) error {
	tr := tar.NewReader(r)
	type dirTime struct {
		rel   string
		mtime time.Time
	}
	var dirTimes []dirTime
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errdefs.Invalid("reading the archive: %v", err)
		}
		hdr.Name = opts.rebase(hdr.Name)
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = opts.rebase(hdr.Linkname)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue // the extraction directory itself
		}
		if strings.Contains("/"+hdr.Name+"/", "/../") {
			return errdefs.Invalid("invalid archive entry %q: it climbs out of the destination", hdr.Name)
		}
		parent, err := rootpath.Resolve(root, path.Join(dir, path.Dir(name)), true)
		if err != nil {
			return err
		}
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		target := path.Join(parent, path.Base(name))
		if fi, err := root.Lstat(target); err == nil {
			isDir := hdr.Typeflag == tar.TypeDir
			if opts.NoOverwriteDirNonDir && fi.IsDir() && !isDir {
				return errdefs.Invalid("cannot overwrite directory %q with non-directory %q", path.Join("/", target), hdr.Name)
			}
			if opts.NoOverwriteDirNonDir && !fi.IsDir() && isDir {
				return errdefs.Invalid("cannot overwrite non-directory %q with directory %q", path.Join("/", target), hdr.Name)
			}
			if !(fi.IsDir() && isDir) {
				if err := root.RemoveAll(target); err != nil {
					return err
				}
			}
		}
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.Mkdir(target, mode); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirTimes = append(dirTimes, dirTime{target, hdr.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			f, err := root.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			lname := path.Clean("/" + hdr.Linkname)
			if strings.Contains("/"+hdr.Linkname+"/", "/../") {
				return errdefs.Invalid("invalid hard link %q in the archive", hdr.Linkname)
			}
			src, err := rootpath.Resolve(root, path.Join(dir, path.Dir(lname)), true)
			if err != nil {
				return err
			}
			if err := root.Link(path.Join(src, path.Base(lname)), target); err != nil {
				return err
			}
			continue
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			if err := mknodIn(root, parent, path.Base(name), hdr); err != nil {
				return err
			}
		default:
			continue // pax headers are consumed by the reader; anything else is skipped
		}
		if !opts.NoLchown {
			if err := root.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
				return err
			}
		}
		if hdr.Typeflag != tar.TypeSymlink {
			// after chown, which clears set-id bits
			if err := root.Chmod(target, tarMode(hdr)); err != nil {
				return err
			}
			if hdr.Typeflag != tar.TypeDir {
				root.Chtimes(target, hdr.AccessTime, hdr.ModTime)
			}
		}
	}
	for i := len(dirTimes) - 1; i >= 0; i-- {
		root.Chtimes(dirTimes[i].rel, dirTimes[i].mtime, dirTimes[i].mtime)
	}
	return nil
}

func tarMode(hdr *tar.Header) os.FileMode {
	m := os.FileMode(hdr.Mode).Perm()
	if hdr.Mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if hdr.Mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if hdr.Mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

func mknodIn(root *os.Root, parent, name string, hdr *tar.Header) error {
	dir, err := root.Open(parent)
	if err != nil {
		return err
	}
	defer dir.Close()
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	case tar.TypeFifo:
		mode |= unix.S_IFIFO
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	return unix.Mknodat(int(dir.Fd()), name, mode, int(dev))
}

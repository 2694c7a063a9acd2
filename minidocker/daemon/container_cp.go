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
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/rootpath"
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
	c, unlock, err := d.lockedForCopy(ref)
	if err != nil {
		return container.PathStat{}, err
	}
	defer unlock()
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
	c, unlock, err := d.lockedForCopy(ref)
	if err != nil {
		return st, nil, err
	}
	root, release, err := d.containerFS(c)
	if err != nil {
		unlock()
		return st, nil, err
	}
	st, t, err := statPath(root, p, ref)
	if err != nil {
		release()
		unlock()
		return st, nil, err
	}
	d.containerEvent(c, "archive-path")
	return st, func(w io.Writer) error { // the API calls it once st is sent
		defer unlock()
		defer release()
		return archive.WriteTree(context.Background(), root, t.rel, w, archive.WriteOptions{Name: t.name, MapIDs: d.archiveIDs(c)})
	}, nil
}

// ContainerExtractToDir answers PUT /containers/{id}/archive: the tar is
// unpacked into the directory p (which must exist) of the container, with
// the archive's owners, or with copyUIDGID (docker cp -a) the container
// user's (copyOwner).
func (d *Daemon) ContainerExtractToDir(ref, p string, noOverwriteDirNonDir, copyUIDGID bool, r io.Reader) error {
	c, unlock, err := d.lockedForCopy(ref)
	if err != nil {
		return err
	}
	defer unlock()
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
	opts := archive.ApplyOptions{InScope: true, NoOverwriteDirNonDir: noOverwriteDirNonDir, MapIDs: d.diskIDs(c)}
	if copyUIDGID {
		if opts.MapIDs, err = copyOwner(c, root, opts.MapIDs); err != nil {
			return err
		}
	}
	if _, err = archive.Apply(context.Background(), root, rel, r, opts); err != nil {
		return err
	}
	d.containerEvent(c, "extract-to-dir")
	return nil
}

// copyOwner is the owner docker cp -a gives what it copies into c: the
// user the container runs as (Config.User), looked up in the container's
// own /etc/passwd and /etc/group (dockerd looks the name up on the host,
// where it may not exist), then mapped to the disk (toDisk: a remapped
// container's). A container that runs as root by default keeps the
// archive's owners, as with dockerd.
func copyOwner(c *Container, root *os.Root, toDisk func(uid, gid int) (int, int)) (func(uid, gid int) (int, int), error) {
	c.Lock()
	spec := c.Config.User
	c.Unlock()
	if spec == "" {
		return toDisk, nil
	}
	var passwd, group io.Reader // absent (or leaving the root): numeric ids only
	if f, err := root.Open("etc/passwd"); err == nil {
		defer f.Close()
		passwd = f
	}
	if f, err := root.Open("etc/group"); err == nil {
		defer f.Close()
		group = f
	}
	eu, err := user.GetExecUser(spec, &user.ExecUser{}, passwd, group)
	if err != nil {
		return nil, errdefs.Invalid("cannot copy as the container's user %s: %v", spec, err)
	}
	return func(int, int) (int, int) {
		if toDisk != nil {
			return toDisk(eu.Uid, eu.Gid)
		}
		return eu.Uid, eu.Gid
	}, nil
}

// lockedForCopy finds the container and holds its operation lock (c.op)
// for a whole copy, as docker does: no start, stop or rm runs under it. A
// start would mount the overlay's upper dir a second time while the copy
// of a stopped container has it mounted (overlayfs leaves two such mounts
// undefined), and an rm -v would delete files the archive is still
// reading. A container removed before the lock was ours is not found.
// unlock must be called once the copy is over.
func (d *Daemon) lockedForCopy(ref string) (c *Container, unlock func(), err error) {
	if c, err = d.GetContainer(ref); err != nil {
		return nil, nil, err
	}
	c.op.Lock()
	c.mu.Lock()
	removed := c.removed
	c.mu.Unlock()
	if removed {
		c.op.Unlock()
		return nil, nil, errdefs.NotFound("No such container: %s", ref)
	}
	return c, c.op.Unlock, nil
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
	binds := append(bindsOf(c.MountPoints), etcBinds(c)...) // mounts.go
	c.Unlock()
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work
	return mountPrivately(c.Dir, opts, binds)
}

// etcBinds are the container's own /etc/hostname, /etc/hosts and
// /etc/resolv.conf, which its start binds over the image's (see
// containers_start.go): a copy out of a stopped container must read them,
// not the empty mount points left in its upper dir. A container never
// started has none yet; bindInRoot skips a missing source.
func etcBinds(c *Container) []bind {
	var out []bind
	for dst, src := range map[string]string{"/etc/hostname": c.HostnamePath, "/etc/hosts": c.HostsPath, "/etc/resolv.conf": c.ResolvConfPath} {
		if src != "" {
			out = append(out, bind{Source: src, Destination: dst})
		}
	}
	return out
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

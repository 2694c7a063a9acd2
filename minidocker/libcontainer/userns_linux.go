package libcontainer

// User namespaces (dockerd's --userns-remap): the container's root is an
// unprivileged host uid, the first of a subordinate range (/etc/subuid).
//
//   - The shim clones init with CLONE_NEWUSER on top of the other
//     namespace flags, so the new mount, UTS, IPC, PID (and network)
//     namespaces are owned by the container's user namespace; Go writes
//     uid_map and gid_map from the shim (host root) before init runs.
//   - The image's layers belong to host root and must look like the
//     container's root owns them. The shim, host root, joins init's mount
//     namespace on a throwaway thread, makes an idmapped mount of each
//     layer (open_tree + mount_setattr(MOUNT_ATTR_IDMAP) with init's user
//     namespace) on top of the layer's own path, mounts the overlay from
//     them, and drops the idmapped mounts again (overlay keeps private
//     clones). The overlay is host root's, so trusted.overlay.* xattrs
//     (whiteouts, opaque directories) work as without remapping; what the
//     container writes lands in the upper dir as host uid 100000+.
//   - init then builds the rest of the root as its own root (uid 0 of the
//     namespace, host 100000: it needs search permission on the host
//     paths it mounts from, so the daemon makes its directories 0711). It
//     cannot mknod, so /dev's nodes are binds of the host's.
//
// Why idmapped mounts and not chowned copies of the layers (dockerd's way
// before containerd: a second image store per range, each file chowned
// by +100000): an idmapped mount costs one system call per layer, shares
// the page cache and the disk with every other container, and a pull is
// done once for every range. It needs Linux 5.19 (idmapped lowers of an
// overlay); older kernels refuse the mount and the start fails clearly.

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// UserNamespace maps a container's uids and gids to the host's (uid_map,
// gid_map): usually container 0..65535 to host 100000..165535.
type UserNamespace struct {
	UIDMap, GIDMap []IDMap
}

// IDMap is one line of a uid_map or gid_map: Size ids from ContainerID
// are HostID and up on the host.
type IDMap struct {
	ContainerID, HostID, Size uint32
}

// RootUID is the host uid that is root in the container (0 when the
// map does not map root).
func (u *UserNamespace) RootUID() uint32 { return hostID(u.UIDMap, 0) }

// RootGID is the host gid that is root's group in the container.
func (u *UserNamespace) RootGID() uint32 { return hostID(u.GIDMap, 0) }

// HostIDs maps a container's uid and gid to the host's (an archive
// copied into the container: 0 → 100000). Ids the maps do not cover stay.
func (u *UserNamespace) HostIDs(uid, gid int) (int, int) {
	return mapID(u.UIDMap, uid, true), mapID(u.GIDMap, gid, true)
}

// ContainerIDs maps host ids back to the container's (its upper dir
// turned into a layer or an archive: 100000 → 0). Ids outside the ranges
// stay: they are the image layers' own, which are stored unshifted.
func (u *UserNamespace) ContainerIDs(uid, gid int) (int, int) {
	return mapID(u.UIDMap, uid, false), mapID(u.GIDMap, gid, false)
}

func mapID(m []IDMap, id int, toHost bool) int {
	for _, e := range m {
		from, to := int64(e.ContainerID), int64(e.HostID)
		if !toHost {
			from, to = to, from
		}
		if int64(id) >= from && int64(id)-from < int64(e.Size) {
			return int(to + int64(id) - from)
		}
	}
	return id
}

func hostID(m []IDMap, id uint32) uint32 {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return e.HostID + id - e.ContainerID
		}
	}
	return 0
}

// cloneIntoUserNamespace makes init's clone create the user namespace
// too, with the maps Go writes from the shim while the child waits.
// setgroups stays allowed: --group-add and the user's groups need it.
func cloneIntoUserNamespace(attr *syscall.SysProcAttr, u *UserNamespace) {
	attr.Cloneflags |= syscall.CLONE_NEWUSER
	for _, e := range u.UIDMap {
		attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	for _, e := range u.GIDMap {
		attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	attr.GidMappingsEnableSetgroups = true
	// The child must become root of the namespace (host 100000) before it
	// execs init: a process keeps its capabilities across execve only as
	// its namespace's root, and the clone left it the host root's ids,
	// which the namespace does not map.
	attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
}

// mountIdmappedRootfs mounts the container's root file system at
// rfs.MergedDir in the mount namespace of init (pid), which waits for
// "go", with each layer idmapped to init's user namespace. It runs on a
// throwaway thread: the thread leaves the shim's mount namespace for
// good.
func mountIdmappedRootfs(pid int, rfs Rootfs) error {
	var err error
	OnThrowawayThread(func() { err = mountIdmappedRootfsHere(pid, rfs) })
	return err
}

func mountIdmappedRootfsHere(pid int, rfs Rootfs) error {
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's user namespace: %w", err)
	}
	defer unix.Close(userns)
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	if err := setnsPath(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.CLONE_NEWNS); err != nil {
		return err
	}
	// nothing done here may propagate back to the host
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if len(rfs.LowerDirs) == 0 || (rfs.UpperDir == "" && len(rfs.LowerDirs) == 1) {
		// a plain directory (or one read-only layer) as root
		src, readOnly := rfs.MergedDir, false
		if len(rfs.LowerDirs) == 1 {
			src, readOnly = rfs.LowerDirs[0], true
		}
		return idmapOnto(src, rfs.MergedDir, userns, readOnly)
	}
	for i, l := range rfs.LowerDirs {
		if err := idmapOnto(l, l, userns, false); err != nil {
			unmountAll(rfs.LowerDirs[:i])
			return err
		}
	}
	defer unmountAll(rfs.LowerDirs) // the overlay holds its own clones
	opts := overlayOptions(rfs.LowerDirs, rfs.UpperDir, rfs.WorkDir)
	if err := unix.Mount("overlay", rfs.MergedDir, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", rfs.MergedDir, err)
	}
	return nil
}

// idmapOnto mounts an idmapped copy of the tree at src on dst: files owned
// by host uid N appear owned by the uid that N is in userns (0 → 100000).
func idmapOnto(src, dst string, userns int, readOnly bool) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if readOnly {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("idmap %s (needs Linux 5.12+ and a file system that supports idmapped mounts): %w", src, err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move the idmapped %s to %s: %w", src, dst, err)
	}
	return nil
}

func unmountAll(paths []string) {
	for _, p := range paths {
		unix.Unmount(p, unix.MNT_DETACH)
	}
}

// bindDevNode makes /dev/<name> (dfd: the container's /dev) a bind mount
// of the host's node.
func bindDevNode(dfd int, name string) error {
	if err := bindHostNode(dfd, name, "/dev/"+name); err != nil {
		return fmt.Errorf("/dev/%s: %w", name, err)
	}
	return nil
}

// bindHostNode makes name (in the directory dfd) a bind mount of the
// host's device node at hostPath: a user namespace may not mknod, so this
// is how runc makes a rootless or remapped container's devices. A node
// bound there already (a --device over /dev/null) is unmounted first: a
// mount point cannot be unlinked. It runs before pivot_root, while the
// host's /dev is still in sight.
func bindHostNode(dfd int, name, hostPath string) error {
	if old, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
		unix.Unmount(fmt.Sprintf("/proc/self/fd/%d", old), unix.MNT_DETACH) // EINVAL when not a mount
		unix.Close(old)
		if err := unix.Unlinkat(dfd, name, 0); err != nil && err != unix.ENOENT {
			return fmt.Errorf("replace %s: %w", name, err)
		}
	}
	fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer unix.Close(fd)
	target := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Mount(hostPath, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", hostPath, err)
	}
	return nil
}

package libcontainer

// Building the container's root inside its own mount namespace:
//
//  1. make every mount private (systemd makes / shared; pivot_root refuses
//     a shared root, and our mounts must not leak back to the host);
//  2. mount the overlay (image layers + the container's upper dir);
//  3. /proc, a small /dev (tmpfs with null, zero, full, random, urandom,
//     tty, a devpts of its own, shm), /sys read-only, the bind mounts;
//  4. pivot_root(".", ".") in the new root, then detach the old root that
//     now sits under it. Unlike chroot, no old root stays reachable.
//
// Every mount point inside the root is reached through os.Root and
// /proc/self/fd/N, so a symlink in an image ("dev -> /") cannot send a
// mount outside the container.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

func setupRootfs(s *Spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	rfs := s.Rootfs
	merged := rfs.MergedDir
	if merged == "" {
		return fmt.Errorf("rootfs: no MergedDir")
	}
	switch {
	case rfs.Premounted: // by the shim (userns_linux.go)
	case len(rfs.LowerDirs) == 0 || (rfs.UpperDir == "" && len(rfs.LowerDirs) == 1):
		// a plain directory as root (or one read-only layer): bind it onto
		// the mount point so that it is a mount pivot_root can use
		src := merged
		if len(rfs.LowerDirs) == 1 {
			src = rfs.LowerDirs[0]
		}
		if err := unix.Mount(src, merged, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind rootfs: %w", err)
		}
		if rfs.UpperDir == "" && len(rfs.LowerDirs) == 1 {
			unix.Mount("", merged, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
		}
	default:
		opts := overlayOptions(rfs.LowerDirs, rfs.UpperDir, rfs.WorkDir)
		if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
			return fmt.Errorf("mount overlay on %s: %w", merged, err)
		}
	}
	root, err := os.OpenRoot(merged)
	if err != nil {
		return err
	}
	defer root.Close()

	if err := mountSystemDirs(root, s); err != nil {
		return err
	}
	if err := mountDevShm(root, s); err != nil { // runopts_linux.go
		return err
	}
	if err := makeDevices(root, s.Devices, s.UserNamespace != nil); err != nil {
		return err
	}
	if err := mountUserMounts(root, s.Mounts); err != nil {
		return err
	}
	if err := pivotRoot(merged); err != nil {
		return err
	}
	if s.ReadonlyRootfs {
		// only the root mount itself: /dev, /proc, the bind mounts and
		// the tmpfs mounts on it keep their own flags
		if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("remount / read-only: %w", err)
		}
	}
	return nil
}

// mountSystemDirs mounts /proc, /dev and /sys, and hides what a container
// must not touch; --privileged keeps /sys writable, copies the host's
// devices and hides nothing, as docker does.
func mountSystemDirs(root *os.Root, s *Spec) error {
	privileged := s.Privileged
	if err := mountIn(root, "proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "", false); err != nil {
		return err
	}
	if err := setupDev(root, privileged); err != nil {
		return err
	}
	sysFlags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY)
	if privileged {
		sysFlags &^= unix.MS_RDONLY
	}
	if err := mountIn(root, "sys", "sysfs", "sysfs", sysFlags, "", false); err != nil {
		// sysfs may not be mountable (e.g. a joined netns of another
		// owner): fall back to a bind of the host's
		if err2 := bindIn(root, "/sys", "sys", !privileged, false); err2 != nil {
			return err
		}
	}
	if privileged {
		return nil
	}
	return maskPaths(root, !s.UnmaskPaths, !s.WritableProcPaths)
}

// mountUserMounts makes the container's bind mounts, volumes and tmpfs
// mounts, in the daemon's order (parents first).
func mountUserMounts(root *os.Root, mounts []Mount) error {
	for _, m := range mounts {
		if m.Tmpfs || m.CopyUp || m.ReadOnly {
			if err := volumeMount(root, m); err != nil { // volumes_linux.go
				return err
			}
			continue
		}
		fi, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("bind mount %s: %w", m.Source, err)
		}
		if err := bindIn(root, m.Source, m.Destination, m.ReadOnly, !fi.IsDir()); err != nil {
			return err
		}
	}
	return nil
}

// openIn creates (if needed) and opens name inside root.
func openIn(root *os.Root, name string, isFile bool) (*os.File, error) {
	name = strings.TrimLeft(filepath.Clean("/"+name), "/")
	if name == "" {
		name = "."
	}
	if isFile {
		if dir := filepath.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
		f, err := root.OpenFile(name, os.O_RDONLY|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	if err := root.MkdirAll(name, 0o755); err != nil {
		return nil, err
	}
	return root.Open(name)
}

func fdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// mountIn mounts a filesystem on name inside root.
func mountIn(root *os.Root, name, source, fstype string, flags uintptr, data string, isFile bool) error {
	f, err := openIn(root, name, isFile)
	if err != nil {
		return fmt.Errorf("mount point /%s: %w", name, err)
	}
	defer f.Close()
	if err := unix.Mount(source, fdPath(f), fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on /%s: %w", fstype, name, err)
	}
	return nil
}

// bindIn bind-mounts the host's src on name inside root; read-only takes a
// second (remount) step, done on the new mount itself.
func bindIn(root *os.Root, src, name string, readOnly, isFile bool) error {
	if err := mountIn(root, name, src, "", unix.MS_BIND|unix.MS_REC, "", isFile); err != nil {
		return err
	}
	if !readOnly {
		return nil
	}
	f, err := openIn(root, name, isFile)
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Statfs_t
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY)
	if unix.Fstatfs(int(f.Fd()), &st) == nil {
		// keep the flags the source mount has (a remount must not clear
		// nosuid/nodev/noexec)
		for _, fl := range []uintptr{unix.MS_NOSUID, unix.MS_NODEV, unix.MS_NOEXEC, unix.MS_NOATIME, unix.MS_RELATIME, unix.MS_NODIRATIME} {
			if uintptr(st.Flags)&fl != 0 {
				flags |= fl
			}
		}
	}
	if err := unix.Mount("", fdPath(f), "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", name, err)
	}
	return nil
}

type devNode struct {
	name         string
	major, minor uint32
}

var devNodes = []devNode{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

func setupDev(root *os.Root, privileged bool) error {
	if err := mountIn(root, "dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k", false); err != nil {
		return err
	}
	dev, err := root.Open("dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	dfd := int(dev.Fd())
	for _, n := range devNodes {
		if err := makeDevNode(dfd, n); err != nil {
			return err
		}
	}
	for _, l := range [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
	} {
		if err := unix.Symlinkat(l[0], dfd, l[1]); err != nil {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	if privileged {
		if err := copyHostDevices(dfd); err != nil {
			return err
		}
	}
	devRoot, err := os.OpenRoot(fdPath(dev))
	if err != nil {
		return err
	}
	defer devRoot.Close()
	if err := mountIn(devRoot, "pts", "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", false); err != nil {
		return err
	}
	// /dev/console comes with the terminal, once init has opened it in
	// this devpts (setupConsole)
	return nil
}

// makeDevNode makes one of the container's standard devices; in a user
// namespace, where mknod is refused, it binds the host's node instead.
func makeDevNode(dfd int, n devNode) error {
	err := unix.Mknodat(dfd, n.name, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor)))
	if err == unix.EPERM {
		return bindDevNode(dfd, n.name) // userns_linux.go
	}
	if err != nil {
		return fmt.Errorf("mknod /dev/%s: %w", n.name, err)
	}
	return unix.Fchmodat(dfd, n.name, 0o666, 0) // not the umask's
}

// copyHostDevices makes the host's device nodes in the container's /dev
// (dfd), with their numbers, mode and owner: --privileged sees the host's
// disks, ttys, /dev/net/tun… It reads the host's /dev, so it runs before
// pivot_root. Nodes /dev already has (null, tty, …) are kept.
func copyHostDevices(dfd int) error {
	skipDirs := map[string]bool{"pts": true, "shm": true, "mqueue": true, "fd": true, "hugepages": true}
	return filepath.WalkDir("/dev", func(path string, d fs.DirEntry, err error) error {
		rel := strings.TrimPrefix(path, "/dev/")
		if err != nil || path == "/dev" {
			return nil // a node that vanished meanwhile
		}
		if d.IsDir() {
			if skipDirs[rel] {
				return fs.SkipDir
			}
			if err := unix.Mkdirat(dfd, rel, 0o755); err != nil && err != unix.EEXIST {
				return fmt.Errorf("mkdir /dev/%s: %w", rel, err)
			}
			return nil
		}
		if d.Type()&fs.ModeDevice == 0 || rel == "console" {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(path, &st) != nil {
			return nil
		}
		if err := unix.Mknodat(dfd, rel, st.Mode, int(st.Rdev)); err != nil {
			if err == unix.EEXIST {
				return nil
			}
			return fmt.Errorf("mknod /dev/%s: %w", rel, err)
		}
		unix.Fchownat(dfd, rel, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
		return unix.Fchmodat(dfd, rel, st.Mode&0o7777, 0)
	})
}

// pivotRoot makes newRoot (a mount point) the root of the calling process's
// mount namespace and detaches the old root, so that nothing of the host's
// tree stays reachable, not even through "..".
func pivotRoot(newRoot string) error {
	// exercise:begin 04-pivot-root
	if err := unix.Chdir(newRoot); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		if err == unix.EINVAL && rootIsRamfs() {
			// the host runs from its initramfs, which can never be
			// unmounted, so the kernel refuses to pivot away from it
			// (docker's DOCKER_RAMDISK case). Move the new root over /
			// and chroot into it, like switch_root does.
			return moveRoot()
		}
		return fmt.Errorf("pivot_root: %w", err)
	}
	// the old root is now mounted on top of the new one at "/": make it
	// private (so the unmount does not propagate) and detach it
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
	// exercise:end 04-pivot-root
}

// rootIsRamfs reports whether / is the initramfs (rootfs: ramfs or tmpfs).
func rootIsRamfs() bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == "/" {
			for i, x := range f {
				if x == "-" && i+2 < len(f) {
					return f[i+1] == "rootfs" || f[i+1] == "ramfs"
				}
			}
		}
	}
	return false
}

// moveRoot makes the current directory the root without pivot_root: the
// host's root stays underneath (unreachable once chrooted, since nothing
// of it is left open), which is why pivot_root is used whenever it can be.
func moveRoot() error {
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move the root over /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// Docker's MaskedPaths and ReadonlyPaths: kernel interfaces a container has
// no business reading (kcore, keys, timer_list, …: masked by /dev/null or an
// empty read-only tmpfs) or writing (/proc/sys, sysrq-trigger, …).
var (
	maskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// maskPaths hides maskedPaths (mask) and makes readonlyPaths read-only
// (readOnly): both, unless --security-opt systempaths=unconfined.
func maskPaths(root *os.Root, mask, readOnly bool) error {
	if mask {
		if err := hidePaths(root); err != nil {
			return err
		}
	}
	if readOnly {
		return readOnlyPaths(root)
	}
	return nil
}

func hidePaths(root *os.Root) error {
	for _, p := range maskedPaths {
		name := strings.TrimPrefix(p, "/")
		fi, err := root.Lstat(name)
		if err != nil {
			continue // not on this kernel
		}
		f, err := root.Open(name)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", fdPath(f), "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
		} else {
			err = unix.Mount("/dev/null", fdPath(f), "", unix.MS_BIND, "")
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

func readOnlyPaths(root *os.Root) error {
	for _, p := range readonlyPaths {
		name := strings.TrimPrefix(p, "/")
		fi, err := root.Lstat(name)
		if err != nil {
			continue
		}
		f, err := root.Open(name)
		if err != nil {
			continue
		}
		err = bindIn(root, fdPath(f), name, true, !fi.IsDir())
		f.Close()
		if err != nil {
			return fmt.Errorf("read-only %s: %w", p, err)
		}
	}
	return nil
}

// maxMountData is what the kernel copies of mount(2)'s data: one page, with
// its final NUL.
const maxMountData = 4095

// overlayOptions builds the overlay's mount data. Many layers with long
// paths overflow the one page mount(2) takes; then the lower dirs are named
// relative to their common parent, which becomes the working directory
// (the kernel resolves relative paths from the mounter's cwd), like
// docker's overlay2 driver does with its short "l/" links.
func overlayOptions(lowers []string, upper, work string) string {
	build := func(ls []string) string {
		o := "lowerdir=" + strings.Join(ls, ":")
		if upper != "" {
			o += ",upperdir=" + upper + ",workdir=" + work
		}
		return o
	}
	opts := build(lowers)
	if len(opts) <= maxMountData {
		return opts
	}
	parent := filepath.Dir(lowers[0])
	for _, l := range lowers {
		for parent != "/" && !strings.HasPrefix(l, parent+"/") {
			parent = filepath.Dir(parent)
		}
	}
	if parent == "/" || unix.Chdir(parent) != nil {
		return opts // the mount will fail with a clear EINVAL
	}
	rel := make([]string, len(lowers))
	for i, l := range lowers {
		rel[i] = strings.TrimPrefix(l, parent+"/")
	}
	return build(rel)
}

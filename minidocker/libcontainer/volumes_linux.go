package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// volumeMount does the mounts that are more than a plain bind: a tmpfs,
// a volume that is first filled from the image (copy-up), and read-only
// binds, which are made read-only recursively (mount_setattr) so a mount
// under the source is not left writable.
func volumeMount(root *os.Root, m Mount) error {
	if m.Tmpfs {
		return mountIn(root, m.Destination, "tmpfs", "tmpfs", m.Flags, m.Data, false)
	}
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind mount %s: %w", m.Source, err)
	}
	if m.CopyUp && fi.IsDir() {
		if err := copyUp(root, m.Destination, m.Source); err != nil {
			return fmt.Errorf("copying the image's %s into its volume: %w", m.Destination, err)
		}
	}
	if err := bindIn(root, m.Source, m.Destination, m.ReadOnly, !fi.IsDir()); err != nil {
		return err
	}
	if !m.ReadOnly {
		return nil
	}
	f, err := openIn(root, m.Destination, !fi.IsDir())
	if err != nil {
		return err
	}
	defer f.Close()
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("make %s read-only recursively: %w", m.Destination, err)
	}
	return nil
}

// copyUp copies the image's directory dest (inside root, the container's
// merged rootfs) into the volume directory vol when vol is empty: what
// docker does when a new volume is mounted over content of the image.
// Owners, modes and symlinks are kept; the walk never leaves root.
func copyUp(root *os.Root, dest, vol string) error {
	if ents, err := os.ReadDir(vol); err != nil || len(ents) > 0 {
		return err
	}
	rel := strings.TrimLeft(filepath.Clean("/"+dest), "/")
	fi, err := root.Lstat(rel)
	if err != nil || !fi.IsDir() {
		return nil // nothing (or no directory) there in the image
	}
	src, err := root.OpenRoot(rel)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := copyOwnerMode(fi, vol); err != nil {
		return err
	}
	return fs.WalkDir(src.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		return copyEntry(src, p, filepath.Join(vol, p))
	})
}

func copyEntry(src *os.Root, p, to string) error {
	fi, err := src.Lstat(p)
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		if err := os.Mkdir(to, 0o700); err != nil {
			return err
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := src.Readlink(p)
		if err != nil {
			return err
		}
		return lchown(fi, to, os.Symlink(target, to))
	case fi.Mode().IsRegular():
		if err := copyFile(src, p, to); err != nil {
			return err
		}
	default:
		return nil // devices, fifos, sockets: not copied
	}
	return copyOwnerMode(fi, to)
}

func copyFile(src *os.Root, p, to string) error {
	in, err := src.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func lchown(fi fs.FileInfo, to string, err error) error {
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return os.Lchown(to, int(st.Uid), int(st.Gid))
	}
	return nil
}

// copyOwnerMode gives to the owner and mode (setuid, sticky bits too) of fi.
func copyOwnerMode(fi fs.FileInfo, to string) error {
	if err := lchown(fi, to, nil); err != nil {
		return err
	}
	return os.Chmod(to, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

package libcontainer

// The run options init applies on top of the root file system: rlimits
// (--ulimit), /dev/shm (--shm-size, --ipc), namespaced sysctls
// (--sysctl) and extra groups (--group-add); and the namespaces the shim
// shares instead of making new ones (--ipc, --pid, --uts). An exec'd process gets the container's rlimits too, as with
// docker (Exec sets them on the child while it is stopped at its execve).

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// defaultShmSize is docker's /dev/shm when the spec names none: 64 MiB.
const defaultShmSize = 64 << 20

// setRlimits sets the calling process's limits; init calls it right
// before its execve, so PID 1 starts with them. syscall.Setrlimit (not
// unix's) also tells Go not to put its own RLIMIT_NOFILE back at exec.
func setRlimits(rl []Rlimit) error {
	for _, r := range rl {
		if err := syscall.Setrlimit(r.Type, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("error setting rlimit type %d: %w", r.Type, err)
		}
	}
	return nil
}

// setChildRlimits sets the limits of a child stopped at its execve (see
// joinStopped): the thread that forked it has its credentials, so the
// kernel lets it change them without CAP_SYS_RESOURCE (lowering them, or
// raising the soft limit up to the hard one).
func setChildRlimits(pid int, rl []Rlimit) error {
	for _, r := range rl {
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(pid, r.Type, &lim, nil); err != nil {
			return fmt.Errorf("error setting rlimit type %d: %w", r.Type, err)
		}
	}
	return nil
}

// writeSysctls writes each sysctl through /proc/sys. init runs it in its
// own namespaces before it builds the root: the net.* files belong to
// the writer's network namespace, kernel.shm*/msg*/sem and fs.mqueue.* to
// its IPC namespace, so the host's values never change. The daemon has
// checked that each one is namespaced (runopts.go).
func writeSysctls(sysctls map[string]string) error {
	for k, v := range sysctls {
		path := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(path, []byte(v), 0); err != nil {
			return fmt.Errorf("write sysctl key %s: %w", k, err)
		}
	}
	return nil
}

// mountDevShm makes the container's /dev/shm: a tmpfs of ShmSize bytes
// (docker's 64 MiB when 0), nothing with --ipc none, or a bind of the
// shared one (--ipc shareable, container:<id>, host).
func mountDevShm(root *os.Root, s *Spec) error {
	switch s.Shm {
	case "none":
		return nil
	case "":
		size := s.ShmSize
		if size <= 0 {
			size = defaultShmSize
		}
		data := fmt.Sprintf("mode=1777,size=%d", size)
		return mountIn(root, "dev/shm", "shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data, false)
	}
	return bindIn(root, s.Shm, "dev/shm", false, false)
}

// makeDevices makes the --device nodes in the container (root), after
// /dev is mounted; a node already there (/dev/null) is replaced. In a
// user namespace (inUserns) mknod is refused: the host's node is bound
// instead, with its own owner and mode (userns_linux.go), as runc does.
func makeDevices(root *os.Root, devices []Device, inUserns bool) error {
	for _, d := range devices {
		dir, err := openIn(root, filepath.Dir(d.Path), false)
		if err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
		dfd, name := int(dir.Fd()), filepath.Base(d.Path)
		if inUserns {
			err = bindHostNode(dfd, name, d.HostPath)
			dir.Close()
			if err != nil {
				return fmt.Errorf("device %s: %w", d.Path, err)
			}
			continue
		}
		unix.Unlinkat(dfd, name, 0)
		err = unix.Mknodat(dfd, name, d.Mode, int(unix.Mkdev(d.Major, d.Minor)))
		if err == nil {
			err = unix.Fchownat(dfd, name, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW)
		}
		if err == nil {
			err = unix.Fchmodat(dfd, name, d.Mode&0o7777, 0) // not the umask's
		}
		dir.Close()
		if err != nil {
			return fmt.Errorf("mknod %s: %w", d.Path, err)
		}
	}
	return nil
}

// ShareableShm is the bundle's directory where the daemon mounts the
// /dev/shm of a container with --ipc shareable, on the host, so that the
// containers that join its IPC namespace can bind the same one.
const ShareableShm = "shm"

// MountShareableShm mounts a tmpfs of size bytes at <bundle>/shm and
// returns its path; Cleanup unmounts it.
func MountShareableShm(bundle string, size int64) (string, error) {
	if size <= 0 {
		size = defaultShmSize
	}
	dir := filepath.Join(bundle, ShareableShm)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	data := fmt.Sprintf("mode=1777,size=%d", size)
	if err := unix.Mount("shm", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data); err != nil {
		return "", fmt.Errorf("mount the shareable /dev/shm: %w", err)
	}
	return dir, nil
}

// unmountShareableShm undoes MountShareableShm (nothing when there is
// none); the containers that joined keep their own bind of it.
func unmountShareableShm(bundle string) error {
	dir := filepath.Join(bundle, ShareableShm)
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return err
	}
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// withSharedNamespaces drops from init's clone flags the namespaces it
// shares: the host's, or another container's (joined by startJoined).
func withSharedNamespaces(flags uintptr, s *Spec) uintptr {
	for _, ns := range []struct {
		shared SharedNamespace
		flag   uintptr
	}{{s.IPC, unix.CLONE_NEWIPC}, {s.PID, unix.CLONE_NEWPID}, {s.UTS, unix.CLONE_NEWUTS}} {
		if ns.shared.Host || ns.shared.Path != "" {
			flags &^= ns.flag
		}
	}
	return flags
}

// nsJoin is a namespace init is born in: setns'd by the thread that
// clones it.
type nsJoin struct {
	path string
	flag int
}

// namespaceJoins lists the namespaces to enter before the clone: the
// network one of mode "join", and the IPC and PID ones of another
// container.
func namespaceJoins(s *Spec) []nsJoin {
	var joins []nsJoin
	if s.Network.Mode == "join" {
		joins = append(joins, nsJoin{s.Network.NetnsPath, unix.CLONE_NEWNET})
	}
	if s.IPC.Path != "" {
		joins = append(joins, nsJoin{s.IPC.Path, unix.CLONE_NEWIPC})
	}
	if s.PID.Path != "" {
		joins = append(joins, nsJoin{s.PID.Path, unix.CLONE_NEWPID})
	}
	return joins
}

func setnsPath(path string, flag int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open namespace: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, flag); err != nil {
		return fmt.Errorf("join namespace %s: %w", path, err)
	}
	return nil
}

// addGroups adds --group-add's groups to a process's groups: a name is
// looked up in the container's group file, a number is taken as a gid
// (it need not be listed), with moby/sys/user as dockerd does.
func addGroups(groups []uint32, extra []string, groupPath string) ([]uint32, error) {
	if len(extra) == 0 {
		return groups, nil
	}
	gids, err := user.GetAdditionalGroupsPath(extra, groupPath)
	if err != nil {
		return nil, err
	}
	for _, g := range gids {
		if !slices.Contains(groups, uint32(g)) {
			groups = append(groups, uint32(g))
		}
	}
	return groups, nil
}

package libcontainer

// The run options init applies on top of the root file system: rlimits
// (--ulimit), the size of /dev/shm (--shm-size), namespaced sysctls
// (--sysctl) and extra groups (--group-add). An exec'd process gets the container's rlimits too, as with
// docker (Exec sets them on the child while it is stopped at its execve).

import (
	"fmt"
	"os"
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

// mountDevShm mounts the container's /dev/shm, a tmpfs of size bytes
// (docker's 64 MiB when 0).
func mountDevShm(root *os.Root, size int64) error {
	if size <= 0 {
		size = defaultShmSize
	}
	data := fmt.Sprintf("mode=1777,size=%d", size)
	return mountIn(root, "dev/shm", "shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data, false)
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

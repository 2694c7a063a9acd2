package libcontainer

// Capabilities: a container's root is not the host's root. Like docker,
// a container's processes keep only a default set (DefaultCapabilities,
// changed by --cap-add, --cap-drop and --privileged); everything else
// (CAP_SYS_ADMIN: mount, pivot_root, …; CAP_NET_ADMIN; CAP_SYS_MODULE; …)
// is dropped from the bounding set, so not even a setuid-root binary or
// an exec by root can get it back. Capabilities are per thread in Linux:
// both init and exec drop them on the locked thread that then execs or
// forks.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

// capabilityNumbers turns names into numbers; nil is docker's default set.
func capabilityNumbers(names []string) (map[int]bool, error) {
	if names == nil {
		names = DefaultCapabilities()
	}
	keep := map[int]bool{}
	for _, name := range names {
		c, err := CapabilityNumber(name)
		if err != nil {
			return nil, err
		}
		keep[c] = true
	}
	return keep, nil
}

// dropBoundingSet takes every capability but keep out of the calling
// thread's bounding set: no execve can give them back, not even a setuid
// root binary's. The thread itself still has them until setCapabilities
// (it needs CAP_SETUID and CAP_SETGID to switch user first).
func dropBoundingSet(keep map[int]bool, last int) error {
	for c := 0; c <= last; c++ {
		if keep[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	return nil
}

// setCapabilities makes keep the calling thread's effective and permitted
// sets and empties inheritable and ambient. A thread that switched to
// another user than root has lost them already (the kernel clears them on
// setuid), and keeps none: docker gives a non-root user no capabilities.
func setCapabilities(keep map[int]bool) error {
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Geteuid() == 0 {
		for c := range keep {
			data[c/32].Effective |= 1 << (uint(c) % 32)
			data[c/32].Permitted |= 1 << (uint(c) % 32)
		}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

package libcontainer

// Capability names. The kernel knows capabilities by number; docker's API
// and the user know them by name ("CAP_NET_ADMIN", or "NET_ADMIN" on the
// command line). This table is the kernel's numbering (linux/capability.h).

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// capNames[n] is the name of capability number n.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities is docker's default set for a container's processes
// (CapBnd 00000000a80425fb): what a root inside may do to its own files and
// processes, nothing that reaches the kernel or the host (no CAP_SYS_ADMIN:
// no mount, no namespaces; no CAP_NET_ADMIN; no CAP_SYS_MODULE).
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// AllCapabilities is every capability this kernel has and this process
// may pass on — its bounding set (--privileged, --cap-add ALL), in kernel
// order. A host that runs the daemon with fewer (a container, a sandbox)
// cannot give more.
func AllCapabilities() []string {
	var all []string
	for c := 0; c <= lastCap() && c < len(capNames); c++ {
		if in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && in == 1 {
			all = append(all, capNames[c])
		}
	}
	return all
}

// CapabilityNumber is the kernel's number of a capability named "CAP_X".
func CapabilityNumber(name string) (int, error) {
	for n, c := range capNames {
		if c == name {
			return n, nil
		}
	}
	return 0, fmt.Errorf("unknown capability: %q", name)
}

// NormalizeCapabilities turns names as users write them ("net_admin",
// "CAP_NET_ADMIN", "ALL") into the kernel's ("CAP_NET_ADMIN"; "ALL" stays),
// refusing names the kernel does not have, in docker's words.
func NormalizeCapabilities(names []string) ([]string, error) {
	var out []string
	for _, c := range names {
		c = strings.ToUpper(c)
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if _, err := CapabilityNumber(c); err != nil {
			return nil, err
		}
		if !contains(AllCapabilities(), c) {
			return nil, fmt.Errorf("capability not supported by your kernel or not available in the current environment: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// TweakCapabilities is docker's rule for a container's set: privileged gets
// all; otherwise the defaults minus --cap-drop plus --cap-add, where
// "--cap-add ALL" means all but the dropped ones and "--cap-drop ALL" means
// only the added ones.
func TweakCapabilities(adds, drops []string, privileged bool) ([]string, error) {
	if privileged {
		return AllCapabilities(), nil
	}
	add, err := NormalizeCapabilities(adds)
	if err != nil {
		return nil, err
	}
	drop, err := NormalizeCapabilities(drops)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case contains(add, "ALL"):
		for _, c := range AllCapabilities() {
			if !contains(drop, c) {
				caps = append(caps, c)
			}
		}
	case contains(drop, "ALL"):
		caps = append([]string{}, add...)
	default:
		for _, c := range DefaultCapabilities() {
			if !contains(drop, c) {
				caps = append(caps, c)
			}
		}
		for _, c := range add {
			if !contains(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	return caps, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

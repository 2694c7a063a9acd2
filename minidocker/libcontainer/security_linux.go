package libcontainer

// Confinement, applied on the thread that then execs (init) or forks (exec):
// capabilities, no_new_privs, the user, and the seccomp filter
// (Process.Security).
//
// The order matters, and is runc's. The kernel installs a seccomp filter
// only for a thread that has no_new_privs set or CAP_SYS_ADMIN in its
// effective set. So:
//
//   - with no_new_privs: set it, drop capabilities, switch user, and
//     install the filter last, right before execve — a profile may then
//     forbid even capset or setuid without breaking the start;
//   - without it (docker's default): install the filter first, while the
//     thread still has CAP_SYS_ADMIN, then drop capabilities and switch
//     user (the default profile allows capset, setgroups, setresuid…).

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/seccomp"
)

// seccompFilter compiles the process's profile for its capabilities (nil
// when unconfined). Done before any privilege is dropped, so that a bad
// profile is a clear start error.
func seccompFilter(sec *Security) ([]seccomp.Instruction, error) {
	if sec.Seccomp == nil {
		return nil, nil
	}
	caps := sec.Capabilities
	if sec.SeccompCapabilities != nil {
		caps = sec.SeccompCapabilities
	}
	if caps == nil {
		caps = DefaultCapabilities()
	}
	return seccomp.Compile(sec.Seccomp, caps)
}

// confine drops the calling thread to sec. switchUser changes the thread's
// user and groups; it runs once the bounding set is reduced but while the
// thread still has CAP_SETUID and CAP_SETGID (--cap-drop ALL must not make
// the user switch fail), and before the effective set is reduced.
func confine(sec *Security, filter []seccomp.Instruction, lastCap int, switchUser func() error) error {
	if sec.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	if filter != nil && !sec.NoNewPrivileges {
		if err := seccomp.Install(filter); err != nil {
			return err
		}
	}
	keep, err := capabilityNumbers(sec.Capabilities)
	if err != nil {
		return err
	}
	if err := dropBoundingSet(keep, lastCap); err != nil {
		return err
	}
	if err := switchUser(); err != nil {
		return err
	}
	if err := setCapabilities(keep); err != nil {
		return err
	}
	if filter != nil && sec.NoNewPrivileges {
		return seccomp.Install(filter)
	}
	return nil
}

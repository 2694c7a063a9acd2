package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install puts the filter on the calling thread, for good: the thread, and
// every process it forks or execs from now on, runs each system call
// through it. Only the calling thread is filtered (no TSYNC): init and exec
// call it on the locked thread that then execs or forks, so Go's other
// threads, which die with the execve or stay in the daemon, are unaffected.
// The kernel accepts a filter from a thread with no_new_privs set or with
// CAP_SYS_ADMIN in its effective set.
func Install(filter []Instruction) error {
	if len(filter) == 0 {
		return fmt.Errorf("seccomp: empty filter")
	}
	prog := make([]unix.SockFilter, len(filter))
	for i, in := range filter {
		prog[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		return fmt.Errorf("seccomp: install the filter: %w", err)
	}
	return nil
}

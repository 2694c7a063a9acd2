package seccomp

// Compiling a profile to a classic BPF program. The kernel runs the program
// on every system call with struct seccomp_data as its input:
//
//	offset 0  nr    (u32)   the system call number
//	offset 4  arch  (u32)   AUDIT_ARCH_*, the calling convention
//	offset 16 args  (6×u64) the arguments, little-endian on x86_64
//
// and the 32-bit value it returns is the verdict (SECCOMP_RET_ALLOW,
// SECCOMP_RET_ERRNO|errno, …). The program made here is a straight list:
//
//	if arch != x86_64 or nr has the x32 bit: return default
//	for each rule, for each of its names:
//	    if nr == name and every argument condition holds: return action
//	return default
//
// First match wins. libseccomp builds a tree instead (faster on long
// lists); a list is easier to read, and docker's profile never gives one
// system call two actions for the same container.

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

const (
	auditArchX86_64 = 0xc000003e // AUDIT_ARCH_X86_64
	x32SyscallBit   = 0x40000000 // x32 ABI calls arrive with this bit set
	offNr, offArch  = 0, 4       // in struct seccomp_data
	offArgs         = 16         // args[0]; args[i] is at 16+8i
	retAllow        = 0x7fff0000 // SECCOMP_RET_ALLOW
	retErrno        = 0x00050000 // SECCOMP_RET_ERRNO | errno
	retKillThread   = 0x00000000 // SECCOMP_RET_KILL_THREAD
	retKillProcess  = 0x80000000 // SECCOMP_RET_KILL_PROCESS
	retTrap         = 0x00030000 // SECCOMP_RET_TRAP
	retTrace        = 0x7ff00000 // SECCOMP_RET_TRACE | data
	retLog          = 0x7ffc0000 // SECCOMP_RET_LOG
	maxInstructions = 4096       // BPF_MAXINSNS
	eperm           = uint32(unix.EPERM)
)

// Compile makes the filter for a process that keeps caps (its bounding
// set, "CAP_*" names): rules that include or exclude capabilities, this
// architecture or this kernel are chosen now, as docker does when it
// builds a container's spec.
func Compile(p *Profile, caps []string) ([]Instruction, error) {
	if runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("seccomp: only x86_64 is supported, not %s", runtime.GOARCH)
	}
	def, err := verdict(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	kernel := kernelVersion()
	var b builder
	useDefault, rules := b.label(), b.label()
	b.load(offArch)
	b.jumpIf(unix.BPF_JEQ, auditArchX86_64, next, useDefault) // i386 (int 0x80): default
	b.load(offNr)
	b.jumpIf(unix.BPF_JGE, x32SyscallBit, useDefault, rules) // x32: default
	b.place(useDefault)
	b.ret(def)
	b.place(rules)
	for i, rule := range p.Syscalls {
		if !applies(rule, caps, kernel) {
			continue
		}
		action, err := verdict(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("seccomp: rule %d: %w", i, err)
		}
		for _, name := range append(rule.Names, nonEmpty(rule.Name)...) {
			nr, ok := syscallNumbers()[name]
			if !ok {
				continue // another architecture's call
			}
			if err := b.rule(nr, rule.Args, action); err != nil {
				return nil, fmt.Errorf("seccomp: rule %d (%s): %w", i, name, err)
			}
		}
	}
	b.ret(def)
	return b.assemble()
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// verdict is an action's SECCOMP_RET_* value; errno defaults to EPERM.
func verdict(a Action, errnoRet *uint32) (uint32, error) {
	errno := eperm
	if errnoRet != nil {
		errno = *errnoRet
	}
	switch a {
	case "SCMP_ACT_ALLOW":
		return retAllow, nil
	case "SCMP_ACT_ERRNO":
		return retErrno | (errno & 0xffff), nil
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return retKillThread, nil
	case "SCMP_ACT_KILL_PROCESS":
		return retKillProcess, nil
	case "SCMP_ACT_TRAP":
		return retTrap, nil
	case "SCMP_ACT_TRACE":
		return retTrace | (errno & 0xffff), nil
	case "SCMP_ACT_LOG":
		return retLog, nil
	}
	return 0, fmt.Errorf("seccomp: unsupported action %q", a)
}

// applies says whether a rule is for this container (capabilities,
// architecture, kernel), as docker decides it.
func applies(r Syscall, caps []string, kernel [2]int) bool {
	in, ex := r.Includes, r.Excludes
	for _, c := range in.Caps {
		if !has(caps, c) {
			return false
		}
	}
	for _, c := range ex.Caps {
		if has(caps, c) {
			return false
		}
	}
	if len(in.Arches) > 0 && !has(in.Arches, runtime.GOARCH) {
		return false
	}
	if has(ex.Arches, runtime.GOARCH) {
		return false
	}
	if in.MinKernel != "" && !atLeast(kernel, in.MinKernel) {
		return false
	}
	if ex.MinKernel != "" && atLeast(kernel, ex.MinKernel) {
		return false
	}
	return true
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kernelVersion is the running kernel's major.minor.
func kernelVersion() [2]int {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return [2]int{}
	}
	return parseVersion(unix.ByteSliceToString(u.Release[:]))
}

func parseVersion(s string) [2]int {
	var v [2]int
	for i, part := range strings.SplitN(s, ".", 3) {
		if i > 1 {
			break
		}
		n, _ := strconv.Atoi(strings.TrimRightFunc(part, func(r rune) bool { return r < '0' || r > '9' }))
		v[i] = n
	}
	return v
}

func atLeast(kernel [2]int, min string) bool {
	m := parseVersion(min)
	return kernel[0] > m[0] || kernel[0] == m[0] && kernel[1] >= m[1]
}

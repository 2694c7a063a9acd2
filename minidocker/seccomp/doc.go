// Package seccomp turns a seccomp profile in docker's JSON format into a
// classic BPF program and installs it, without cgo and without libseccomp.
// It teaches the confinement part of the article's section 4: after
// namespaces (what a container sees) and capabilities (what root inside may
// do), seccomp decides which system calls the kernel runs at all. Docker's
// default profile (default.json, Default) refuses about fifty of them —
// unshare, setns, mount, keyctl, bpf, reboot, … — with EPERM.
//
// Start reading at compile.go (the shape of the program and how a rule
// applies to a container), then builder.go (the assembler and the 64-bit
// argument comparisons), then install_linux.go.
//
// The subset honoured: default action and errno; rules with names, action,
// errnoRet, argument conditions (all of libseccomp's operators) and
// includes/excludes by capability, architecture and kernel version. Only
// x86_64's native system calls are compiled: an i386 (int 0x80) or x32
// call gets the default action, where docker's filter would also allow
// their equivalents. A profile with fields this compiler would not honour
// (listenerPath, flags) is refused, not half-applied.
//
// syscalls_amd64.go is generated (gen_syscalls.go) from golang.org/x/sys.
package seccomp

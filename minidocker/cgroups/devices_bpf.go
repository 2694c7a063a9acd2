package cgroups

// cgroup v2's device controller is an eBPF program: the kernel calls it with
// the device's type, numbers and the access asked for, and it answers 1
// (allow) or 0 (EPERM). The program here is assembled by hand, a dozen
// instructions per rule, and loaded and attached with the bpf(2) system call
// directly. A BPF library (cilium/ebpf, which runc uses) would do the same
// behind a much larger API; the program is small enough to read whole:
//
//	r2 = ctx.access_type & 0xffff   // the device's type: 1 block, 2 char
//	r3 = ctx.access_type >> 16      // what is asked: 1 mknod, 2 read, 4 write
//	r4 = ctx.major; r5 = ctx.minor
//	for each rule:
//	    if r2 != rule type: next rule            (left out for type "a")
//	    if r3 asks for a letter the rule lacks: next rule
//	    if r4 != major: next rule                (left out for "*")
//	    if r5 != minor: next rule                (left out for "*")
//	    return 1
//	return 0
//
// The rules only ever allow, on top of "deny everything", so the order of
// the rules does not matter: the first one that matches allows.

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpfInsn is one eBPF instruction, struct bpf_insn: an opcode, the
// destination register in the low nibble and the source register in the
// high one, a jump offset and an immediate value.
type bpfInsn struct {
	Code uint8
	Regs uint8
	Off  int16
	Imm  int32
}

// The opcodes the program needs (linux/bpf.h, linux/bpf_common.h).
const (
	opLoadWord   = 0x61 // BPF_LDX|BPF_MEM|BPF_W: dst = *(u32 *)(src + off)
	opAndImm     = 0x57 // BPF_ALU64|BPF_AND|BPF_K: dst &= imm
	opShiftRight = 0x77 // BPF_ALU64|BPF_RSH|BPF_K: dst >>= imm
	opMovImm     = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K: dst = imm
	opMovReg     = 0xbf // BPF_ALU64|BPF_MOV|BPF_X: dst = src
	opJumpNotImm = 0x55 // BPF_JMP|BPF_JNE|BPF_K: if dst != imm, skip off instructions
	opExit       = 0x95 // BPF_JMP|BPF_EXIT: return r0
)

// What the kernel puts in struct bpf_cgroup_dev_ctx's access_type
// (BPF_DEVCG_DEV_* in the low half, BPF_DEVCG_ACC_* in the high half).
const (
	devBlock    = 1
	devChar     = 2
	accessMknod = 1
	accessRead  = 2
	accessWrite = 4
)

func insn(code, dst, src uint8, off int16, imm int32) bpfInsn {
	return bpfInsn{Code: code, Regs: src<<4 | dst, Off: off, Imm: imm}
}

// deviceProgram assembles the program for rules (see the top of the file).
func deviceProgram(rules []DeviceRule) []bpfInsn {
	prog := []bpfInsn{
		insn(opLoadWord, 2, 1, 0, 0), // r1 is the context
		insn(opAndImm, 2, 0, 0, 0xffff),
		insn(opLoadWord, 3, 1, 0, 0),
		insn(opShiftRight, 3, 0, 0, 16),
		insn(opLoadWord, 4, 1, 4, 0),
		insn(opLoadWord, 5, 1, 8, 0),
	}
	for _, r := range rules {
		prog = append(prog, ruleBlock(r)...)
		if r.Type == "a" {
			// it allows everything: what follows could never run, and
			// the verifier refuses a program with unreachable code
			return prog
		}
	}
	return append(prog, insn(opMovImm, 0, 0, 0, 0), insn(opExit, 0, 0, 0, 0))
}

// ruleBlock is one rule's test: each failed check jumps past the block's
// end, to the next rule; falling through them all returns 1.
func ruleBlock(r DeviceRule) []bpfInsn {
	var checks []bpfInsn // jump offsets filled in below
	if r.Type != "a" {
		kind := int32(devChar)
		if r.Type == "b" {
			kind = devBlock
		}
		checks = append(checks, insn(opJumpNotImm, 2, 0, 0, kind))
		if missing := accessBits("rwm") &^ accessBits(r.Access); missing != 0 {
			checks = append(checks,
				insn(opMovReg, 1, 3, 0, 0),
				insn(opAndImm, 1, 0, 0, missing),
				insn(opJumpNotImm, 1, 0, 0, 0))
		}
		if r.Major != AnyNumber {
			checks = append(checks, insn(opJumpNotImm, 4, 0, 0, int32(r.Major)))
		}
		if r.Minor != AnyNumber {
			checks = append(checks, insn(opJumpNotImm, 5, 0, 0, int32(r.Minor)))
		}
	}
	block := append(checks, insn(opMovImm, 0, 0, 0, 1), insn(opExit, 0, 0, 0, 0))
	for i := range block {
		if block[i].Code == opJumpNotImm {
			block[i].Off = int16(len(block) - i - 1)
		}
	}
	return block
}

// accessBits turns "rwm" letters into the kernel's access bits.
func accessBits(access string) int32 {
	var bits int32
	for _, c := range access {
		switch c {
		case 'r':
			bits |= accessRead
		case 'w':
			bits |= accessWrite
		case 'm':
			bits |= accessMknod
		}
	}
	return bits
}

// progLoadAttr is the start of union bpf_attr for BPF_PROG_LOAD; the
// kernel takes a shorter attr than its own and zeroes the rest.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

// progAttachAttr is union bpf_attr for BPF_PROG_ATTACH.
type progAttachAttr struct {
	targetFD    uint32
	attachBPFFD uint32
	attachType  uint32
	attachFlags uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// loadDeviceProgram hands the program to the kernel's verifier, which
// checks it (every path ends, only the context's three words are read)
// before it may run. A refused program is loaded once more with the
// verifier's log on, to say why (the log is off the first time: a log
// buffer too small fails even a good program).
func loadDeviceProgram(prog []bpfInsn) (fd int, err error) {
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	copy(attr.progName[:], "minidocker_dev")
	fd, err = bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		log := make([]byte, 256*1024)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
		bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(log)
		err = fmt.Errorf("cgroups: load the device program: %w: %s", err, cString(log))
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	return fd, err
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// attachDeviceProgram loads the program for rules and attaches it to the
// v2 cgroup directory dir. Attached without flags, a program replaces the
// one attached before (a cgroup reused after a crash gets the new rules, not
// both) and cannot be overridden from below. The cgroup keeps the program
// alive: the file descriptor is closed here, and the program goes when the
// cgroup is removed.
func attachDeviceProgram(dir string, rules []DeviceRule) error {
	prog, err := loadDeviceProgram(deviceProgram(rules))
	if err != nil {
		return err
	}
	defer unix.Close(prog)
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cgroups: open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	attr := progAttachAttr{targetFD: uint32(cg), attachBPFFD: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("cgroups: attach the device program to %s: %w", dir, err)
	}
	return nil
}

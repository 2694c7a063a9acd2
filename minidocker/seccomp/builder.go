package seccomp

// A tiny assembler for the filter: jumps name labels, resolved to the
// forward offsets classic BPF wants once the program is complete.

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// next as a jump target means "the following instruction" (offset 0).
const next = -1

type builder struct {
	insns   []Instruction
	targets []jumpTargets // per instruction: labels of jt and jf, or next
	labels  []int         // label -> instruction index (-1 until placed)
}

type jumpTargets struct{ jt, jf int }

// label makes a new label, placed later with place.
func (b *builder) label() int {
	b.labels = append(b.labels, -1)
	return len(b.labels) - 1
}

// place puts label l at the next instruction.
func (b *builder) place(l int) { b.labels[l] = len(b.insns) }

func (b *builder) emit(i Instruction, jt, jf int) {
	b.insns = append(b.insns, i)
	b.targets = append(b.targets, jumpTargets{jt, jf})
}

// load puts the 32-bit word at off of seccomp_data in the accumulator.
func (b *builder) load(off uint32) {
	b.emit(Instruction{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}, next, next)
}

// and masks the accumulator.
func (b *builder) and(k uint32) {
	b.emit(Instruction{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: k}, next, next)
}

// ret ends the program with a verdict.
func (b *builder) ret(v uint32) {
	b.emit(Instruction{Code: unix.BPF_RET | unix.BPF_K, K: v}, next, next)
}

// jumpIf compares the accumulator with k (op is BPF_JEQ, BPF_JGT or
// BPF_JGE) and goes to label jt when true, jf when false (next: on).
func (b *builder) jumpIf(op uint16, k uint32, jt, jf int) {
	b.emit(Instruction{Code: unix.BPF_JMP | op | unix.BPF_K, K: k}, jt, jf)
}

// assemble resolves the labels into offsets.
func (b *builder) assemble() ([]Instruction, error) {
	if len(b.insns) > maxInstructions {
		return nil, fmt.Errorf("seccomp: the filter has %d instructions, more than the kernel's %d", len(b.insns), maxInstructions)
	}
	out := make([]Instruction, len(b.insns))
	for i, in := range b.insns {
		jt, err := b.offset(i, b.targets[i].jt)
		if err != nil {
			return nil, err
		}
		jf, err := b.offset(i, b.targets[i].jf)
		if err != nil {
			return nil, err
		}
		in.Jt, in.Jf = jt, jf
		out[i] = in
	}
	return out, nil
}

func (b *builder) offset(from, label int) (uint8, error) {
	if label == next {
		return 0, nil
	}
	to := b.labels[label]
	if to < 0 {
		return 0, fmt.Errorf("seccomp: internal error: label %d never placed", label)
	}
	d := to - from - 1
	if d < 0 || d > 255 {
		return 0, fmt.Errorf("seccomp: internal error: jump of %d instructions", d)
	}
	return uint8(d), nil
}

// rule emits: if nr matches and every argument condition holds, return
// action; otherwise go on with the accumulator holding nr again.
func (b *builder) rule(nr uint32, args []Arg, action uint32) error {
	skip := b.label()
	b.jumpIf(unix.BPF_JEQ, nr, next, skip)
	for _, a := range args {
		if err := b.argCondition(a, skip); err != nil {
			return err
		}
	}
	b.ret(action)
	b.place(skip)
	if len(args) > 0 {
		b.load(offNr) // the conditions replaced nr in the accumulator
	}
	return nil
}

// argCondition goes to fail unless argument a.Index compares as a.Op says.
// An argument is 64 bits, a BPF word 32: the high word decides unless the
// two are equal, then the low word does.
func (b *builder) argCondition(a Arg, fail int) error {
	if a.Index > 5 {
		return fmt.Errorf("argument index %d out of range", a.Index)
	}
	lo, hi := offArgs+8*uint32(a.Index), offArgs+8*uint32(a.Index)+4
	vlo, vhi := uint32(a.Value), uint32(a.Value>>32)
	pass := b.label()
	switch a.Op {
	case "SCMP_CMP_EQ":
		b.load(hi)
		b.jumpIf(unix.BPF_JEQ, vhi, next, fail)
		b.load(lo)
		b.jumpIf(unix.BPF_JEQ, vlo, next, fail)
	case "SCMP_CMP_NE":
		b.load(hi)
		b.jumpIf(unix.BPF_JEQ, vhi, next, pass)
		b.load(lo)
		b.jumpIf(unix.BPF_JEQ, vlo, fail, next)
	case "SCMP_CMP_MASKED_EQ":
		wlo, whi := uint32(a.ValueTwo), uint32(a.ValueTwo>>32)
		b.load(hi)
		b.and(vhi)
		b.jumpIf(unix.BPF_JEQ, whi, next, fail)
		b.load(lo)
		b.and(vlo)
		b.jumpIf(unix.BPF_JEQ, wlo, next, fail)
	case "SCMP_CMP_GT", "SCMP_CMP_GE":
		b.load(hi)
		b.jumpIf(unix.BPF_JGT, vhi, pass, next)
		b.jumpIf(unix.BPF_JEQ, vhi, next, fail)
		b.load(lo)
		op := uint16(unix.BPF_JGT)
		if a.Op == "SCMP_CMP_GE" {
			op = unix.BPF_JGE
		}
		b.jumpIf(op, vlo, next, fail)
	case "SCMP_CMP_LT", "SCMP_CMP_LE":
		b.load(hi)
		b.jumpIf(unix.BPF_JGE, vhi, next, pass) // hi < vhi: less
		b.jumpIf(unix.BPF_JEQ, vhi, next, fail) // hi > vhi: greater
		b.load(lo)
		op := uint16(unix.BPF_JGE) // LT fails when lo >= vlo
		if a.Op == "SCMP_CMP_LE" {
			op = unix.BPF_JGT // LE fails when lo > vlo
		}
		b.jumpIf(op, vlo, fail, next)
	default:
		return fmt.Errorf("unsupported comparison %q", a.Op)
	}
	b.place(pass)
	return nil
}

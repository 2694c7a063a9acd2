package seccomp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
)

// Profile is a seccomp profile in docker's JSON format: a default action,
// and rules that give some system calls another action, maybe only when
// their arguments match, maybe only for some capabilities or kernels.
type Profile struct {
	DefaultAction   Action    `json:"defaultAction"`
	DefaultErrnoRet *uint32   `json:"defaultErrnoRet,omitempty"`
	Architectures   []string  `json:"architectures,omitempty"`
	ArchMap         []ArchMap `json:"archMap,omitempty"`
	Syscalls        []Syscall `json:"syscalls,omitempty"`
}

// ArchMap names an architecture and the ones a process of it may also
// use. Only x86_64's own system calls are compiled (see Compile).
type ArchMap struct {
	Architecture     string   `json:"architecture"`
	SubArchitectures []string `json:"subArchitectures,omitempty"`
}

// Syscall is one rule: these names get Action when every Args condition
// holds, if the rule applies (Includes, Excludes) to this container.
type Syscall struct {
	Name     string    `json:"name,omitempty"` // the older format's single name
	Names    []string  `json:"names,omitempty"`
	Action   Action    `json:"action"`
	ErrnoRet *uint32   `json:"errnoRet,omitempty"`
	Args     []Arg     `json:"args,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	Includes Condition `json:"includes,omitempty"`
	Excludes Condition `json:"excludes,omitempty"`
}

// Condition selects containers a rule is for: Includes needs all of its
// Caps, one of its Arches and at least MinKernel; Excludes drops the rule
// when any of its Caps or Arches is there, or the kernel is MinKernel or
// newer.
type Condition struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// Arg compares the system call's argument number Index with Value (for
// SCMP_CMP_MASKED_EQ: (arg & Value) == ValueTwo). Arguments are 64 bits.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Action is what the kernel does with a system call: SCMP_ACT_ALLOW,
// SCMP_ACT_ERRNO (fail with an errno), SCMP_ACT_KILL_THREAD,
// SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG.
type Action string

//go:embed default.json
var defaultProfile []byte

// Default is docker's default profile: a list of the system calls a
// container needs, everything else failing with EPERM. Among the refused:
// unshare, setns, mount, clone with namespace flags, keyctl, bpf, ptrace
// before 4.8, reboot, kexec, the module calls, and personality other than
// the few harmless values. Several come back with the capability that
// would make them meaningful (CAP_SYS_ADMIN brings back mount and unshare).
func Default() *Profile {
	p, err := Parse(defaultProfile)
	if err != nil {
		panic("seccomp: the embedded default profile is broken: " + err.Error())
	}
	return p
}

// Parse reads a profile in docker's format. Fields this compiler would not
// honour (notify listeners, filter flags) are refused rather than ignored.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding seccomp profile failed: %w", err)
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("decoding seccomp profile failed: no defaultAction")
	}
	return &p, nil
}

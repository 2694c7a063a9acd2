package seccomp

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// run executes the filter on one seccomp_data (nr, x86_64, args) the way
// the kernel does, for the instructions the compiler emits.
func run(t *testing.T, prog []Instruction, nr uint32, args ...uint64) uint32 {
	t.Helper()
	word := map[uint32]uint32{offNr: nr, offArch: auditArchX86_64}
	for i, a := range args {
		word[offArgs+8*uint32(i)], word[offArgs+8*uint32(i)+4] = uint32(a), uint32(a>>32)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = word[in.K]
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			cond := map[uint16]bool{unix.BPF_JEQ: acc == in.K, unix.BPF_JGT: acc > in.K, unix.BPF_JGE: acc >= in.K}[in.Code&0xf0]
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			t.Fatalf("instruction %d: unexpected code %#x", pc, in.Code)
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

func TestDefaultProfile(t *testing.T) {
	prog, err := Compile(Default(), []string{"CAP_CHOWN", "CAP_SETUID"})
	require.NoError(t, err)
	nr := func(n string) uint32 { return syscallNumbers()[n] }
	assert.Equal(t, uint32(retAllow), run(t, prog, nr("write")))
	assert.Equal(t, uint32(retErrno|1), run(t, prog, nr("unshare")), "unshare needs CAP_SYS_ADMIN")
	assert.Equal(t, uint32(retErrno|1), run(t, prog, nr("mount")))
	assert.Equal(t, uint32(retErrno|38), run(t, prog, nr("clone3")), "clone3: ENOSYS, so libc falls back to clone")
	const cloneNewuser = 0x10000000
	assert.Equal(t, uint32(retAllow), run(t, prog, nr("clone"), 0x11|0x100), "clone without namespace flags")
	assert.Equal(t, uint32(retErrno|1), run(t, prog, nr("clone"), cloneNewuser|0x11))
	assert.Equal(t, uint32(retAllow), run(t, prog, nr("personality"), 0xffffffff), "query")
	assert.Equal(t, uint32(retErrno|1), run(t, prog, nr("personality"), 0x0040000), "ADDR_NO_RANDOMIZE")
	assert.Equal(t, uint32(retAllow), run(t, prog, nr("socket"), 2), "AF_INET")
	assert.Equal(t, uint32(retErrno|1), run(t, prog, nr("socket"), 40), "AF_VSOCK")
	assert.Equal(t, uint32(retErrno|1), run(t, prog, 0x40000000|nr("write")), "x32 ABI")

	admin, err := Compile(Default(), []string{"CAP_SYS_ADMIN"})
	require.NoError(t, err)
	assert.Equal(t, uint32(retAllow), run(t, admin, nr("unshare")), "CAP_SYS_ADMIN brings unshare back")
	assert.Equal(t, uint32(retAllow), run(t, admin, nr("clone"), cloneNewuser))
}

func TestArgComparisons(t *testing.T) {
	nr := syscallNumbers()["read"]
	big := uint64(5)<<32 | 7
	cases := []struct {
		op        string
		v         uint64
		arg       uint64
		wantAllow bool
	}{
		{"SCMP_CMP_EQ", big, big, true}, {"SCMP_CMP_EQ", big, 7, false},
		{"SCMP_CMP_NE", big, 7, true}, {"SCMP_CMP_NE", big, big, false},
		{"SCMP_CMP_GT", big, big + 1, true}, {"SCMP_CMP_GT", big, big, false}, {"SCMP_CMP_GT", big, 1 << 40, true}, {"SCMP_CMP_GT", big, 8, false},
		{"SCMP_CMP_GE", big, big, true}, {"SCMP_CMP_GE", big, big - 1, false},
		{"SCMP_CMP_LT", big, big - 1, true}, {"SCMP_CMP_LT", big, big, false}, {"SCMP_CMP_LT", big, 9, true}, {"SCMP_CMP_LT", big, 1 << 40, false},
		{"SCMP_CMP_LE", big, big, true}, {"SCMP_CMP_LE", big, big + 1, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %d", c.op, c.arg), func(t *testing.T) {
			p := &Profile{DefaultAction: "SCMP_ACT_ERRNO", Syscalls: []Syscall{{Names: []string{"read"}, Action: "SCMP_ACT_ALLOW", Args: []Arg{{Index: 2, Value: c.v, Op: c.op}}}}}
			prog, err := Compile(p, nil)
			require.NoError(t, err)
			got := run(t, prog, nr, 0, 0, c.arg) == retAllow
			assert.Equal(t, c.wantAllow, got, "%s %#x vs %#x", c.op, c.arg, c.v)
		})
	}
}

func TestParseRefusesWhatItWouldIgnore(t *testing.T) {
	_, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","listenerPath":"/x"}`))
	assert.ErrorContains(t, err, "listenerPath")
	_, err = Compile(&Profile{DefaultAction: "SCMP_ACT_NOTIFY"}, nil)
	assert.ErrorContains(t, err, "unsupported action")
}

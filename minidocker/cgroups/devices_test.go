package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

func TestParseDeviceRule(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "c 1:3 rwm", want: "c 1:3 rwm"},
		{in: "b *:* m", want: "b *:* m"},
		{in: "c 42:* rw", want: "c 42:* rw"},
		{in: "c 2047:524287 r", want: "c 2047:524287 r"},
		{in: "a", want: "a *:* rwm"},
		{in: "a *:* mwr", want: "a *:* rwm"},
		{in: "a 1:3 m", err: "although this cgroup rule is technically correct, because 'a' maps to 'a *:* rwm' regardless of what comes next, this format is partially ineffective: 'a 1:3 m'"},
		{in: "c 1:3", err: "invalid device cgroup rule format: 'c 1:3'"},
		{in: "x 1:3 r", err: "invalid device cgroup rule format: 'x 1:3 r'"},
		{in: "c 1:3 rx", err: "invalid device cgroup rule format: 'c 1:3 rx'"},
		// dockerd's limits, a bit below the kernel's (signed 12 and 20 bits)
		{in: "c 2048:1 r", err: "invalid major value in device cgroup rule format: 'c 2048:1 r'"},
		{in: "c 1:524288 r", err: "invalid minor value in device cgroup rule format: 'c 1:524288 r'"},
	} {
		r, err := ParseDeviceRule(tc.in)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ParseDeviceRule(%q) = %v, %v; want error %q", tc.in, r, err, tc.err)
		case tc.err == "" && (err != nil || r.String() != tc.want):
			t.Errorf("ParseDeviceRule(%q) = %v, %v; want %q", tc.in, r, err, tc.want)
		}
	}
	for access, ok := range map[string]bool{"r": true, "rw": true, "mwr": true, "": false, "rr": false, "rwx": false, "rwmr": false} {
		if ValidDeviceAccess(access) != ok {
			t.Errorf("ValidDeviceAccess(%q) = %v", access, !ok)
		}
	}
}

// deviceProbe drives a helper in mode "devices": it opens and makes nodes
// from inside the cgroup and says what the kernel answered.
type deviceProbe struct {
	t   *testing.T
	h   *helper
	dir string // where the nodes live
}

// newDeviceNodes makes, from outside any confined cgroup, the nodes the
// probes open: null (c 1:3), zero (c 1:5) and loop (b 7:0, the first loop
// device: opening it reads nothing of the host).
func newDeviceNodes(t *testing.T) string {
	dir := t.TempDir()
	for name, n := range map[string]struct {
		mode         uint32
		major, minor uint32
	}{"null": {unix.S_IFCHR, 1, 3}, "zero": {unix.S_IFCHR, 1, 5}, "loop": {unix.S_IFBLK, 7, 0}} {
		if err := unix.Mknod(filepath.Join(dir, name), n.mode|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ask sends one command and returns the helper's answer: "ok" or the error.
func (p *deviceProbe) ask(cmd string) string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.h.stdin, cmd); err != nil {
		p.t.Fatal(err)
	}
	return p.h.line(p.t)
}

// want checks a whole table of commands against their answers.
func (p *deviceProbe) want(phase string, table [][2]string) {
	p.t.Helper()
	for _, tc := range table {
		cmd := strings.ReplaceAll(tc[0], "DIR", p.dir)
		if got := p.ask(cmd); got != tc[1] {
			p.t.Errorf("%s: %s: got %q, want %q", phase, tc[0], got, tc[1])
		}
	}
}

// runDeviceHelper serves "open <path> r|w" and "mknod <path> b|c <major>
// <minor>" until its stdin ends. It says "running" first: the test sends
// nothing before that, so the reader that took "go" took nothing more.
func runDeviceHelper() {
	fmt.Println("running")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var err error
		switch {
		case len(f) == 3 && f[0] == "open":
			flag := unix.O_RDONLY
			if f[2] == "w" {
				flag = unix.O_WRONLY
			}
			var fd int
			if fd, err = unix.Open(f[1], flag|unix.O_CLOEXEC|unix.O_NONBLOCK, 0); err == nil {
				unix.Close(fd)
			}
		case len(f) == 5 && f[0] == "mknod":
			mode := uint32(unix.S_IFCHR)
			if f[2] == "b" {
				mode = unix.S_IFBLK
			}
			major, _ := strconv.Atoi(f[3])
			minor, _ := strconv.Atoi(f[4])
			err = unix.Mknod(f[1], mode|0o600, int(unix.Mkdev(uint32(major), uint32(minor))))
		default:
			err = fmt.Errorf("bad command %q", sc.Text())
		}
		if err != nil {
			fmt.Println(err)
		} else {
			fmt.Println("ok")
		}
	}
	os.Exit(0)
}

const eperm = "operation not permitted"

// TestDeviceRules: docker's default list lets a container make any node
// but open only the harmless ones; narrower rules split read from write
// and mknod; AllowAll (--privileged) lets everything through. The rules
// change while the process runs, on v1 (devices.allow) and v2 (the BPF
// program) alike.
func TestDeviceRules(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "devices")
	if err := c.SetDevices(DefaultDeviceRules()); err != nil {
		t.Fatal(err)
	}
	p := &deviceProbe{t: t, dir: newDeviceNodes(t)}
	p.h = enter(t, c, "devices", false)
	p.h.start(t)
	p.h.expect(t, "running")
	p.want("default", [][2]string{
		{"open DIR/null w", "ok"},
		{"open DIR/zero r", "ok"},
		{"mknod DIR/loop2 b 7 0", "ok"},
		{"open DIR/loop2 r", eperm},
		{"open DIR/loop r", eperm},
		{"mknod DIR/mem c 1 1", "ok"},
		{"open DIR/mem r", eperm},
	})
	if err := c.SetDevices([]DeviceRule{{Type: "c", Major: 1, Minor: 5, Access: "r"}, {Type: "c", Major: 1, Minor: 3, Access: "w"}}); err != nil {
		t.Fatal(err)
	}
	p.want("c 1:5 r, c 1:3 w", [][2]string{
		{"open DIR/zero r", "ok"},
		{"open DIR/zero w", eperm},
		{"open DIR/null w", "ok"},
		{"open DIR/null r", eperm},
		{"mknod DIR/urandom c 1 9", eperm},
	})
	if err := c.SetDevices([]DeviceRule{AllowAll}); err != nil {
		t.Fatal(err)
	}
	// an unbound loop device opens (or says ENXIO without the loop driver): never EPERM
	if got := p.ask("open " + p.dir + "/loop r"); got == eperm {
		t.Errorf("AllowAll: open loop r: %s", got)
	}
	p.want("AllowAll", [][2]string{{"open DIR/zero w", "ok"}, {"mknod DIR/urandom c 1 9", "ok"}})
}

// TestDeviceProgramGoesWithTheCgroup: on the unified hierarchy (the whole
// tree on v2, the side tree of a hybrid) the attached program confines a
// process; attaching again replaces it (AllowAll, whose program ends early:
// the verifier refuses unreachable code); removing the cgroup frees the
// programs: nothing leaks.
func TestDeviceProgramGoesWithTheCgroup(t *testing.T) {
	testutil.RequireRoot(t)
	dir := unifiedTestDir(t)
	if err := attachDeviceProgram(dir, DefaultDeviceRules()); err != nil {
		t.Fatal(err)
	}
	first := attachedProgram(t, dir)
	p := &deviceProbe{t: t, dir: newDeviceNodes(t)}
	p.h = startHelper(t, "devices", -1)
	if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(p.h.cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	p.h.start(t)
	p.h.expect(t, "running")
	p.want("default", [][2]string{{"open DIR/null w", "ok"}, {"open DIR/loop r", eperm}})
	// attaching again replaces the program (a cgroup reused after a crash)
	if err := attachDeviceProgram(dir, []DeviceRule{AllowAll}); err != nil {
		t.Fatal(err)
	}
	if got := p.ask("open " + p.dir + "/loop r"); got == eperm {
		t.Errorf("AllowAll: open loop r: %s", got)
	}
	id := attachedProgram(t, dir)
	if id == first {
		t.Errorf("program %d still attached after the new one", id)
	}
	p.h.stdin.Close()
	if _, ok := p.h.wait(10 * time.Second); !ok {
		t.Fatal("the helper did not end")
	}
	if err := rmdirRetry(dir); err != nil {
		t.Fatal(err)
	}
	// the kernel frees the cgroup, and with it the program, asynchronously
	deadline := time.Now().Add(20 * time.Second)
	for programExists(id) || programExists(first) {
		if time.Now().After(deadline) {
			t.Fatalf("device programs %d, %d: one still exists after its cgroup was removed", first, id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unifiedTestDir makes a cgroup directory on the cgroup2 hierarchy,
// removed at the end of the test: on a hybrid machine under
// /sys/fs/cgroup/unified, where the kernel runs device programs too.
func unifiedTestDir(t *testing.T) string {
	root := mountRoot
	if Detect() == V1 {
		root = filepath.Join(mountRoot, "unified")
		var st unix.Statfs_t
		if err := unix.Statfs(root, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			t.Fatalf("no cgroup2 hierarchy at %s: the BPF device program cannot be tested on a pure v1 machine", root)
		}
	}
	dir := filepath.Join(root, fmt.Sprintf("minidocker-devtest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rmdirRetry(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
	})
	return dir
}

// attachedProgram asks the kernel (BPF_PROG_QUERY) for the id of the one
// device program attached to dir.
func attachedProgram(t *testing.T, dir string) uint32 {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var ids [4]uint32
	attr := struct {
		targetFD, attachType, queryFlags, attachFlags uint32
		progIDs                                       uint64
		progCnt                                       uint32
	}{targetFD: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE, progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(len(ids))}
	if _, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		t.Fatal(err)
	}
	if attr.progCnt != 1 {
		t.Fatalf("%d device programs attached to %s, want 1", attr.progCnt, dir)
	}
	return ids[0]
}

// programExists says whether the kernel still holds program id.
func programExists(id uint32) bool {
	attr := struct{ id, nextID, openFlags uint32 }{id: id}
	fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		unix.Close(fd)
		return true
	}
	return err != unix.ENOENT
}

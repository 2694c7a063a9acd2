package libcontainer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"golang.org/x/sys/unix"
)

// The pivot_root proof runs in a child of the test binary, in a mount
// namespace of its own: pivotRoot changes the root of the whole process.
const pivotChildEnv = "_MINIDOCKER_PIVOT_TEST"

func init() {
	if args := os.Getenv(pivotChildEnv); args != "" {
		b, _ := json.Marshal(pivotChild(strings.Split(args, string(os.PathListSeparator))))
		os.Stdout.Write(b)
		os.Exit(0)
	}
}

// pivotReport is what the child saw after pivotRoot.
type pivotReport struct {
	Err          string // pivotRoot's error
	Cwd          string
	SeesInside   bool // the new root's own file is at /
	SeesHost     bool // the host's marker is reachable (directly)
	EscapedHost  bool // ... or through the chroot-and-".." escape
	NewRootIsTmp bool // / is the tmpfs the test mounted
}

// pivotChild mounts a tmpfs on newRoot, pivots into it and then tries to
// get back to the host: by the host's absolute path, and by the classic
// chroot escape (chroot into a subdirectory, climb "..", chroot "."), which
// works against chroot but not against pivot_root plus a detached old root.
func pivotChild(args []string) pivotReport {
	newRoot, marker := args[0], args[1]
	var r pivotReport
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		r.Err = "setup: " + err.Error()
		return r
	}
	if err := unix.Mount("tmpfs", newRoot, "tmpfs", 0, "size=1m"); err != nil {
		r.Err = "setup: " + err.Error()
		return r
	}
	os.WriteFile(filepath.Join(newRoot, "inside"), []byte("x"), 0o644)
	if err := pivotRoot(newRoot); err != nil {
		r.Err = err.Error()
		return r
	}
	r.Cwd, _ = os.Getwd()
	_, err := os.Stat("/inside")
	r.SeesInside = err == nil
	_, err = os.Stat(marker)
	r.SeesHost = err == nil
	var st unix.Statfs_t
	r.NewRootIsTmp = unix.Statfs("/", &st) == nil && st.Type == unix.TMPFS_MAGIC
	os.Mkdir("/escape", 0o755)
	if unix.Chroot("/escape") == nil {
		for i := 0; i < 64; i++ {
			unix.Chdir("..")
		}
		if unix.Chroot(".") == nil {
			_, err = os.Stat(marker)
			r.EscapedHost = err == nil
		}
	}
	return r
}

// TestPivotRootLeavesNoWayBack: after pivotRoot the new root is "/", the
// working directory is "/", and the host's tree cannot be reached, not
// even by a root process that climbs ".." out of a chroot.
func TestPivotRootLeavesNoWayBack(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	newRoot, marker := filepath.Join(dir, "newroot"), filepath.Join(dir, "host-marker")
	os.Mkdir(newRoot, 0o755)
	os.WriteFile(marker, []byte("x"), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pivotChildEnv+"="+newRoot+string(os.PathListSeparator)+marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r pivotReport
	if jerr := json.Unmarshal(out, &r); err != nil || jerr != nil {
		t.Fatalf("the pivot child failed: %v %v\n%s%s", err, jerr, out, stderr.String())
	}
	switch {
	case r.Err != "":
		t.Fatalf("pivotRoot: %s", r.Err)
	case r.Cwd != "/":
		t.Errorf("working directory after pivotRoot = %q, want /", r.Cwd)
	case !r.SeesInside || !r.NewRootIsTmp:
		t.Errorf("/ is not the new root (its file visible: %v, / is the tmpfs: %v): is the old root still stacked on /?", r.SeesInside, r.NewRootIsTmp)
	case r.SeesHost:
		t.Errorf("the host's %s is still visible after pivotRoot", marker)
	case r.EscapedHost:
		t.Errorf("chroot into a subdirectory + cd .. reached the host's %s: the old root is still in the namespace (chroot alone is not enough, and after pivot_root the old root must be detached)", marker)
	}
}

// TestNamespaceFlags: every container gets new mount, PID, UTS and IPC
// namespaces; only mode none adds a network namespace; a bad mode is an
// error, not a container sharing the host's network by accident.
func TestNamespaceFlags(t *testing.T) {
	base := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	for _, tc := range []struct {
		net  Network
		want uintptr
	}{
		{Network{}, base | unix.CLONE_NEWNET},
		{Network{Mode: "none"}, base | unix.CLONE_NEWNET},
		{Network{Mode: "host"}, base},
		{Network{Mode: "join", NetnsPath: "/run/netns/x"}, base},
	} {
		t.Run(tc.net.Mode, func(t *testing.T) {
			got, err := namespaceFlags(tc.net)
			if err != nil || got != tc.want {
				t.Errorf("namespaceFlags(%+v) = %#x, %v; want %#x", tc.net, got, err, tc.want)
			}
		})
	}
	for _, bad := range []Network{{Mode: "join"}, {Mode: "bridge"}} {
		t.Run(bad.Mode, func(t *testing.T) {
			if _, err := namespaceFlags(bad); err == nil {
				t.Errorf("namespaceFlags(%+v) accepted", bad)
			}
		})
	}
}

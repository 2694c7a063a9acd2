package libcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testRemapRoot is the host uid and gid of the containers' root in these
// tests, as dockerd's first dockremap range.
const testRemapRoot = 100000

// newUsernsSpec is newSpec with a user namespace mapping 0..65535 to
// 100000..165535, and what the daemon does for one: the upper dir owned
// by the remapped root, the path to the root traversable by it.
func newUsernsSpec(t *testing.T, args ...string) (*Spec, string) {
	t.Helper()
	spec, bundle := newSpec(t, args...)
	m := []IDMap{{ContainerID: 0, HostID: testRemapRoot, Size: 65536}}
	spec.UserNamespace = &UserNamespace{UIDMap: m, GIDMap: m}
	base := filepath.Dir(spec.Rootfs.MergedDir)
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(spec.Rootfs.UpperDir, testRemapRoot, testRemapRoot); err != nil {
		t.Fatal(err)
	}
	return spec, bundle
}

// privilegedProbe prints, as root with CAP_SYS_ADMIN and CAP_MKNOD: its
// uid, the owner of an image file, its uid_map, the owner of a file it
// makes, whether /dev works, then whether it may make a block device
// node and mount a disk file system (both the host's root's business),
// and a tmpfs (namespaced: allowed to a user namespace's root too).
const privilegedProbe = `id -u; stat -c %u /bin/busybox; tr -s ' ' </proc/self/uid_map | sed 's/^ //'; touch /made; stat -c %u /made; echo x > /dev/null && head -c 3 /dev/zero | wc -c
mknod /tmp/sda b 8 0 2>/dev/null && echo mknod-ok || echo mknod-refused
mount -t ext4 /dev/null /tmp 2>&1 | grep -q 'permission denied' && echo ext4-refused || echo ext4-tried
mount -t tmpfs none /tmp && echo tmpfs-ok`

// In a user namespace the container's root is uid 0 inside and host uid
// 100000 outside: the image's files (host root's) look like its own
// through the idmapped layer, what it writes is 100000's on the host,
// /dev works without mknod, and root cannot do what only the host's root
// may (mknod a disk, mount a disk file system), even with the
// capabilities. Without the user namespace the same probe may.
func TestUserNamespaceRemapsRoot(t *testing.T) {
	caps := []string{"CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"}
	spec, bundle := newUsernsSpec(t, "sh", "-c", privilegedProbe)
	spec.Process.Security.Capabilities = caps
	out, errs, st := run(t, spec, bundle)
	want := "0\n0\n0 100000 65536\n0\n3\nmknod-refused\next4-refused\ntmpfs-ok\n"
	if st.ExitCode != 0 || out != want {
		t.Errorf("in a user namespace: %+v %q (stderr %q), want %q", st, out, errs, want)
	}
	var fi syscall.Stat_t
	if err := syscall.Stat(filepath.Join(spec.Rootfs.UpperDir, "made"), &fi); err != nil {
		t.Fatal(err)
	}
	if fi.Uid != testRemapRoot || fi.Gid != testRemapRoot {
		t.Errorf("the file the container's root made is %d:%d on the host, want %d:%d", fi.Uid, fi.Gid, testRemapRoot, testRemapRoot)
	}
	assertNoIdmappedMountsLeft(t, spec.Rootfs.LowerDirs)

	spec, bundle = newSpec(t, "sh", "-c", privilegedProbe)
	spec.Process.Security.Capabilities = caps
	out, _, _ = run(t, spec, bundle)
	if !strings.Contains(out, "\n0 0 4294967295\n") || !strings.Contains(out, "mknod-ok\next4-tried\n") {
		t.Errorf("without a user namespace, the same probe: %q", out)
	}
}

// assertNoIdmappedMountsLeft checks that the layers are not mounted on
// the host (the idmapped mounts live and die in the container's mount
// namespace).
func assertNoIdmappedMountsLeft(t *testing.T, lowers []string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lowers {
		if strings.Contains(string(b), " "+l+" ") {
			t.Errorf("%s is still a mount point on the host", l)
		}
	}
}

// Exec in a user namespace goes through the container's userns-helper:
// the process is root of the container's user namespace, in all of PID
// 1's namespaces and its cgroup, gets its rlimits and exit code, and a missing command
// is docker's 127; several at once are served.
func TestExecInUserNamespace(t *testing.T) {
	spec, bundle := newUsernsSpec(t, "sleep", "1000")
	c := create(t, spec, bundle)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	script := "id -u; ulimit -n; "
	for _, n := range append([]string{"user"}, nsNames...) {
		script += "readlink /proc/self/ns/" + n + "; "
	}
	script += "cat /proc/self/cgroup; "
	want := "0\n100\n"
	for _, n := range append([]string{"user"}, nsNames...) {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", c.shim.Pid, n))
		if err != nil {
			t.Fatal(err)
		}
		want += l + "\n"
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.shim.Pid)) // the daemon moved it there
	if err != nil {
		t.Fatal(err)
	}
	want += string(cg)
	errc := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			out, errs, code, err := shimExecOut(t, c, Process{Args: []string{"sh", "-c", script + "exit 3"}, Rlimits: []Rlimit{{Type: unix.RLIMIT_NOFILE, Soft: 100, Hard: 100}}})
			if err == nil && (code != 3 || out != want) {
				err = fmt.Errorf("exec: exit %d, %q (stderr %q), want 3, %q", code, out, errs, want)
			}
			errc <- err
		}()
	}
	for i := 0; i < 5; i++ {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	_, _, _, err = shimExecOut(t, c, Process{Args: []string{"nosuchcommand"}})
	var se *StartError
	if !errors.As(err, &se) || se.Code != 127 {
		t.Errorf("exec of a missing command: %v, want a StartError with code 127", err)
	}
}

// shimExecOut is execOut through Shim.Exec, which picks the helper for a
// container in a user namespace.
func shimExecOut(t *testing.T, c *testContainer, p Process) (string, string, int, error) {
	t.Helper()
	p.Env = c.spec.Process.Env
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := c.shim.Exec(ctx, p, ExecIO{Stdout: &out, Stderr: &errb})
	if err != nil {
		return "", "", 0, err
	}
	code, err := e.Wait(ctx)
	return out.String(), errb.String(), code, err
}

// The CMD of a container in a user namespace holds the same descriptors
// as one without: nothing of the userns-helper (its exec socket, its Go
// runtime's files) leaks through init.
func TestUserNamespaceCmdGetsNoHelperFds(t *testing.T) {
	fdsOfPid1 := func(c *testContainer) string {
		out, errs, code, err := shimExecOut(t, c, Process{Args: []string{"ls", "/proc/1/fd"}})
		if err != nil || code != 0 {
			t.Fatalf("ls /proc/1/fd: %v %d %s", err, code, errs)
		}
		return out
	}
	spec, bundle := newUsernsSpec(t, "sleep", "1000")
	c := create(t, spec, bundle)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	if remapped, plain := fdsOfPid1(c), fdsOfPid1(startSleeper(t, nil)); remapped != plain {
		t.Errorf("PID 1's descriptors in a user namespace:\n%s\nwithout one:\n%s", remapped, plain)
	}
}

// Lab 04, the devices controller (chapters/04-dockerfile/pid1-namespaces-cgroups.md,
// "cgroups"): root in a container holds CAP_MKNOD, so it can make a node for
// the host's disk; the device cgroup is what keeps it from reading it.
package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// TestConfinementDevices: the same mknod and read of the host's root disk
// (hostDiskNumbers) run in four containers. In a default one mknod works (docker allows
// making any node) and the read is refused with EPERM; an exec'd process
// is refused too. --device-cgroup-rule for that disk, and --privileged,
// let the read through. --device with "r" opens a node for reading and
// refuses it for writing.
func TestConfinementDevices(t *testing.T) {
	d := pid1Daemon(t)
	major, minor, real := hostDiskNumbers(t)
	script := fmt.Sprintf("mknod /dev/hostdisk b %d %d && echo made && head -c 1 /dev/hostdisk >/dev/null && echo has-read", major, minor)

	out := refused(t, d, script)
	assert.Contains(t, out, "made", "mknod is allowed")
	assert.Contains(t, out, "Operation not permitted", "the device cgroup refuses the open")
	assert.NotContains(t, out, "has-read")

	pid1Detached(t, d, "devconfined", "busybox", "sleep", "1000")
	r := d.CLI("exec", "devconfined", "sh", "-c", script)
	assert.Contains(t, r.Combined(), "Operation not permitted", "exec'd processes are in the same cgroup")
	d.MustCLI("rm", "-f", "devconfined")

	for _, flags := range [][]string{
		{"--device-cgroup-rule", fmt.Sprintf("b %d:%d r", major, minor)},
		{"--privileged"},
	} {
		args := append(append([]string{"run", "--rm", "--net", "none"}, flags...), "busybox", "sh", "-c", script)
		out := d.CLI(args...).Combined()
		assert.Contains(t, out, "made", "%v", flags)
		assert.NotContains(t, out, "Operation not permitted", "%v", flags)
		if real {
			assert.Contains(t, out, "has-read", "%v", flags)
		}
	}

	// --device with r only: a fuse node (not in docker's default list) the
	// test makes on the host, opened for reading, then for writing.
	fuse := filepath.Join(t.TempDir(), "fuse")
	if err := unix.Mknod(fuse, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 229))); err != nil {
		t.Fatal(err)
	}
	out = refused(t, d, "(exec 3</dev/f) && echo read-open; exec 4>/dev/f", "--device", fuse+":/dev/f:r")
	assert.NotContains(t, out, "can't open /dev/f: Operation not permitted", "r allows reading")
	assert.Contains(t, out, "can't create /dev/f: Operation not permitted", "r does not allow writing")
}

// hostDiskNumbers picks the block device the test reads: the host's root
// disk, or else any block device of the host, as long as the host itself
// may read it (a host that is itself confined may not: then the refusal
// would prove nothing). real is false when there is none (the cgroup-v2 VM
// runs from RAM): the first loop device's numbers are used, and an open the
// cgroup allows then fails with ENXIO, not EPERM.
func hostDiskNumbers(t *testing.T) (major, minor uint32, real bool) {
	var candidates [][2]uint32
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			// 23 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
			var maj, min uint32
			f := strings.Fields(l)
			if len(f) > 4 && f[4] == "/" {
				if _, err := fmt.Sscanf(f[2], "%d:%d", &maj, &min); err == nil && maj != 0 {
					candidates = append(candidates, [2]uint32{maj, min})
				}
			}
		}
	}
	ents, _ := os.ReadDir("/sys/dev/block")
	for _, e := range ents {
		var maj, min uint32
		if _, err := fmt.Sscanf(e.Name(), "%d:%d", &maj, &min); err == nil {
			candidates = append(candidates, [2]uint32{maj, min})
		}
	}
	dir := t.TempDir()
	for i, c := range candidates {
		node := filepath.Join(dir, fmt.Sprint(i))
		if unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(c[0], c[1]))) != nil {
			continue
		}
		if fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(fd)
			t.Logf("reading block device %d:%d", c[0], c[1])
			return c[0], c[1], true
		}
	}
	return 7, 0, false
}

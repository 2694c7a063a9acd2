package daemon_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestDevices: --device makes the host's node in the container, at its
// own path or another, with its numbers and mode; its permissions and
// --device-cgroup-rule are enforced by the device cgroup; a path that is
// no device, or a rule dockerd refuses, are refused.
func TestDevices(t *testing.T) {
	d := preload.StartDaemon(t)
	out := dockerOK(t, d, "run", "--rm", "--net", "none", "--device", "/dev/null:/dev/mynull", "--device", "/dev/zero",
		"busybox", "sh", "-c", "ls -l /dev/mynull /dev/zero; echo x > /dev/mynull && head -c 3 /dev/zero | od -An -tx1")
	if !regexp.MustCompile(`(?m)^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* /dev/mynull$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^crw-rw-rw-\s+1 root\s+root\s+1,\s+5 .* /dev/zero$`).MatchString(out) || !strings.HasSuffix(out, " 00 00 00\n") {
		t.Fatalf("--device:\n%s", out)
	}
	refused(t, d, `error gathering device information while adding custom device "/nonexistent": no such file or directory`,
		"create", "--net", "none", "--device", "/nonexistent", "busybox", "true") // run would say 127: "no such file"
	refused(t, d, `error gathering device information while adding custom device "/etc/hostname": not a device node`,
		"run", "--net", "none", "--device", "/etc/hostname:/dev/x", "busybox", "true")
	// the permissions are the device cgroup's: r opens for reading only
	// (fuse: not in docker's default list, harmless to open)
	out = dockerOK(t, d, "run", "--rm", "--net", "none", "--device", "/dev/fuse:/dev/f:r", "busybox", "sh", "-c",
		"exec 3</dev/f && echo read-open; (exec 4>/dev/f) 2>&1 && echo write-open; true")
	if out != "read-open\nsh: can't create /dev/f: Operation not permitted\n" {
		t.Fatalf("--device /dev/fuse:/dev/f:r:\n%s", out)
	}
	out = dockerOK(t, d, "run", "--rm", "--net", "none", "--device-cgroup-rule", "c 10:229 w", "busybox", "sh", "-c",
		"mknod /dev/f c 10 229 && (exec 3</dev/f) 2>&1; (exec 4>/dev/f) && echo write-open; true")
	if out != "sh: can't open /dev/f: Operation not permitted\nwrite-open\n" {
		t.Fatalf("--device-cgroup-rule 'c 10:229 w':\n%s", out)
	}
	refused(t, d, `invalid major value in device cgroup rule format: 'c 4095:1 r'`,
		"create", "--net", "none", "--device-cgroup-rule", "c 4095:1 r", "busybox", "true")
}

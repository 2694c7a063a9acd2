package daemon_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestDevices: --device makes the host's node in the container, at its
// own path or another, with its numbers and mode; a path that is no
// device, or permissions minidocker cannot enforce, are refused.
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
	refused(t, d, `minidocker does not support device permissions "r" yet`,
		"run", "--net", "none", "--device", "/dev/null:/dev/x:r", "busybox", "true")
}

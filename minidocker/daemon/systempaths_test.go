package daemon_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestSystemPathsUnconfined: by default /proc/kcore, /sys/firmware… are
// hidden (a mount over each) and /proc/sys is a read-only mount; --security-opt
// systempaths=unconfined (empty MaskedPaths and ReadonlyPaths) leaves both
// as the kernel shows them, through the docker CLI and ours. A list of
// paths of one's own is refused.
func TestSystemPathsUnconfined(t *testing.T) {
	d := preload.StartDaemon(t)
	// how many of docker's masked paths have a mount over them (those this
	// kernel has: /sys/firmware at least), and /proc/sys's mount options
	script := `grep -cE ' (/proc/(asound|acpi|kcore|keys|latency_stats|timer_list|timer_stats|sched_debug|scsi)|/sys/firmware) ' /proc/self/mountinfo; grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6`
	if out := dockerOK(t, d, "run", "--rm", "--net", "none", "busybox", "sh", "-c", script); !strings.HasSuffix(out, "\nro,nosuid,nodev,noexec,relatime\n") || strings.HasPrefix(out, "0\n") {
		t.Errorf("default: %q, want masked paths and /proc/sys read-only", out)
	}
	if out := dockerOK(t, d, "run", "--rm", "--net", "none", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", script); out != "0\n" {
		t.Errorf("docker --security-opt systempaths=unconfined: %q, want neither mount", out)
	}
	if out := d.MustCLI("run", "--rm", "--net", "none", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", script); out != "0\n" {
		t.Errorf("minidocker --security-opt systempaths=unconfined: %q, want neither mount", out)
	}
	body := `{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"none","MaskedPaths":["/proc/cpuinfo"]}}`
	resp, err := d.HTTPClient().Post("http://minidocker/containers/create", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "minidocker does not support HostConfig.MaskedPaths other than []") {
		t.Errorf("MaskedPaths of one's own: %s %s, want a 400", resp.Status, msg)
	}
}

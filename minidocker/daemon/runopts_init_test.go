package daemon_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestInitDomainnameGroupAdd: --init puts docker-init as PID 1, which
// passes docker stop's SIGTERM on, reaps orphans and exits with the
// command's status; --domainname sets the UTS domain and the hosts entry;
// --group-add adds groups by name or gid, to PID 1 and exec'd processes.
func TestInitDomainnameGroupAdd(t *testing.T) {
	d := preload.StartDaemon(t)
	out := dockerOK(t, d, "run", "--rm", "--init", "--net", "none", "busybox", "sh", "-c", "cat /proc/1/comm; echo $$; ps -o pid,comm")
	lines := strings.Split(out, "\n")
	if lines[0] != "docker-init" || lines[1] == "1" || !regexp.MustCompile(`(?m)^\s*1\s+docker-init$`).MatchString(out) {
		t.Fatalf("--init: PID 1 is not docker-init:\n%s", out)
	}
	if r := d.Docker("run", "--rm", "--init", "--net", "none", "busybox", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("--init exit code %d, want 3 (%s)", r.Code, r.Stderr)
	}
	if r := d.Docker("run", "--rm", "--init", "--net", "none", "busybox", "sh", "-c", "kill -9 $$"); r.Code != 137 {
		t.Fatalf("--init killed command: %d, want 137", r.Code)
	}
	// an orphan that exits is reaped by PID 1: no zombie is left
	out = dockerOK(t, d, "run", "--rm", "--init", "--net", "none", "busybox", "sh", "-c",
		`sh -c 'sleep 0.2 &'; sleep 1; for s in /proc/[0-9]*/stat; do cut -d' ' -f2,3 $s; done`)
	if strings.Contains(out, " Z") {
		t.Fatalf("a zombie is left under --init:\n%s", out)
	}
	// docker stop's SIGTERM reaches the command through the init. The
	// stop waits until the trap is set: a SIGTERM that comes before a
	// process has its handler ends it by the default action instead (the
	// init itself is a Go program, which exits 2 on a signal it does not
	// handle yet).
	dockerOK(t, d, "run", "-d", "--name", "trap", "--init", "--net", "none", "busybox", "sh", "-c", `trap "exit 42" TERM; touch /trap-set; while :; do sleep 0.1; done`)
	testutil.Eventually(t, 30*time.Second, "the trap is set", func() bool { return d.Docker("exec", "trap", "test", "-f", "/trap-set").Code == 0 })
	dockerOK(t, d, "stop", "-t", "20", "trap")
	if code := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.State.ExitCode}} {{.Path}} {{.HostConfig.Init}}", "trap")); code != "42 sh true" {
		t.Fatalf("after stop: %q, want the trap's 42 and the command as Path", code)
	}
	dockerOK(t, d, "rm", "trap")

	out = dockerOK(t, d, "run", "--rm", "--hostname", "web", "--domainname", "example.test", "busybox", "sh", "-c",
		"cat /proc/sys/kernel/domainname; grep web /etc/hosts")
	if !regexp.MustCompile(`^example\.test\n\S+\tweb\.example\.test web\n$`).MatchString(out) {
		t.Fatalf("--domainname:\n%s", out)
	}

	// a group only the container's /etc/group has (the host has no mdgroup)
	groupFile := filepath.Join(t.TempDir(), "group")
	if err := os.WriteFile(groupFile, []byte("root:x:0:\nnogroup:x:65534:\nmdgroup:x:4321:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = dockerOK(t, d, "run", "--rm", "--net", "none", "-v", groupFile+":/etc/group:ro",
		"--group-add", "mdgroup", "--group-add", "4242", "busybox", "id")
	if !strings.Contains(out, "groups=0(root),") || !strings.Contains(out, "4321(mdgroup)") || !strings.Contains(out, ",4242") {
		t.Fatalf("--group-add: %s", out)
	}
	dockerOK(t, d, "run", "-d", "--name", "grp", "--net", "none", "-v", groupFile+":/etc/group:ro", "--group-add", "mdgroup", "busybox", "sleep", "300")
	for _, user := range []string{"root", "nobody"} {
		if out = dockerOK(t, d, "exec", "-u", user, "grp", "id", "-G"); !strings.Contains(out, "4321") {
			t.Fatalf("exec -u %s: groups %q lack mdgroup's 4321", user, out)
		}
	}
	dockerOK(t, d, "rm", "-f", "grp")
	r := d.Docker("run", "--net", "none", "--group-add", "nosuchgroup", "busybox", "id")
	if r.Code == 0 || !strings.Contains(r.Stderr, "unable to find group nosuchgroup: no matching entries in group file") {
		t.Fatalf("--group-add nosuchgroup: %d %s", r.Code, r.Stderr)
	}
}

package daemon_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// termExits is a PID 1 that ends on SIGTERM with the given exit code, so a
// stop never has to wait for the SIGKILL.
func termExits(code int) []string {
	return []string{"sh", "-c", "trap 'exit " + strconv.Itoa(code) + "' TERM; touch /trap-set; while true; do sleep 0.1; done"}
}

// runTrapping starts a detached container named name whose PID 1 exits
// with code on SIGTERM, with the extra run flags. It returns once the trap
// is set: PID 1 ignores a SIGTERM it has no handler for, so a stop that
// came earlier would end in the SIGKILL (137) after the timeout.
func runTrapping(t *testing.T, d *testutil.Daemon, name string, code int, flags ...string) int {
	t.Helper()
	args := append([]string{"run", "-d", "--net", "none", "--name", name}, flags...)
	d.MustCLI(append(append(args, "busybox"), termExits(code)...)...)
	testutil.Eventually(t, 30*time.Second, name+": the trap is set", func() bool {
		return d.CLI("exec", name, "test", "-f", "/trap-set").Code == 0
	})
	return d.ContainerPid(name)
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// containerState is the State of `inspect` that these tests read.
func containerState(t *testing.T, d *testutil.Daemon, name string) (status string, exitCode, pid int) {
	t.Helper()
	st := d.Inspect(name)["State"].(map[string]any)
	return st["Status"].(string), int(st["ExitCode"].(float64)), int(st["Pid"].(float64))
}

// Issue 10, finding 7: the daemon never stopped its containers on
// SIGTERM, so unless-stopped behaved like always. As dockerd without
// live-restore, SIGTERM stops every container (its stop signal, then
// SIGKILL after the grace period), and at the next start the restart
// policies decide, docker's way: always comes back even after a user's
// stop, unless-stopped only if the user did not stop it (the daemon's
// shutdown does not count), on-failure after a non-zero exit; no stays
// down.
func TestDaemonShutdownStopsContainersAndPoliciesDecideAtStart(t *testing.T) {
	d := preload.StartDaemon(t)
	type want struct {
		running bool
		exit    int // when not running
	}
	cases := map[string]struct {
		exitOnTerm int
		flags      []string
		userStop   bool
		want       want
	}{
		"no":                    {0, nil, false, want{exit: 0}},
		"always":                {0, []string{"--restart", "always"}, false, want{running: true}},
		"always-user-stopped":   {0, []string{"--restart", "always"}, true, want{running: true}},
		"unless-stopped":        {0, []string{"--restart", "unless-stopped"}, false, want{running: true}},
		"unless-stopped-by-you": {0, []string{"--restart", "unless-stopped"}, true, want{exit: 0}},
		"on-failure-fails":      {7, []string{"--restart", "on-failure"}, false, want{running: true}},
		"on-failure-succeeds":   {0, []string{"--restart", "on-failure"}, false, want{exit: 0}},
	}
	pids := map[string]int{}
	for name, c := range cases {
		pids[name] = runTrapping(t, d, name, c.exitOnTerm, c.flags...)
		if c.userStop {
			d.MustCLI("stop", name)
		}
	}

	d.Stop()
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s: PID 1 (%d) still runs after the daemon stopped without live-restore", name, pid)
		}
	}

	d.Start()
	if out := d.MustCLI("info"); !strings.Contains(out, "Live Restore Enabled: false") {
		t.Errorf("info without live-restore:\n%s", out)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			status, exit, pid := containerState(t, d, name)
			switch {
			case c.want.running && (status != "running" || pid == pids[name]):
				t.Errorf("%s: %s (pid %d, was %d), want restarted at daemon start", name, status, pid, pids[name])
			case !c.want.running && (status != "exited" || exit != c.want.exit):
				t.Errorf("%s: %s exit %d, want exited %d and left down", name, status, exit, c.want.exit)
			}
		})
	}
}

// With live-restore (the --live-restore flag here, the daemon.json key in
// the next test) SIGTERM leaves the containers running under their shims,
// the next daemon reconnects to them, and info says so.
func TestLiveRestoreFlagKeepsContainersRunning(t *testing.T) {
	d := preload.StartDaemon(t, "--live-restore")
	if out := d.MustCLI("info"); !strings.Contains(out, "Live Restore Enabled: true") {
		t.Fatalf("info with --live-restore:\n%s", out)
	}
	pid := runTrapping(t, d, "kept", 0, "--restart", "unless-stopped")
	d.Stop()
	if !alive(pid) {
		t.Fatalf("live-restore: PID 1 (%d) died with the daemon", pid)
	}
	d.Start()
	if status, _, now := containerState(t, d, "kept"); status != "running" || now != pid {
		t.Fatalf("after the restart: %s pid %d, want running pid %d (reconnected)", status, now, pid)
	}
	d.MustCLI("stop", "kept") // the reconnected shim still obeys
	if alive(pid) {
		t.Fatalf("stop after reconnecting left PID 1 (%d) running", pid)
	}
}

func TestLiveRestoreConfigKey(t *testing.T) {
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t)
	preload.Busybox(t, d)
	d.WriteConfig(`{"live-restore": true}`)
	d.StartWithCleanup()
	if out := d.MustCLI("info"); !strings.Contains(out, "Live Restore Enabled: true") {
		t.Fatalf("info with daemon.json live-restore:\n%s", out)
	}
	pid := runTrapping(t, d, "kept", 0)
	d.Stop()
	if !alive(pid) {
		t.Fatalf("live-restore from daemon.json: PID 1 (%d) died with the daemon", pid)
	}
	d.Start()
	if status, _, now := containerState(t, d, "kept"); status != "running" || now != pid {
		t.Fatalf("after the restart: %s pid %d, want running pid %d", status, now, pid)
	}
}

// A crash (kill -9) of the daemon, live-restore or not, stops nothing: the
// shim keeps the container, and the next daemon reconnects to it.
func TestDaemonKill9LeavesContainersRunning(t *testing.T) {
	d := preload.StartDaemon(t)
	pid := runTrapping(t, d, "survivor", 0, "--restart", "unless-stopped")
	d.Kill9()
	if !alive(pid) {
		t.Fatalf("PID 1 (%d) died with the daemon's kill -9", pid)
	}
	d.Start()
	if status, _, now := containerState(t, d, "survivor"); status != "running" || now != pid {
		t.Fatalf("after kill -9 and start: %s pid %d, want running pid %d (reconnected)", status, now, pid)
	}
}

package daemon_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Issue 14: the daemon keeps one shim started ahead of need, so a start
// does not wait for a Go process to start up. The spare is no container
// (ps lists none, the fault checks see no leftover); a start claims it
// (the container's shim is the process that was the spare) and a new
// spare follows; a kill -9 of the daemon ends the unclaimed spare (EOF on
// its control socket) while the claimed one runs on with its container;
// the daemon's stop ends the spare too.
func TestSpareShimIsClaimedAndDiesWithItsDaemon(t *testing.T) {
	d := preload.StartDaemon(t)
	spare := waitSpareShim(t, d, 0)
	if ids := strings.Fields(d.MustCLI("ps", "-aq")); len(ids) > 0 {
		t.Fatalf("ps lists %v with only a spare shim started", ids)
	}
	f := &faultRig{t: t, d: d}
	if bad := f.inconsistencies(); len(bad) > 0 {
		t.Fatalf("the fault checks count the spare shim: %v", bad)
	}
	d.MustCLI("run", "-d", "--net", "none", "--name", "held", "busybox", "sleep", "300")
	if shim := shimOf(t, d.ContainerPid("held")); shim != spare {
		t.Errorf("the container's shim is %d, not the spare %d", shim, spare)
	}
	next := waitSpareShim(t, d, spare)

	d.Kill9()
	testutil.Eventually(t, 10*time.Second, "the unclaimed spare ends with its daemon", func() bool { return !alive(next) })
	if !alive(spare) {
		t.Fatalf("the claimed shim %d ended with the daemon", spare)
	}
	d.Start()
	f.checkConsistent("after the restart")
	again := waitSpareShim(t, d, 0)
	d.MustCLI("rm", "-f", "held")
	d.Stop()
	testutil.Eventually(t, 10*time.Second, "the spare ends when its daemon stops", func() bool { return !alive(again) })
}

// waitSpareShim waits for the daemon's spare shim other than not: a child
// of the daemon running "minidocker shim" in / (claimed, it works in its
// bundle).
func waitSpareShim(t *testing.T, d *testutil.Daemon, not int) int {
	t.Helper()
	found := 0
	testutil.Eventually(t, 20*time.Second, "a spare shim of the daemon", func() bool {
		found = spareShimOf(d.Pid(), not)
		return found > 0
	})
	return found
}

func spareShimOf(daemonPid, not int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		dir := filepath.Dir(p)
		pid, _ := strconv.Atoi(filepath.Base(dir))
		if pid == not || parentOf(p) != daemonPid {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		cwd, _ := os.Readlink(filepath.Join(dir, "cwd"))
		if len(args) == 2 && args[1] == "shim" && cwd == "/" {
			return pid
		}
	}
	return 0
}

// parentOf reads the parent pid out of a /proc/<pid>/stat file (0: gone).
func parentOf(statPath string) int {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

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
	"golang.org/x/sys/unix"
)

// Issue 14: the daemon keeps one shim started ahead of need, so a start
// does not wait for a Go process to start up. The spare is no container
// (ps lists none, the fault checks see no leftover); a start claims it
// (the container's shim is the process that was the spare) and a new
// spare follows; a kill -9 of the daemon ends the unclaimed spare (EOF on
// its control socket) while the claimed one runs on with its container;
// the daemon's stop ends the spare too. Each spare shim holds a spare
// init, already in its namespaces: the container's PID 1 is that process,
// and it too is neither a container nor a leftover, and ends with its
// unclaimed shim.
func TestSpareShimIsClaimedAndDiesWithItsDaemon(t *testing.T) {
	d := preload.StartDaemon(t)
	spare := waitSpareShim(t, d, 0)
	spareInit := waitSpareInit(t, spare)
	if ids := strings.Fields(d.MustCLI("ps", "-aq")); len(ids) > 0 {
		t.Fatalf("ps lists %v with only a spare shim started", ids)
	}
	f := &faultRig{t: t, d: d}
	if bad := f.inconsistencies(); len(bad) > 0 {
		t.Fatalf("the fault checks count the spare shim: %v", bad)
	}
	d.MustCLI("run", "-d", "--net", "none", "--name", "held", "busybox", "sleep", "300")
	pid1 := d.ContainerPid("held")
	if shim := shimOf(t, pid1); shim != spare {
		t.Errorf("the container's shim is %d, not the spare %d", shim, spare)
	}
	if pid1 != spareInit {
		t.Errorf("the container's PID 1 is %d, not the spare init %d", pid1, spareInit)
	}
	next := waitSpareShim(t, d, spare)
	nextInit := waitSpareInit(t, next)

	d.Kill9()
	testutil.Eventually(t, 10*time.Second, "the unclaimed spare ends with its daemon", func() bool { return !alive(next) })
	testutil.Eventually(t, 10*time.Second, "the unclaimed spare's init ends with it", func() bool { return !alive(nextInit) })
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

// waitSpareInit waits for the spare init of a spare shim: its child
// "minidocker init spare", in / and in namespaces other than ours.
func waitSpareInit(t *testing.T, shim int) int {
	t.Helper()
	found := 0
	testutil.Eventually(t, 20*time.Second, "a spare init of the spare shim", func() bool {
		found = spareInitOf(shim)
		return found > 0
	})
	ours, _ := os.Readlink("/proc/self/ns/pid")
	if theirs, _ := os.Readlink("/proc/" + strconv.Itoa(found) + "/ns/pid"); theirs == ours || theirs == "" {
		t.Fatalf("the spare init %d is in our PID namespace (%q)", found, theirs)
	}
	return found
}

// spareInitOf is the spare init child of a shim (0: none). The kernel
// lists children per thread, and any Go thread may have forked it.
func spareInitOf(shim int) int {
	var kids []string
	lists, _ := filepath.Glob("/proc/" + strconv.Itoa(shim) + "/task/*/children")
	for _, l := range lists {
		b, _ := os.ReadFile(l)
		kids = append(kids, strings.Fields(string(b))...)
	}
	for _, f := range kids {
		cmd, _ := os.ReadFile("/proc/" + f + "/cmdline")
		if strings.HasSuffix(string(cmd), "\x00init\x00spare\x00") {
			pid, _ := strconv.Atoi(f)
			return pid
		}
	}
	return 0
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

// A spare init is older than its container, and so are the host's mounts
// it could have copied: a mount made on the host after the spare started
// (an admin's, a volume's, a shareable /dev/shm) must still be what the
// container sees, as with an init started on claim.
func TestSpareInitSeesHostMountsMadeAfterIt(t *testing.T) {
	d := preload.StartDaemon(t)
	waitSpareInit(t, waitSpareShim(t, d, 0))
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(dir, "made-later"), []byte("on the tmpfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := d.MustCLI("run", "--rm", "--net", "none", "-v", dir+":/d", "busybox", "cat", "/d/made-later")
	if out != "on the tmpfs\n" {
		t.Errorf("the container read %q from a mount the host made after its spare init started", out)
	}
}

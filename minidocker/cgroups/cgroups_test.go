package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

func TestValidate(t *testing.T) {
	const mb = 1024 * 1024
	for _, tc := range []struct {
		r    Resources
		want string
	}{
		{Resources{}, ""},
		{Resources{Memory: 6 * mb}, ""},
		{Resources{Memory: 5 * mb}, "Minimum memory limit allowed is 6MB"},
		{Resources{Memory: -1}, "Minimum memory limit allowed is 6MB"},
		{Resources{Memory: 64 * mb, MemorySwap: 32 * mb}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{Resources{Memory: 64 * mb, MemorySwap: 64 * mb}, ""},
		{Resources{Memory: 64 * mb, MemorySwap: -1}, ""},
		{Resources{MemorySwap: 64 * mb}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{Resources{CPUQuota: 150000, CPUPeriod: 100000}, ""},
		{Resources{CPUQuota: 150000}, ""},
		{Resources{CPUQuota: 200000}, ""},
		{Resources{CPUQuota: 200001}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{Resources{CPUQuota: 5000, CPUPeriod: 100}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{Resources{CPUPeriod: 2000000}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{Resources{CPUQuota: 999}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
		{Resources{PidsLimit: -1}, ""},
	} {
		t.Run(fmt.Sprintf("%+v", tc.r), func(t *testing.T) {
			err := Validate(tc.r, 2)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate(%+v) = %q, want %q", tc.r, got, tc.want)
			}
		})
	}
	if err := ValidateNanoCPUs(3e9, 2); err == nil || err.Error() != "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available" {
		t.Errorf("ValidateNanoCPUs(3e9, 2) = %v", err)
	}
	if q, p := QuotaFromNanoCPUs(1.5e9); q != 150000 || p != 100000 {
		t.Errorf("QuotaFromNanoCPUs(1.5e9) = %d/%d", q, p)
	}
}

func TestSwapTotal(t *testing.T) {
	for _, tc := range []struct{ mem, swap, want int64 }{
		{0, 0, -1}, {100, 0, 200}, {100, -1, -1}, {100, 150, 150}, {0, -1, -1},
	} {
		t.Run(fmt.Sprintf("memory %d swap %d", tc.mem, tc.swap), func(t *testing.T) {
			if got := swapTotal(Resources{Memory: tc.mem, MemorySwap: tc.swap}); got != tc.want {
				t.Errorf("swapTotal(%d, %d) = %d, want %d", tc.mem, tc.swap, got, tc.want)
			}
		})
	}
}

func TestParseV1Mounts(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`25 30 0:22 / /sys rw,nosuid - sysfs sysfs rw
33 25 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
35 33 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
36 33 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct
37 33 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
38 33 0:33 / /sys/fs/cgroup/name\040x rw - cgroup cgroup rw,pids
39 33 0:34 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
`)
	f.Seek(0, 0)
	m, err := parseV1Mounts(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
		"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/name x",
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", m, want)
	}
}

func TestBadPaths(t *testing.T) {
	for _, p := range [][2]string{{"", "x"}, {"../x", "y"}, {"a/../b", "y"}, {"a", ""}, {"a", "b/c"}, {"a", ".."}} {
		t.Run(fmt.Sprintf("%q %q", p[0], p[1]), func(t *testing.T) {
			if _, err := New(p[0], p[1]); err == nil {
				t.Errorf("New(%q, %q) accepted", p[0], p[1])
			}
		})
	}
}

var parentSeq atomic.Int64

// testParent gives a parent cgroup unique to this test and makes sure, at
// the end, that nothing is left in any hierarchy.
func testParent(t testing.TB) string {
	t.Helper()
	testutil.RequireRoot(t)
	parent := fmt.Sprintf("minidocker-test-%d-%d", os.Getpid(), parentSeq.Add(1))
	t.Cleanup(func() {
		names, err := List(parent)
		if err != nil {
			t.Errorf("List: %v", err)
		}
		for _, n := range names {
			t.Errorf("cgroup %s/%s was left behind", parent, n)
			if c, err := Load(parent, n); err == nil {
				c.Destroy()
			}
		}
		if err := RemoveParent(parent); err != nil {
			t.Errorf("RemoveParent: %v", err)
		}
		for _, d := range hierarchyDirs(t, parent) {
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				t.Errorf("%s is still there (%v)", d, err)
			}
		}
	})
	return parent
}

// hierarchyDirs lists <root>/<rel> in every hierarchy in use.
func hierarchyDirs(t testing.TB, rel string) []string {
	if Detect() == V2 {
		return []string{filepath.Join(mountRoot, rel)}
	}
	m, err := v1Mounts()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ctl := range v1Controllers {
		if mp, ok := m[ctl]; ok {
			out = append(out, filepath.Join(mp, rel))
		}
	}
	return out
}

func mustNew(t testing.TB, parent, name string) *Cgroup {
	t.Helper()
	c, err := New(parent, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		for _, d := range c.uniqueDirs() {
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				t.Errorf("%s survived Destroy (%v)", d, err)
			}
		}
	})
	return c
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// ctlFile is the path of a control file: v2 has one directory, v1 one per controller.
func ctlFile(c *Cgroup, ctl, file string) string {
	if c.version == V2 {
		return filepath.Join(c.dir, file)
	}
	return filepath.Join(c.dirs[ctl], file)
}

// enter starts a helper inside c: born inside through DirFD on v2 when
// bornInside, otherwise AddProcess while it waits (the v1 handshake).
func enter(t testing.TB, c *Cgroup, mode string, bornInside bool) *helper {
	t.Helper()
	fd := -1
	if bornInside {
		var ok bool
		if fd, ok = c.DirFD(); !ok {
			t.Fatal("DirFD not available")
		}
		defer syscall.Close(fd)
	}
	h := startHelper(t, mode, fd)
	if !bornInside {
		if err := c.AddProcess(h.cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	procs, err := c.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(procs, h.cmd.Process.Pid) {
		t.Fatalf("pid %d not in the cgroup's procs %v", h.cmd.Process.Pid, procs)
	}
	return h
}

func TestDetect(t *testing.T) {
	v := Detect()
	t.Logf("cgroup version %s", v)
	if v != V1 && v != V2 {
		t.Fatalf("Detect() = %v", v)
	}
}

func TestLifecycle(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "life")
	if _, ok := c.DirFD(); ok != (c.Version() == V2) {
		t.Errorf("DirFD ok=%v on %s", ok, c.Version())
	}
	const mem = 64 << 20
	if err := c.Set(Resources{Memory: mem, CPUQuota: 50000, PidsLimit: 100}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, ctlFile(c, "pids", "pids.max")); got != "100" {
		t.Errorf("pids.max = %s", got)
	}
	if c.Version() == V2 {
		if got := readFile(t, ctlFile(c, "memory", "memory.max")); got != strconv.Itoa(mem) {
			t.Errorf("memory.max = %s", got)
		}
	} else {
		if got := readFile(t, ctlFile(c, "memory", "memory.limit_in_bytes")); got != strconv.Itoa(mem) {
			t.Errorf("memory.limit_in_bytes = %s", got)
		}
	}

	h := enter(t, c, "wait-sleep", false)
	h.start(t)
	h.expect(t, "running")

	if oom, err := c.OOMKilled(); err != nil || oom {
		t.Errorf("OOMKilled() = %v, %v on a fresh cgroup", oom, err)
	}
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: usage %d raw %d limit %d pids %d/%d cpu %dns", st.MemoryUsage, st.MemoryRawUsage, st.MemoryLimit, st.PidsCurrent, st.PidsLimit, st.CPUUsageNs)
	if st.MemoryLimit != mem || st.PidsLimit != 100 {
		t.Errorf("limits in stats: memory %d pids %d", st.MemoryLimit, st.PidsLimit)
	}
	if st.PidsCurrent < 1 || st.MemoryRawUsage == 0 || st.MemoryUsage > st.MemoryRawUsage || st.CPUUsageNs == 0 {
		t.Errorf("implausible stats %+v", st)
	}
	if len(st.MemoryStat) == 0 {
		t.Error("no memory.stat")
	}

	// Load after a "daemon restart" sees the same process.
	l, err := Load(parent, "life")
	if err != nil {
		t.Fatal(err)
	}
	if procs, _ := l.Procs(); !slices.Contains(procs, h.cmd.Process.Pid) {
		t.Errorf("Load: procs %v", procs)
	}
	if _, err := Load(parent, "nonesuch"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing cgroup: %v", err)
	}
	if names, _ := List(parent); !slices.Equal(names, []string{"life"}) {
		t.Errorf("List = %v", names)
	}

	// New on an existing cgroup (a crash leftover) reuses it.
	if _, err := New(parent, "life"); err != nil {
		t.Errorf("New on an existing cgroup: %v", err)
	}

	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	ws, ok := h.wait(5 * time.Second)
	if !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("helper after Destroy: %v exited=%v", ws, ok)
	}
	if err := l.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestBornInside(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "born")
	if c.Version() != V2 {
		// v1 has no CLONE_INTO_CGROUP: DirFD must say so, and the runtime
		// then moves init in while it still waits (AddProcess).
		if fd, ok := c.DirFD(); ok {
			t.Errorf("DirFD on v1 = %d, true; want no fd", fd)
		}
		return
	}
	h := enter(t, c, "wait-sleep", true)
	// Still waiting for "go", and already inside: /proc/<pid>/cgroup says so.
	got := readFile(t, fmt.Sprintf("/proc/%d/cgroup", h.cmd.Process.Pid))
	if want := "0::/" + c.Name(); got != want {
		t.Errorf("/proc/pid/cgroup = %q, want %q", got, want)
	}
	h.start(t)
	h.expect(t, "running")
}

// AddThisThread moves the calling thread, and no other thread of its
// process, into the cgroup: what container init does on v1 before its
// exec ends the others (libcontainer's placeInit).
func TestAddThisThread(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "thread")
	if c.Version() == V2 {
		if err := c.AddThisThread(); err == nil {
			t.Fatal("AddThisThread on v2 did not fail")
		}
		return
	}
	t.Setenv(joinThreadEnv, c.Name())
	h := startHelper(t, "join-thread", -1)
	h.start(t)
	said := h.line(t)
	tid, ok := strings.CutPrefix(said, "joined ")
	if !ok {
		t.Fatalf("helper said %q", said)
	}
	pid := strconv.Itoa(h.cmd.Process.Pid)
	for _, d := range c.uniqueDirs() {
		if got := readFile(t, filepath.Join(d, "tasks")); got != tid {
			t.Errorf("%s/tasks = %q, want only the joined thread %s", d, got, tid)
		}
		if got := readFile(t, filepath.Join(d, "cgroup.procs")); got != pid {
			t.Errorf("%s/cgroup.procs = %q, want the helper %s", d, got, pid)
		}
	}
	threads, _ := os.ReadDir("/proc/" + pid + "/task")
	if len(threads) < 2 {
		t.Fatalf("the helper has %d threads; the test needs the runtime's others", len(threads))
	}
	for _, th := range threads {
		lines := strings.Split(readFile(t, "/proc/"+pid+"/task/"+th.Name()+"/cgroup"), "\n")
		inside := slices.ContainsFunc(lines, func(l string) bool { return strings.HasSuffix(l, ":memory:/"+c.Name()) })
		if inside != (th.Name() == tid) {
			t.Errorf("thread %s inside the cgroup: %v (the joined thread is %s)", th.Name(), inside, tid)
		}
	}
}

func TestOOMKill(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "oom")
	if err := c.Set(Resources{Memory: 32 << 20}); err != nil {
		t.Fatal(err)
	}
	h := enter(t, c, "alloc", c.Version() == V2)
	h.start(t)
	ws, ok := h.wait(60 * time.Second)
	if !ok {
		t.Fatal("the memory hog is still running after 60s")
	}
	if ws.Signal() != syscall.SIGKILL {
		t.Errorf("hog ended with %v, want killed by SIGKILL (docker's exit 137)", ws)
	}
	oom, err := c.OOMKilled()
	if err != nil || !oom {
		t.Errorf("OOMKilled() = %v, %v; want true", oom, err)
	}
}

func TestPidsLimit(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "pids")
	h := enter(t, c, "fork", c.Version() == V2)
	// Let the helper's runtime settle its threads, then allow two more tasks.
	time.Sleep(50 * time.Millisecond)
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(st.PidsCurrent) + 2
	if err := c.Set(Resources{PidsLimit: limit}); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	line := h.line(t)
	var forked, refused int
	if _, err := fmt.Sscanf(line, "forked %d refused %d", &forked, &refused); err != nil {
		t.Fatalf("helper said %q", line)
	}
	t.Logf("limit %d (threads %d): %s", limit, st.PidsCurrent, line)
	if syscall.Errno(refused) != syscall.EAGAIN || forked > 2 {
		t.Errorf("with pids.max=%d: forked %d, refused with %v; want at most 2 forks, then EAGAIN", limit, forked, syscall.Errno(refused))
	}
	ev, err := readKeyValues(ctlFile(c, "pids", "pids.events"))
	if err == nil && ev["max"] == 0 {
		t.Errorf("pids.events max = 0 after a refused fork")
	}
}

func TestCPUQuota(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "cpu")
	check := func(wantV1Quota, wantV1Period, wantV2 string) {
		t.Helper()
		if c.Version() == V2 {
			if got := readFile(t, ctlFile(c, "cpu", "cpu.max")); got != wantV2 {
				t.Errorf("cpu.max = %q, want %q", got, wantV2)
			}
			return
		}
		q := readFile(t, ctlFile(c, "cpu", "cpu.cfs_quota_us"))
		p := readFile(t, ctlFile(c, "cpu", "cpu.cfs_period_us"))
		if q != wantV1Quota || p != wantV1Period {
			t.Errorf("cfs quota/period = %s/%s, want %s/%s", q, p, wantV1Quota, wantV1Period)
		}
	}
	q, p := QuotaFromNanoCPUs(1.5e9) // --cpus=1.5
	if err := c.Set(Resources{CPUQuota: q, CPUPeriod: p}); err != nil {
		t.Fatal(err)
	}
	check("150000", "100000", "150000 100000")
	if err := c.Set(Resources{CPUQuota: 25000, CPUPeriod: 50000}); err != nil {
		t.Fatal(err)
	}
	check("25000", "50000", "25000 50000")
	if err := c.Set(Resources{}); err != nil { // lifted again
		t.Fatal(err)
	}
	check("-1", "100000", "max 100000")
}

func TestMemorySwap(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "swap")
	const m = 64 << 20
	for _, tc := range []struct {
		r        Resources
		v1, v2sw string // v1 memsw limit, v2 memory.swap.max
	}{
		{Resources{Memory: m}, strconv.Itoa(2 * m), strconv.Itoa(m)},
		{Resources{Memory: m, MemorySwap: m + m/2}, strconv.Itoa(m + m/2), strconv.Itoa(m / 2)},
		{Resources{Memory: m, MemorySwap: m}, strconv.Itoa(m), "0"},
		{Resources{Memory: 2 * m, MemorySwap: 4 * m}, strconv.Itoa(4 * m), strconv.Itoa(2 * m)}, // memory above the old memsw
		{Resources{Memory: m, MemorySwap: -1}, "9223372036854771712", "max"},
		{Resources{}, "9223372036854771712", "max"},
	} {
		t.Run(fmt.Sprintf("memory %d swap %d", tc.r.Memory, tc.r.MemorySwap), func(t *testing.T) {
			if err := c.Set(tc.r); err != nil {
				t.Fatalf("Set(%+v): %v", tc.r, err)
			}
			var file, want string
			if c.Version() == V2 {
				file, want = ctlFile(c, "memory", "memory.swap.max"), tc.v2sw
			} else {
				file, want = ctlFile(c, "memory", "memory.memsw.limit_in_bytes"), tc.v1
			}
			if !exists(file) {
				if SwapLimitSupported() {
					t.Errorf("%s is missing but SwapLimitSupported() is true", file)
				}
				t.Logf("no swap accounting: %s absent, skipped", file)
				return
			}
			if got := readFile(t, file); got != want {
				t.Errorf("Set(%+v): %s = %s, want %s", tc.r, filepath.Base(file), got, want)
			}
		})
	}
}

func TestKillAllChildren(t *testing.T) { testKillAllChildren(t) }

// TestKillAllFrozen takes the path of kernels without cgroup.kill (v2
// before 5.14): freeze, kill one by one, thaw. v1 always takes it.
func TestKillAllFrozen(t *testing.T) {
	useCgroupKill = false
	defer func() { useCgroupKill = true }()
	testKillAllChildren(t)
}

func testKillAllChildren(t *testing.T) {
	parent := testParent(t)
	c := mustNew(t, parent, "kill")
	h := enter(t, c, "spawn", c.Version() == V2)
	h.start(t)
	var kids []int
	for {
		l := h.line(t)
		if l == "running" {
			break
		}
		var pid int
		if _, err := fmt.Sscanf(l, "child %d", &pid); err != nil {
			t.Fatalf("helper said %q", l)
		}
		kids = append(kids, pid)
	}
	procs, err := c.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 4 {
		t.Errorf("procs = %v, want the helper and its 3 children", procs)
	}
	if err := c.KillAll(); err != nil {
		t.Fatal(err)
	}
	if procs, _ := c.Procs(); len(procs) != 0 {
		t.Errorf("procs after KillAll: %v", procs)
	}
	for _, k := range kids {
		// dead: gone, a zombie waiting for its (dead) parent's reaper (Z),
		// or being reaped at this very moment (X)
		if s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k)); err == nil && !isDeadState(s) {
			t.Errorf("child %d still alive: %s", k, s)
		}
	}
}

// isDeadState reads the state letter of a /proc/PID/stat line, which
// follows the last ")" (the command in parentheses may hold any byte).
func isDeadState(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}

func BenchmarkNewSetDestroy(b *testing.B) {
	parent := testParent(b)
	r := Resources{Memory: 64 << 20, CPUQuota: 50000, PidsLimit: 100}
	for i := 0; b.Loop(); i++ {
		c, err := New(parent, "b"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Set(r); err != nil {
			b.Fatal(err)
		}
		if err := c.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStats(b *testing.B) {
	parent := testParent(b)
	c := mustNew(b, parent, "stats")
	for b.Loop() {
		if _, err := c.Stats(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParallel: containers are created and removed concurrently under one
// parent (the daemon starts them in parallel).
func TestParallel(t *testing.T) {
	parent := testParent(t)
	const n = 16
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			c, err := New(parent, fmt.Sprintf("p%d", i))
			if err == nil {
				err = c.Set(Resources{Memory: 16 << 20, PidsLimit: 10, CPUQuota: 10000})
				if err2 := c.Destroy(); err == nil {
					err = err2
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestHybrid: on a hybrid machine the side v2 tree (/sys/fs/cgroup/unified)
// is ignored: the machine counts as v1 and nothing is created there.
func TestHybrid(t *testing.T) {
	var st syscall.Statfs_t
	unified := filepath.Join(mountRoot, "unified")
	if err := syscall.Statfs(unified, &st); err != nil || st.Type != 0x63677270 { // CGROUP2_SUPER_MAGIC
		return // not a hybrid machine (e.g. the cgroup-v2 VM): nothing to prove here
	}
	if Detect() != V1 {
		t.Fatalf("hybrid machine detected as %s", Detect())
	}
	parent := testParent(t)
	c := mustNew(t, parent, "hybrid")
	if _, err := os.Stat(filepath.Join(unified, parent)); !os.IsNotExist(err) {
		t.Errorf("something was created in the unified side tree: %v", err)
	}
	if _, ok := c.DirFD(); ok {
		t.Error("DirFD offered on a hybrid (v1) machine")
	}
}

package daemon_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// faultPoints is how many times TestDaemonKill9AtRandomPoints kills the
// daemon: spread over its five operations, each point a random moment.
const faultPoints = 30

// faultOp is one operation the kill -9 test interrupts: prepare makes sure
// it has real work to do (the image is absent, the container exists…), args
// is the CLI command killed in flight and repeated after the restart, and
// repeatOK says whether the repeat's result is a success (rm of a container
// the interrupted rm already removed is one).
type faultOp struct {
	name     string
	prepare  func(i int)
	args     func(i int) []string
	repeatOK func(r testutil.Result) bool
}

// Issue 10, faults survived: kill -9 of the daemon at random points during
// pull (from a registry on 127.0.0.1), load, build, run and rm. After each
// restart on the same data root the daemon must be consistent (see
// checkConsistent: no dangling layer, no half-made image or container, no
// container "running" without a process, no leftover bundle, cgroup, veth or
// DNAT rule beyond the live containers'), the interrupted command must
// succeed when repeated, and everything must still be consistent. The
// random moments come from a seed printed in the log; set
// MINIDOCKER_FAULT_SEED to replay a run.
func TestDaemonKill9AtRandomPoints(t *testing.T) {
	d := preload.StartDaemon(t)
	seed := time.Now().UnixNano()
	if s := os.Getenv("MINIDOCKER_FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("fault seed %d (MINIDOCKER_FAULT_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	f := newFaultRig(t, d)
	ops := f.ops()
	// Each operation's kill lands at a random moment within how long it
	// last took uninterrupted (its repeat), so most land mid-operation.
	took := map[string]time.Duration{}
	survived, midway := 0, 0
	for i := 0; i < faultPoints; i++ {
		op := ops[i%len(ops)]
		if took[op.name] == 0 {
			took[op.name] = 1500 * time.Millisecond
		}
		delay := time.Duration(rng.Int63n(int64(took[op.name])))
		op.prepare(i)
		args := op.args(i)
		cmd := exec.Command(d.Bin, append([]string{"-H", d.Host}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		landed := "mid-operation"
		select {
		case err := <-exited: // done before its fault: a kill of an idle daemon
			landed = fmt.Sprintf("after the command ended (%v)", err)
			d.Kill9()
		case <-time.After(delay):
			d.Kill9()
			<-exited
			midway++
		}
		t.Logf("point %d: kill -9 %s into %q, %s", i, delay.Round(time.Millisecond), strings.Join(args, " "), landed)
		d.Start()
		f.checkConsistent(fmt.Sprintf("point %d (%s after %s), after the restart", i, op.name, delay))
		start := time.Now()
		if r := d.CLI(op.args(i)...); !op.repeatOK(r) {
			t.Fatalf("point %d: repeating %q after the restart: exit %d\n%s\ndaemon log:\n%s", i, strings.Join(args, " "), r.Code, r.Combined(), d.Log())
		}
		took[op.name] = max(time.Since(start), 50*time.Millisecond)
		f.checkConsistent(fmt.Sprintf("point %d (%s), after the repeat", i, op.name))
		survived++
	}
	t.Logf("faults injected: %d (%d mid-operation), survived: %d", faultPoints, midway, survived)
}

// faultRig holds what the kill -9 test works with: the daemon, the
// registry's image reference and the saved image to load.
type faultRig struct {
	t        *testing.T
	d        *testutil.Daemon
	remote   string // the data image in the registry
	savedTar string // the data image, saved
	ctxDir   string // a build context
}

// newFaultRig builds the test's data image (busybox plus a 4 MiB layer, so
// that pulls, loads and builds take long enough to be interrupted), pushes
// it to a registry on 127.0.0.1 and saves it to a tar.
func newFaultRig(t *testing.T, d *testutil.Daemon) *faultRig {
	f := &faultRig{t: t, d: d, remote: startStressRegistry(t) + "/faults/data:v1", ctxDir: t.TempDir()}
	df := "FROM busybox\nRUN head -c 4194304 /dev/urandom > /data\nCOPY ctx.txt /ctx.txt\n"
	if err := os.WriteFile(filepath.Join(f.ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.ctxDir, "ctx.txt"), []byte("context\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.MustCLI("build", "-q", "-t", f.remote, f.ctxDir)
	d.MustCLI("push", f.remote)
	f.savedTar = filepath.Join(t.TempDir(), "data.tar")
	d.MustCLI("save", "-o", f.savedTar, f.remote)
	d.MustCLI("rmi", f.remote)
	return f
}

// ops are the five interrupted operations.
func (f *faultRig) ops() []faultOp {
	d := f.d
	ok := func(r testutil.Result) bool { return r.Code == 0 }
	dropData := func(int) { d.CLI("rmi", "-f", f.remote) } // absent or not: the op must fetch it again
	name := func(i int) string { return fmt.Sprintf("fault%d", i) }
	return []faultOp{
		{name: "pull", prepare: dropData, args: func(int) []string { return []string{"pull", f.remote} }, repeatOK: ok},
		{name: "load", prepare: dropData, args: func(int) []string { return []string{"load", "-i", f.savedTar} }, repeatOK: ok},
		{name: "build", prepare: func(int) {},
			args: func(i int) []string {
				return []string{"build", "-q", "--no-cache", "-t", "faults/built:" + strconv.Itoa(i), f.ctxDir}
			},
			repeatOK: ok},
		{name: "run", prepare: func(i int) { f.removeFaultContainers() },
			args: func(i int) []string {
				return []string{"run", "-d", "--name", name(i), "-p", "127.0.0.1::80", "busybox", "sleep", "600"}
			},
			repeatOK: func(r testutil.Result) bool {
				// the interrupted run may have created the container: docker refuses the name then
				return r.Code == 0 || strings.Contains(r.Stderr, "is already in use")
			}},
		{name: "rm", prepare: func(i int) {
			f.removeFaultContainers()
			d.MustCLI("run", "-d", "--name", name(i), "-p", "127.0.0.1::80", "busybox", "sleep", "600")
		},
			args: func(i int) []string { return []string{"rm", "-f", name(i)} },
			repeatOK: func(r testutil.Result) bool {
				return r.Code == 0 || strings.Contains(r.Stderr, "No such container")
			}},
	}
}

// removeFaultContainers removes every container, so each point starts
// from a known set.
func (f *faultRig) removeFaultContainers() {
	for _, id := range strings.Fields(f.d.MustCLI("ps", "-aq")) {
		f.d.MustCLI("rm", "-f", id)
	}
}

// containerFacts is what checkConsistent reads of one container.
type containerFacts struct {
	ID    string
	State struct {
		Status  string
		Running bool
		Pid     int
	}
	NetworkSettings struct {
		Networks map[string]struct{ IPAddress string }
	}
}

// checkConsistent asserts that the daemon's state on disk and on the host
// matches its records: what a crash must not leave behind. Containers'
// exits found at restart are recorded in the background, so the check
// polls (generously) until it holds, then reports what still does not.
func (f *faultRig) checkConsistent(when string) {
	f.t.Helper()
	var problems []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		problems = f.inconsistencies()
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.t.Fatalf("%s the daemon is inconsistent:\n  %s\ndaemon log:\n%s", when, strings.Join(problems, "\n  "), f.d.Log())
}

// inconsistencies lists what is wrong now (empty: nothing).
func (f *faultRig) inconsistencies() []string {
	var bad []string
	bad = append(bad, f.layerProblems()...)
	ctrs := f.containers()
	live := map[string]bool{}
	liveIPs := map[string]bool{}
	for _, c := range ctrs {
		if c.State.Running {
			if !alive(c.State.Pid) {
				bad = append(bad, fmt.Sprintf("container %.12s is %q with PID %d, which does not run", c.ID, c.State.Status, c.State.Pid))
			}
			live[c.ID] = true
			for _, n := range c.NetworkSettings.Networks {
				liveIPs[n.IPAddress] = true
			}
		} else if c.State.Status == "running" || c.State.Status == "restarting" {
			bad = append(bad, fmt.Sprintf("container %.12s is %q but not Running", c.ID, c.State.Status))
		}
	}
	bad = append(bad, f.recordProblems(ctrs)...)
	bad = append(bad, f.hostProblems(live, liveIPs)...)
	return bad
}

// layerProblems: every layer directory belongs to an image, and the image
// store's work area is empty (a pull or load the crash cut short left
// nothing there once the store was reopened).
func (f *faultRig) layerProblems() []string {
	used := map[string]bool{}
	var list []struct{ Id string }
	f.getJSON("/images/json?all=1", &list)
	for _, im := range list {
		var inspect struct{ RootFS struct{ Layers []string } }
		f.getJSON("/images/"+im.Id+"/json", &inspect)
		for _, l := range inspect.RootFS.Layers {
			used[strings.TrimPrefix(l, "sha256:")] = true
		}
	}
	var bad []string
	for _, dir := range layerDirs(f.t, f.d) {
		if !used[dir] {
			bad = append(bad, "layer "+dir[:12]+" belongs to no image (dangling)")
		}
	}
	if left, _ := os.ReadDir(filepath.Join(f.d.DataRoot, "image", "tmp")); len(left) > 0 {
		bad = append(bad, fmt.Sprintf("image/tmp holds %d leftovers (%s…)", len(left), left[0].Name()))
	}
	return bad
}

// containers is every container's inspect.
func (f *faultRig) containers() []containerFacts {
	var list []struct{ Id string }
	f.getJSON("/containers/json?all=1", &list)
	out := make([]containerFacts, len(list))
	for i, c := range list {
		f.getJSON("/containers/"+c.Id+"/json", &out[i])
	}
	return out
}

// getJSON is one GET of the Engine API, decoded into v; anything but a 200
// fails the test.
func (f *faultRig) getJSON(path string, v any) {
	f.t.Helper()
	code, body := call(apiClient(f.d), "GET", path, "")
	if code != 200 {
		f.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
}

// recordProblems: each directory under containers/ is a container the
// daemon lists (a create cut short left no record, a removal cut short no
// directory), and each runtime bundle belongs to a running container.
func (f *faultRig) recordProblems(ctrs []containerFacts) []string {
	known := map[string]bool{}
	running := map[string]bool{}
	for _, c := range ctrs {
		known[c.ID] = true
		running[c.ID] = c.State.Running
	}
	var bad []string
	dirs, _ := os.ReadDir(filepath.Join(f.d.DataRoot, "containers"))
	for _, e := range dirs {
		if !known[e.Name()] && !strings.HasPrefix(e.Name(), ".trash-") {
			bad = append(bad, "containers/"+e.Name()+" is no container the daemon lists")
		}
	}
	bundles, _ := os.ReadDir(filepath.Join(f.d.ExecRoot, "containers"))
	for _, e := range bundles {
		if !running[e.Name()] {
			bad = append(bad, "runtime bundle "+e.Name()+" of no running container")
		}
	}
	return bad
}

// hostProblems: the host holds shims, cgroups, bridge ports and DNAT rules for
// the running containers only, and no mount under the daemon's directories
// but their network namespaces.
func (f *faultRig) hostProblems(live, liveIPs map[string]bool) []string {
	var bad []string
	for _, parent := range []string{"/sys/fs/cgroup/pids/" + f.d.Cgroup, "/sys/fs/cgroup/memory/" + f.d.Cgroup, "/sys/fs/cgroup/" + f.d.Cgroup} {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if e.IsDir() && !live[e.Name()] {
				bad = append(bad, "cgroup "+filepath.Join(parent, e.Name())+" of no running container")
			}
		}
	}
	ports, _ := filepath.Glob("/sys/class/net/" + f.d.Bridge + "/brif/*")
	if want := len(liveIPs); len(ports) > want {
		bad = append(bad, fmt.Sprintf("bridge %s has %d ports for %d running containers: %v", f.d.Bridge, len(ports), want, ports))
	}
	out, _ := exec.Command("iptables", "-w", "-t", "nat", "-S").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, f.d.Chain) || !strings.Contains(line, "--to-destination") {
			continue
		}
		to := line[strings.Index(line, "--to-destination")+len("--to-destination "):]
		ip, _, _ := strings.Cut(strings.Fields(to)[0], ":")
		if !liveIPs[ip] {
			bad = append(bad, "DNAT rule to "+ip+", no running container's address: "+line)
		}
	}
	for _, shim := range shimsUnder(f.d.ExecRoot, f.d.DataRoot) {
		if filepath.Dir(shim) != filepath.Join(f.d.ExecRoot, "containers") || !live[filepath.Base(shim)] {
			bad = append(bad, "a shim still serves "+shim+", no running container's bundle")
		}
	}
	for _, m := range hostMountsUnder(f.d.Dir) {
		if filepath.Dir(m) == filepath.Join(f.d.ExecRoot, "netns") && live[filepath.Base(m)] {
			continue // a running container's network namespace, pinned by a bind mount
		}
		bad = append(bad, "mount "+m+" on the host")
	}
	return bad
}

// shimsUnder lists the bundle directories that running shim processes
// (`minidocker shim`, working in the bundle they serve) serve below the
// given roots (containers' under the exec root, build steps' under the
// data root). A spare shim, not claimed yet, works in / and serves none.
func shimsUnder(roots ...string) []string {
	var bundles []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) != 2 || args[1] != "shim" {
			continue
		}
		bundle, err := os.Readlink(filepath.Join(filepath.Dir(p), "cwd"))
		if err != nil {
			continue
		}
		for _, root := range roots {
			if strings.HasPrefix(bundle, root+"/") {
				bundles = append(bundles, bundle)
			}
		}
	}
	return bundles
}

// hostMountsUnder lists the mount points below dir in the test's own mount
// namespace (containers' overlays live in theirs).
func hostMountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			found = append(found, fields[4])
		}
	}
	slices.Sort(found)
	return found
}

// Issue 10, faults survived: kill -9 of a container's PID 1 and of its
// shim. The daemon notices either: the container is recorded as exited
// (137 for a killed PID 1; 255 when the shim, which keeps the exit code,
// died), no process of it is left, and the restart policy applies.
func TestKill9OfInitAndShim(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, tc := range []struct {
		victim, restart string
		wantExit        int
	}{
		{"init", "no", 137},
		{"init", "always", 137},
		{"shim", "no", 255},
		{"shim", "always", 255},
	} {
		name := tc.victim + "-" + tc.restart
		pid := runTrapping(t, d, name, 0, "--restart", tc.restart)
		target := pid
		if tc.victim == "shim" {
			target = shimOf(t, pid)
		}
		if err := syscall.Kill(target, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 30*time.Second, name+": PID 1 gone", func() bool { return !alive(pid) })
		if tc.restart == "no" {
			testutil.Eventually(t, 30*time.Second, name+": the exit recorded", func() bool {
				status, exit, _ := containerState(t, d, name)
				return status == "exited" && exit == tc.wantExit
			})
		} else {
			testutil.Eventually(t, 30*time.Second, name+": restarted by its policy", func() bool {
				status, _, now := containerState(t, d, name)
				return status == "running" && now != pid && alive(now)
			})
			if n := int(d.Inspect(name)["RestartCount"].(float64)); n < 1 {
				t.Errorf("%s: RestartCount %d after a restart", name, n)
			}
		}
		d.MustCLI("rm", "-f", name)
	}
}

// shimOf is the PID of the shim that holds the container whose PID 1 is
// pid: its parent.
func shimOf(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, _ := strconv.Atoi(fields[1])
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/cmdline")
	if !strings.Contains(string(cmdline), "shim") {
		t.Fatalf("the parent of PID 1 (%d) is %d, not a shim: %q", pid, ppid, cmdline)
	}
	return ppid
}

// The checks of checkConsistent must see what they look for, or the kill -9
// and full-disk tests would pass whatever the daemon left: plant one of
// each leftover and expect each to be reported.
func TestFaultChecksSeeLeftovers(t *testing.T) {
	d := preload.StartDaemon(t)
	f := &faultRig{t: t, d: d}
	if bad := f.inconsistencies(); len(bad) > 0 {
		t.Fatalf("a fresh daemon is inconsistent: %v", bad)
	}
	fakeID := strings.Repeat("ab", 32)
	plants := map[string]string{
		filepath.Join(d.DataRoot, "image", "layers", fakeID): "belongs to no image",
		filepath.Join(d.DataRoot, "image", "tmp", "layer-x"): "image/tmp holds",
		filepath.Join(d.DataRoot, "containers", fakeID):      "no container the daemon lists",
		filepath.Join(d.ExecRoot, "containers", fakeID):      "runtime bundle",
		"/sys/fs/cgroup/pids/" + d.Cgroup + "/" + fakeID:     "cgroup",
	}
	for dir := range plants {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for dir := range plants {
			os.Remove(dir)
		}
	}()
	got := strings.Join(f.inconsistencies(), "\n")
	for dir, want := range plants {
		if !strings.Contains(got, want) {
			t.Errorf("planted %s, but the checks do not report %q:\n%s", dir, want, got)
		}
	}
}

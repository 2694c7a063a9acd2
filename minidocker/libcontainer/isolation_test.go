package libcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

func TestNetworkModes(t *testing.T) {
	a := startSleeper(t, nil)
	aNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", a.shim.Pid))
	if err != nil {
		t.Fatal(err)
	}
	hostNet, _ := os.Readlink("/proc/self/ns/net")

	spec, bundle := newSpec(t, "readlink", "/proc/self/ns/net")
	spec.Network = Network{Mode: "join", NetnsPath: fmt.Sprintf("/proc/%d/ns/net", a.shim.Pid)}
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 || strings.TrimSpace(out) != aNet {
		t.Errorf("join: %q %q %+v, want %s", out, errs, st, aNet)
	}
	spec, bundle = newSpec(t, "readlink", "/proc/self/ns/net")
	spec.Network = Network{Mode: "host"}
	out, _, st = run(t, spec, bundle)
	if st.ExitCode != 0 || strings.TrimSpace(out) != hostNet {
		t.Errorf("host: %q %+v, want %s", out, st, hostNet)
	}
}

func TestUserSpecs(t *testing.T) {
	spec, bundle := newSpec(t, "id")
	spec.Process.User = "1000:10"
	out, _, st := run(t, spec, bundle)
	if st.ExitCode != 0 || out != "uid=1000(user) gid=10(wheel) groups=10(wheel)\n" {
		t.Errorf("-u 1000:10: %q %+v", out, st)
	}
	spec, bundle = newSpec(t, "sh", "-c", "id; echo $HOME; pwd")
	spec.Process.User = "user"
	spec.Process.Cwd = "/work/dir"
	out, _, st = run(t, spec, bundle)
	if st.ExitCode != 0 || out != "uid=1000(user) gid=1000(user) groups=10(wheel),1000(user)\n/home/user\n/work/dir\n" {
		t.Errorf("-u user -w /work/dir: %q %+v", out, st)
	}
	spec, bundle = newSpec(t, "id")
	spec.Process.User = "nosuchuser"
	c := create(t, spec, bundle)
	var se *StartError
	if err := c.start(); !errors.As(err, &se) || !strings.Contains(se.Message, "unable to find user nosuchuser") {
		t.Errorf("unknown user: %v", err)
	}
}

// A start that fails half-way (here: the image layer is missing, so the
// overlay cannot be mounted) leaves nothing behind after Cleanup.
func TestFailedStartLeavesNothing(t *testing.T) {
	spec, bundle := newSpec(t, "true")
	spec.Rootfs.LowerDirs = []string{filepath.Join(t.TempDir(), "missing"), spec.Rootfs.LowerDirs[0]}
	c := create(t, spec, bundle)
	err := c.start()
	var se *StartError
	if !errors.As(err, &se) || se.Code != 125 || !strings.Contains(se.Message, "overlay") {
		t.Fatalf("start: %v", err)
	}
	st := c.wait()
	if st.ExitCode != 125 {
		t.Errorf("exit status %+v", st)
	}
	if err := Cleanup(bundle); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", spec.Cgroup.Parent, spec.Cgroup.Name)); err == nil {
		t.Errorf("cgroup left")
	}
	ents, _ := os.ReadDir(bundle)
	if len(ents) > 2 {
		t.Errorf("bundle: %v", ents)
	}
}

func TestExecTerminal(t *testing.T) {
	c := startSleeper(t, nil)
	var out bytes.Buffer
	e, err := Exec(context.Background(), c.shim.Pid, Process{
		Args: []string{"sh", "-c", "stty size; [ -t 1 ] && echo tty; exit 4"}, Env: c.spec.Process.Env,
		Terminal: true, ConsoleHeight: 33, ConsoleWidth: 111,
	}, ExecIO{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.Wait(context.Background())
	if err != nil || code != 4 || out.String() != "33 111\r\ntty\r\n" {
		t.Errorf("exec -t: %d %v %q", code, err, out.String())
	}
}

func TestResolveUserUnit(t *testing.T) {
	dir := t.TempDir()
	if err := buildBusyboxRootfsEtc(dir); err != nil {
		t.Fatal(err)
	}
	pw, gr := filepath.Join(dir, "etc/passwd"), filepath.Join(dir, "etc/group")
	for _, tc := range []struct {
		spec string
		uid  uint32
		gid  uint32
		grps []uint32
		err  string
	}{
		{"", 0, 0, []uint32{0}, ""},
		{"root", 0, 0, []uint32{0}, ""},
		{"user", 1000, 1000, []uint32{1000, 10}, ""},
		{"1000", 1000, 1000, []uint32{1000, 10}, ""},
		{"4242", 4242, 0, []uint32{0}, ""},
		{"4242:4243", 4242, 4243, []uint32{4243}, ""},
		{"user:wheel", 1000, 10, []uint32{10}, ""},
		{"user:nogroup", 1000, 65534, []uint32{65534}, ""},
		{"nobody:nope", 0, 0, nil, "unable to find group nope"},
		{"ghost", 0, 0, nil, "unable to find user ghost: no matching entries in passwd file"},
	} {
		t.Run(strconv.Quote(tc.spec), func(t *testing.T) {
			u, err := resolveUser(tc.spec, pw, gr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || u.Uid != tc.uid || u.Gid != tc.gid || fmt.Sprint(u.Groups) != fmt.Sprint(tc.grps) {
				t.Errorf("%+v %v, want %d:%d %v", u, err, tc.uid, tc.gid, tc.grps)
			}
		})
	}
}

func TestDevAndSys(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", `ls /dev | tr '\n' ' '; echo; echo x > /dev/null && head -c 4 /dev/zero | wc -c; touch /sys/x 2>/dev/null || echo sys-ro; echo masked $(cat /proc/keys /proc/timer_list /proc/sched_debug 2>/dev/null | wc -c); echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo proc-sys-ro; grep -E '^(sysfs|devpts|shm|proc) ' /proc/mounts | cut -d' ' -f1-4 | cut -d, -f1`)
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 {
		t.Fatalf("%+v %q %q", st, out, errs)
	}
	lines := strings.Split(out, "\n")
	for _, d := range []string{"console", "full", "null", "ptmx", "pts", "random", "shm", "tty", "urandom", "zero", "fd", "stdin", "stdout", "stderr"} {
		if d == "console" {
			continue // only with a terminal
		}
		if !strings.Contains(" "+lines[0], " "+d+" ") {
			t.Errorf("/dev lacks %s: %q", d, lines[0])
		}
	}
	for _, want := range []string{"\n4\n", "sys-ro\n", "masked 0\n", "proc-sys-ro\n", "proc /proc proc rw", "sysfs /sys sysfs ro", "devpts /dev/pts devpts rw", "shm /dev/shm tmpfs rw"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
}

// Containers started in parallel do not disturb each other, and leave
// nothing behind (TestMain checks the cgroups).
func TestParallelContainers(t *testing.T) {
	const n = 8
	type res struct {
		out string
		st  ExitStatus
		err error
	}
	specs := make([]*Spec, n)
	bundles := make([]string, n)
	for i := range specs {
		specs[i], bundles[i] = newSpec(t, "sh", "-c", fmt.Sprintf("echo $$ %d; hostname", i))
	}
	resc := make(chan res, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			if err := WriteSpec(bundles[i], specs[i]); err != nil {
				resc <- res{err: err}
				return
			}
			defer Cleanup(bundles[i])
			ctx := context.Background()
			pid, err := StartShim(ctx, bundles[i])
			if err != nil {
				resc <- res{err: err}
				return
			}
			_ = pid
			s, err := ConnectShim(bundles[i])
			var st ExitStatus
			if err == nil {
				st, err = s.Wait(ctx)
			} else if errors.Is(err, ErrShimGone) {
				st, _, err = ReadExitStatus(bundles[i])
			}
			log, _ := os.ReadFile(specs[i].LogPath)
			resc <- res{out: string(log), st: st, err: err}
		}(i)
	}
	for i := 0; i < n; i++ {
		r := <-resc
		if r.err != nil || r.st.ExitCode != 0 || !strings.Contains(r.out, `{"log":"1 `) || !strings.Contains(r.out, `"log":"ctr-c`) {
			t.Errorf("parallel container: %+v %v %q", r.st, r.err, r.out)
		}
	}
}

func TestCapabilities(t *testing.T) {
	c := startSleeper(t, nil)
	// docker's default set, in PID 1 and in an exec
	const want = "CapBnd:\t00000000a80425fb"
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.shim.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), want) || !strings.Contains(string(b), "CapEff:\t00000000a80425fb") {
		t.Errorf("PID 1's capabilities: %s", b)
	}
	out, _, code, err := execOut(t, c, Process{Args: []string{"sh", "-c", "grep -E '^Cap(Bnd|Eff|Prm|Inh)' /proc/self/status; mount -t tmpfs none /mnt 2>&1; echo $?"}})
	if err != nil || code != 0 {
		t.Fatal(code, err)
	}
	if !strings.Contains(out, "CapEff:\t00000000a80425fb") || !strings.Contains(out, want) || !strings.Contains(out, "CapInh:\t0000000000000000") {
		t.Errorf("exec's capabilities: %q", out)
	}
	if !strings.HasSuffix(out, "\n1\n") && !strings.HasSuffix(out, "\n255\n") {
		t.Errorf("mount worked without CAP_SYS_ADMIN: %q", out)
	}
	// the host's thread that made the exec kept its capabilities
	self, _ := os.ReadFile("/proc/self/status")
	if strings.Contains(string(self), "CapEff:\t00000000a80425fb") {
		t.Errorf("the caller lost its capabilities")
	}
}

// Many layers with long paths: the overlay's options overflow a page.
func TestManyLayers(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "cat /layer-*.txt | wc -l; cat /layer-0.txt")
	base := t.TempDir()
	long := strings.Repeat("d", 60) // like a sha256 layer id
	var lowers []string
	for i := 0; i < 60; i++ {
		dir := filepath.Join(base, fmt.Sprintf("%s-%03d", long, i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("layer-%d.txt", i)), []byte(fmt.Sprintf("layer %d\n", i)), 0o644)
		lowers = append(lowers, dir)
	}
	// the busybox layer at the bottom, in the same store (a symlink)
	bb := filepath.Join(base, long+"-busybox")
	if err := os.Symlink(spec.Rootfs.LowerDirs[0], bb); err != nil {
		t.Fatal(err)
	}
	spec.Rootfs.LowerDirs = append(lowers, bb)
	if n := len(strings.Join(spec.Rootfs.LowerDirs, ":")); n <= maxMountData {
		t.Fatalf("only %d bytes of lowerdir: not a test of the overflow", n)
	}
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 || out != "60\nlayer 0\n" {
		t.Errorf("%+v %q %q", st, out, errs)
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// The daemon's side must not leak file descriptors or goroutines: a
// daemon runs thousands of containers.
func TestNoLeaksInTheCaller(t *testing.T) {
	busyboxRootfs(t)
	run1 := func(i int) {
		spec, bundle := newSpec(t, "sh", "-c", "cat; echo out")
		spec.Process.OpenStdin, spec.Process.StdinOnce = true, true
		spec.Process.Terminal = i%2 == 1
		spec.Mounts = []Mount{{Source: t.TempDir(), Destination: "/data", ReadOnly: i%3 == 0}}
		spec.Cgroup.Resources.Memory = 64 << 20
		if err := WriteSpec(bundle, spec); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		s, err := CreateShim(ctx, bundle)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := s.Attach(ctx, true, true, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		var o testutil.SyncBuffer // stdout and stderr are copied at once
		e, err := Exec(ctx, s.Pid, Process{Args: []string{"echo", "x"}, Env: spec.Process.Env, Terminal: i%2 == 0}, ExecIO{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &o})
		if err != nil {
			t.Fatal(err)
		}
		if code, err := e.Wait(ctx); err != nil || code != 0 {
			t.Fatal(code, err)
		}
		if spec.Process.Terminal {
			conn.Write([]byte{4})
		} else {
			conn.(*net.UnixConn).CloseWrite()
		}
		if st, err := s.Wait(ctx); err != nil || st.ExitCode != 0 {
			t.Fatal(st, err)
		}
		conn.Close()
		if err := Cleanup(bundle); err != nil {
			t.Fatal(err)
		}
	}
	run1(0) // warm up (lazy runtime state)
	fds, gs := countFDs(t), runtime.NumGoroutine()
	for i := 1; i <= 12; i++ {
		run1(i)
	}
	// goroutines end a moment after their work (reapers, copiers)
	for i := 0; i < 100 && runtime.NumGoroutine() > gs; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := countFDs(t); n > fds {
		t.Errorf("file descriptors: %d before, %d after", fds, n)
	}
	if n := runtime.NumGoroutine(); n > gs {
		t.Errorf("goroutines: %d before, %d after", gs, n)
	}
}

// TestExecNeverPutsTheCallerInTheCgroup: no thread of the caller (the
// daemon) is ever in the container's cgroup, not even while an exec
// forks. Were it listed in the container's cgroup.procs for an instant,
// the shim's KillAll at PID 1's death (or an OOM kill) would hit the
// daemon. A reader polls cgroup.procs for the whole run of the execs.
func TestExecNeverPutsTheCallerInTheCgroup(t *testing.T) {
	spec, bundle := newSpec(t, "sleep", "100")
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pid, err := StartShim(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer Cleanup(bundle)
	cg, err := cgroups.Load(spec.Cgroup.Parent, spec.Cgroup.Name)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	seen := make(chan int, 1) // the reads that listed the caller
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				seen <- n
				return
			default:
			}
			if procs, err := cg.Procs(); err == nil && slices.Contains(procs, os.Getpid()) {
				n++
			}
		}
	}()
	for i := 0; i < 50; i++ {
		e, err := Exec(ctx, pid, Process{Args: []string{"true"}, Env: spec.Process.Env}, ExecIO{})
		if err != nil {
			t.Fatal(err)
		}
		if code, err := e.Wait(ctx); err != nil || code != 0 {
			t.Fatal(code, err)
		}
	}
	close(stop)
	if n := <-seen; n > 0 {
		t.Fatalf("the caller (pid %d) was listed in the container's cgroup.procs by %d reads during 50 execs", os.Getpid(), n)
	}
	if err := cg.KillAll(); err != nil {
		t.Fatal(err)
	}
}

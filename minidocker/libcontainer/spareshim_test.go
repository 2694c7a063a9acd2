package libcontainer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// A spare shim started ahead of need holds the container it is claimed
// for, SpareShims starts the next one, and a spare nobody claimed exits
// once its holder lets go (the EOF a daemon's death gives it, too).
func TestSpareShimsClaimAndLetGo(t *testing.T) {
	spec, bundle := newSpec(t, "true")
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	p := NewSpareShims()
	defer p.Close()
	first := readySpare(t, p, nil)
	ctx := context.Background()
	s, err := p.CreateShim(ctx, bundle)
	if err != nil {
		t.Fatalf("CreateShim: %v", err)
	}
	defer Cleanup(bundle)
	if pid := readPidFile(bundleFile(bundle, ShimPidFile)); pid != first.cmd.Process.Pid {
		t.Errorf("the container's shim is %d, not the spare %d", pid, first.cmd.Process.Pid)
	}
	if !shimAlive(bundle) {
		t.Errorf("the claimed spare is not known as the bundle's shim")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Wait(ctx); err != nil || st.ExitCode != 0 {
		t.Fatalf("Wait: %v %v", st, err)
	}
	p.Refill()
	readySpare(t, p, first)
	next := p.take()
	next.discard()
	select {
	case <-next.exited:
		if !next.cmd.ProcessState.Success() {
			t.Errorf("the spare let go ended with %v, want exit 0", next.cmd.ProcessState)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the spare %d still runs after its holder let go", next.cmd.Process.Pid)
	}
}

// readySpare waits (bounded) until p has a spare other than not.
func readySpare(t *testing.T, p *SpareShims, not *spareShim) *spareShim {
	t.Helper()
	for i := 0; i < 1000; i++ {
		p.mu.Lock()
		sp := p.spare
		p.mu.Unlock()
		if sp != nil && sp != not {
			return sp
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no spare shim was started within 10s")
	return nil
}

// A spare shim's init, started before any container was known, becomes
// the container's PID 1 when the spec's namespaces are its own. It can
// still join a network namespace made after it was born (the bridge's is
// a bind mount its mount namespace never saw: the shim sends it as an
// fd). A spec it does not fit (--net host) gets an init started as
// before, and the spare init is ended, not left behind.
func TestSpareInitIsClaimedOrDiscarded(t *testing.T) {
	testutil.RequireRoot(t)
	p := NewSpareShims()
	defer p.Close()
	sp := readySpare(t, p, nil)
	spareInit := spareInitOfShim(t, sp.cmd.Process.Pid)

	netns := fmt.Sprintf("md-spare-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", netns).Run()
	var want unix.Stat_t
	if err := unix.Stat("/run/netns/"+netns, &want); err != nil {
		t.Fatal(err)
	}
	spec, bundle := newSpec(t, "readlink", "/proc/self/ns/net")
	spec.Network = Network{Mode: "join", NetnsPath: "/run/netns/" + netns}
	out, pid1 := runOn(t, p, spec, bundle)
	if pid1 != spareInit {
		t.Errorf("PID 1 is %d, not the spare init %d", pid1, spareInit)
	}
	if got := strings.TrimSpace(out); got != fmt.Sprintf("net:[%d]", want.Ino) {
		t.Errorf("the container's netns is %s, want the joined net:[%d]", got, want.Ino)
	}

	sp = readySpare(t, p, sp)
	spareInit = spareInitOfShim(t, sp.cmd.Process.Pid)
	spec, bundle = newSpec(t, "true")
	spec.Network = Network{Mode: "host"}
	if _, pid1 = runOn(t, p, spec, bundle); pid1 == spareInit {
		t.Errorf("a --net host container got the spare init %d, born in a netns of its own", pid1)
	}
	testutil.Eventually(t, 10*time.Second, "the unused spare init ends", func() bool { return !processExists(spareInit) })
}

// runOn runs spec on a shim of p and returns its stdout and PID 1.
func runOn(t *testing.T, p *SpareShims, spec *Spec, bundle string) (string, int) {
	t.Helper()
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := p.CreateShim(ctx, bundle)
	if err != nil {
		t.Fatalf("CreateShim: %v", err)
	}
	defer p.Refill()
	defer Cleanup(bundle)
	c := &testContainer{t: t, bundle: bundle, spec: spec, shim: s}
	conn, err := s.Attach(ctx, false, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out, errb bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- demux(conn, &out, &errb) }()
	if err := c.start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	if st := c.wait(); st.ExitCode != 0 {
		t.Fatalf("exit %+v, stderr %q", st, errb.String())
	}
	<-done
	return out.String(), s.Pid
}

// spareInitOfShim waits (bounded) for the spare init a spare shim starts:
// its child "init spare" (children are listed per thread).
func spareInitOfShim(t *testing.T, shim int) int {
	t.Helper()
	for i := 0; i < 1000; i++ {
		lists, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", shim))
		for _, l := range lists {
			b, _ := os.ReadFile(l)
			for _, f := range strings.Fields(string(b)) {
				cmd, _ := os.ReadFile("/proc/" + f + "/cmdline")
				if strings.HasSuffix(string(cmd), "\x00init\x00spare\x00") {
					pid, _ := strconv.Atoi(f)
					return pid
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the spare shim %d started no spare init within 10s", shim)
	return 0
}

// processExists says whether pid is a live process (not a zombie).
func processExists(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

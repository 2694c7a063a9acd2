package libcontainer

import (
	"context"
	"testing"
	"time"
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

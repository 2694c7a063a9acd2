package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// TestTracePhases prints where a container's start-up time goes with
// _MINIDOCKER_TRACE=1 go test -run TracePhases -v (the shim's and init's
// own steps too); without it, it only shows the client's view.
func TestTracePhases(t *testing.T) {
	spec, bundle := newSpec(t, "true")
	if m := os.Getenv("RTTEST_NET"); m != "" {
		spec.Network.Mode = m
	}
	WriteSpec(bundle, spec)
	ctx := context.Background()
	t.Logf("%s client: CreateShim", time.Now().Format("15:04:05.000000"))
	s, err := CreateShim(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s client: Start", time.Now().Format("15:04:05.000000"))
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s client: Wait", time.Now().Format("15:04:05.000000"))
	if st, err := s.Wait(ctx); err != nil || st.ExitCode != 0 {
		t.Fatal(st, err)
	}
	t.Logf("%s client: Cleanup", time.Now().Format("15:04:05.000000"))
	b, _ := os.ReadFile(filepath.Join(bundle, ShimLogFile))
	l, _ := os.ReadFile(spec.LogPath)
	b = append(b, l...)
	Cleanup(bundle)
	t.Logf("%s client: done\n%s", time.Now().Format("15:04:05.000000"), b)
}

// As runc's create does, a created container has its root built before
// the start: init has pivoted into it while it waits for "go" (its root
// is no longer the host's), and the CMD has not run (no process but init
// in the container). A failure before "go" still reaches the start.
func TestRootIsBuiltBeforeTheStart(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "echo ran")
	c := create(t, spec, bundle)
	var host unix.Stat_t
	if err := unix.Stat("/", &host); err != nil {
		t.Fatal(err)
	}
	root := fmt.Sprintf("/proc/%d/root/", c.shim.Pid)
	testutil.Eventually(t, 10*time.Second, "init's root is the container's before the start", func() bool {
		var st unix.Stat_t
		return unix.Stat(root, &st) == nil && (st.Dev != host.Dev || st.Ino != host.Ino)
	})
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.shim.Pid)); !strings.Contains(string(cmd), "init") {
		t.Errorf("PID 1 is %q before the start, want the waiting init", cmd)
	}
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	if st := c.wait(); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}

	spec, bundle = newSpec(t, "true")
	spec.Mounts = []Mount{{Source: "/no/such/source", Destination: "/mnt"}}
	c = create(t, spec, bundle)
	err := c.start()
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "/no/such/source") {
		t.Fatalf("a mount that fails before go: start says %v, want its StartError", err)
	}
}

package libcontainer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
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

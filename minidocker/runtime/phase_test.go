package runtime

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTracePhases prints where a container's start-up time goes
// (_MINIDOCKER_TRACE=1 go test -run TracePhases -v).
func TestTracePhases(t *testing.T) {
	if !traceOn {
		t.Skip("set _MINIDOCKER_TRACE=1")
	}
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
	s.Wait(ctx)
	t.Logf("%s client: Cleanup", time.Now().Format("15:04:05.000000"))
	b, _ := os.ReadFile(filepath.Join(bundle, ShimLogFile))
	l, _ := os.ReadFile(spec.LogPath)
	b = append(b, l...)
	Cleanup(bundle)
	t.Logf("%s client: done\n%s", time.Now().Format("15:04:05.000000"), b)
}

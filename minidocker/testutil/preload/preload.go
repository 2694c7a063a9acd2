package preload

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// StartDaemon is testutil.StartDaemon with busybox:latest already in the
// daemon's image store when it starts.
func StartDaemon(t testing.TB, extraArgs ...string) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t, extraArgs...)
	Busybox(t, d)
	d.StartWithCleanup()
	return d
}

// Busybox loads testutil.BusyboxTar as busybox:latest into the image store
// of d, a daemon that has not started yet.
func Busybox(t testing.TB, d *testutil.Daemon) {
	t.Helper()
	s, err := image.Open(filepath.Join(d.DataRoot, "image"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(testutil.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.Load(context.Background(), f, nil); err != nil {
		t.Fatalf("loading busybox: %v", err)
	}
}

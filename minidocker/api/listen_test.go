package api

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// TestListenSocketRules: Listen creates its directory and a 0660 socket,
// refuses a socket a live daemon still answers on (without breaking it),
// and replaces the stale file a crashed daemon left behind.
func TestListenSocketRules(t *testing.T) {
	testutil.RequireRoot(t) // the socket is chowned to root:minidocker
	path := filepath.Join(t.TempDir(), "run", "d.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen on a fresh path: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket %s: %v, mode %v; want a socket, mode 0660", path, err, fi.Mode())
	}
	if l2, err := Listen(path); err == nil || !strings.Contains(err.Error(), "already listening") {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Listen on a live socket = %v, want an 'already listening' refusal", err)
	}
	if c, err := net.Dial("unix", path); err != nil {
		t.Fatalf("the live daemon's socket was broken by the refused Listen: %v", err)
	} else {
		c.Close()
	}
	// a crash leaves the socket file behind, with nobody listening
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket file: %v", err)
	}
	l.Close()
}

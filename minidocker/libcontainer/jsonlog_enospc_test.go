package libcontainer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Issue 10, faults survived (a full disk): a log write that the file
// system cut short (ENOSPC after part of the line) left half a JSON line in
// the log, and the next entry, appended to that half, was unreadable too:
// the first line a container printed once space was back went missing from
// `logs`. A short write is now undone, so the log only ever holds whole
// entries.
func TestLogWriterOnAFullDisk(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs: %v\n%s", err, out)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	w, err := OpenLogWriter(filepath.Join(dir, "c-json.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 40<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	// Entries of 1000 bytes do not divide the file system's pages: the one
	// that meets the end of the space is written in part.
	line := strings.Repeat("x", 1000) + "\n"
	full := false
	for i := 0; i < 100 && !full; i++ {
		err := w.WriteEntry("stdout", []byte(line), time.Now())
		if err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatal(err)
		}
		full = err != nil
	}
	if !full {
		t.Fatal("the 64k tmpfs never filled up")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEntry("stdout", []byte("after\n"), time.Now()); err != nil {
		t.Fatal(err)
	}
	var last string
	var damaged int
	err = ReadLog(context.Background(), filepath.Join(dir, "c-json.log"), LogOptions{Tail: -1}, func(e LogEntry) error {
		last = string(e.Log)
		if string(e.Log) != line && string(e.Log) != "after\n" {
			damaged++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != "after\n" || damaged > 0 {
		if len(last) > 20 {
			last = last[:20] + "…"
		}
		t.Fatalf("after the disk filled and space came back: last entry %q (want \"after\\n\"), %d damaged entries", last, damaged)
	}
}

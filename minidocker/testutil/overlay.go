package testutil

import (
	"os"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// MountOverlay mounts layer directories (top first) as a read-only overlay,
// the view a container would get, and unmounts it when t ends.
func MountOverlay(t testing.TB, lower []string) string {
	t.Helper()
	m := t.TempDir()
	if len(lower) == 1 { // overlayfs wants two lowerdirs when there is no upper
		lower = append(lower, t.TempDir())
	}
	if err := unix.Mount("overlay", m, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":")); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(m, unix.MNT_DETACH) })
	return m
}

// ListDir returns the sorted names in directory p, joined by commas.
func ListDir(t testing.TB, p string) string {
	t.Helper()
	ents, err := os.ReadDir(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

package rootpath

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestResolve: paths are resolved as if the tree were "/": absolute links
// and ".." stop at its top, relative links resolve from their directory,
// a final link is followed only when asked, missing parts are kept, and a
// loop ends in ELOOP.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"etc", "usr/lib", "var/lib/app"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"lib":              "usr/lib",     // relative, from the top
		"usr/lib/up":       "../../etc",   // relative, climbing
		"abs":              "/var/lib",    // absolute: from the tree's top
		"escape":           "../../../..", // may not leave the tree
		"var/lib/app/root": "/",
		"loop1":            "loop2",
		"loop2":            "loop1",
		"etc/passwd":       "/etc/shadow", // a final link
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct {
		path   string
		follow bool
		want   string
	}{
		{"/", true, "."},
		{"", true, "."},
		{"/etc/../../..", true, "."},
		{"lib/x", true, "usr/lib/x"},
		{"/lib/up/hosts", true, "etc/hosts"},
		{"abs/app", true, "var/lib/app"},
		{"escape/etc", true, "etc"},
		{"var/lib/app/root/etc", true, "etc"},
		{"/etc/passwd", false, "etc/passwd"},
		{"/etc/passwd", true, "etc/shadow"},
		{"lib", false, "lib"},
		{"lib", true, "usr/lib"},
		{"no/such/dir/file", true, "no/such/dir/file"},
		{"./etc//./x/..", true, "etc"},
	} {
		got, err := Resolve(root, tc.path, tc.follow)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q, follow=%v) = %q, %v; want %q", tc.path, tc.follow, got, err, tc.want)
		}
	}
	if _, err := Resolve(root, "loop1/x", true); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("a symlink loop: %v, want ELOOP", err)
	}
}

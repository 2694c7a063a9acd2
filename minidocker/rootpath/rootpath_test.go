package rootpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// newTree makes a directory with the given subdirectories and symlinks
// (name → target) and opens it as an os.Root.
func newTree(t *testing.T, dirs []string, links map[string]string) *os.Root {
	t.Helper()
	dir := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
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
	t.Cleanup(func() { root.Close() })
	return root
}

// TestResolve: paths are resolved as if the tree were "/": absolute links
// and ".." stop at its top, relative links resolve from their directory,
// a final link is followed only when asked, missing parts are kept, and a
// loop ends in ELOOP. Whatever the links say, the answer never leaves the
// tree (no result starts with "..").
func TestResolve(t *testing.T) {
	root := newTree(t, []string{"etc", "usr/lib", "var/lib/app", "deep/a/b/c"}, map[string]string{
		"lib":               "usr/lib",     // relative, from the top
		"usr/lib/up":        "../../etc",   // relative, climbing
		"abs":               "/var/lib",    // absolute: from the tree's top
		"escape":            "../../../..", // may not leave the tree
		"var/lib/app/root":  "/",
		"loop1":             "loop2",
		"loop2":             "loop1",
		"self":              "self",
		"etc/passwd":        "/etc/shadow", // a final link
		"host":              "/proc/1/root/etc",
		"deep/a/b/c/out":    "../../../../../../../etc", // more ".." than depth
		"chain1":            "deep/a/b/c/chain2",
		"deep/a/b/c/chain2": "/../../../var/../etc", // ".." above the top inside an absolute link
		"dotdotlink":        "usr/lib/up/../../var", // ".." after a followed link
	})
	tests := []struct {
		name   string
		path   string
		follow bool
		want   string
	}{
		{"the top", "/", true, "."},
		{"empty", "", true, "."},
		{"dotdot stops at the top", "/etc/../../..", true, "."},
		{"relative link", "lib/x", true, "usr/lib/x"},
		{"relative link climbing", "/lib/up/hosts", true, "etc/hosts"},
		{"absolute link starts at the top", "abs/app", true, "var/lib/app"},
		{"relative escape is clamped", "escape/etc", true, "etc"},
		{"link to / is the tree's top", "var/lib/app/root/etc", true, "etc"},
		{"final link kept", "/etc/passwd", false, "etc/passwd"},
		{"final link followed", "/etc/passwd", true, "etc/shadow"},
		{"final dir link kept", "lib", false, "lib"},
		{"final dir link followed", "lib", true, "usr/lib"},
		{"missing parts kept", "no/such/dir/file", true, "no/such/dir/file"},
		{"dots and slashes", "./etc//./x/..", true, "etc"},
		{"absolute link to a host path stays inside", "host/shadow", true, "proc/1/root/etc/shadow"},
		{"deep relative escape", "deep/a/b/c/out/hosts", true, "etc/hosts"},
		{"chain of links with an absolute escape", "chain1/hosts", true, "etc/hosts"},
		{"dotdot inside a link target", "dotdotlink/lib", true, "var/lib"},
		{"dotdot after a link is taken from the target", "lib/../bin", true, "usr/bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(root, tc.path, tc.follow)
			if err != nil || got != tc.want {
				t.Fatalf("Resolve(%q, follow=%v) = %q, %v; want %q", tc.path, tc.follow, got, err, tc.want)
			}
			if got == ".." || strings.HasPrefix(got, "../") || filepath.IsAbs(got) {
				t.Fatalf("Resolve(%q) = %q leaves the tree", tc.path, got)
			}
		})
	}
	for _, loop := range []string{"loop1/x", "self", "self/x"} {
		t.Run("loop "+loop, func(t *testing.T) {
			_, err := Resolve(root, loop, true)
			var pe *fs.PathError
			if !errors.Is(err, syscall.ELOOP) || !errors.As(err, &pe) {
				t.Fatalf("Resolve(%q) = %v, want a PathError with ELOOP", loop, err)
			}
		})
	}
}

// TestResolveLeavesAFinalLoopAlone: without following the last component a
// looping link is just a name (cp copies the link itself).
func TestResolveLeavesAFinalLoopAlone(t *testing.T) {
	root := newTree(t, nil, map[string]string{"self": "self"})
	if got, err := Resolve(root, "self", false); err != nil || got != "self" {
		t.Fatalf("Resolve(self, follow=false) = %q, %v; want %q", got, err, "self")
	}
}

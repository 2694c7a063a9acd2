package doctest

import (
	"strings"
	"testing"
)

// The masks hide what changes between runs, and only that.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"5d788f8f903b", "0123456789ab", true},
		{"abc 2 seconds ago 4.2MB", "abc About a minute ago 12kB", true},
		{"80/tcp -> 0.0.0.0:32768", "80/tcp -> 0.0.0.0:41234", true},
		{"Exited (0)", "Exited (1)", false},
		{"... sleep 100000", "  4242  4240 sleep 100000", true},
		{"a\n...\nz", "a\nb\nc\nz", true},
		{"a\n...\nz", "a\nb", false},
		{"hello", "hello\nextra", false},
	} {
		got := Match(strings.Split(c.want, "\n"), strings.Split(c.got, "\n")) == ""
		if got != c.ok {
			t.Errorf("Match(%q, %q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

// Directives attach to the next fence, across blank lines only.
func TestParse(t *testing.T) {
	md := "<!-- doctest: setup\nminidocker run -d --name b busybox\n-->\n\n<!-- doctest: files a b/ -->\n```console\n$ ls\na\nb\n```\ntext\n<!-- doctest: fails -->\nprose\n```dockerfile\nFROM x\n```\n"
	blocks := Parse("x.md", md)
	if len(blocks) != 2 {
		t.Fatalf("%d blocks", len(blocks))
	}
	if got := SetupCommands(blocks[0]); len(got) != 1 || got[0] != "minidocker run -d --name b busybox" {
		t.Errorf("setup %q", got)
	}
	if got := Files(blocks[0]); strings.Join(got, ",") != "a,b/" {
		t.Errorf("files %q", got)
	}
	if blocks[1].Has("fails") {
		t.Error("prose between a directive and a fence must detach it")
	}
	if s := Steps(blocks[0].Body); len(s) != 1 || s[0].Command != "ls" || len(s[0].Output) != 2 {
		t.Errorf("steps %+v", s)
	}
}

// A function named next to a file must be declared there.
func TestCheckLineFunctions(t *testing.T) {
	repo := "../.."
	if bad := checkLine(repo, ".", "read `startInNetns` in `minidocker/libcontainer/shim_linux.go`"); len(bad) != 0 {
		t.Errorf("a real function was refused: %v", bad)
	}
	if bad := checkLine(repo, ".", "read `(*shim).nosuch`, `startInNetns` in `minidocker/libcontainer/shim_linux.go`"); len(bad) != 1 {
		t.Errorf("a missing method was not found: %v", bad)
	}
	if bad := checkLine(repo, ".", "see [it](../../../elsewhere.md) and `minidocker/nosuch.go`"); len(bad) != 2 {
		t.Errorf("an outside link and a missing file: %v", bad)
	}
}

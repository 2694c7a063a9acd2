package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// testIDFiles writes account files for the --userns-remap parsing tests.
func testIDFiles(t *testing.T, subuid string) idFiles {
	t.Helper()
	dir := t.TempDir()
	f := idFiles{filepath.Join(dir, "passwd"), filepath.Join(dir, "group"), filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")}
	for path, content := range map[string]string{
		f.passwd: "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
		f.group:  "root:x:0:\nalice:x:1000:\nstaff:x:50:\n",
		f.subuid: subuid, f.subgid: subuid,
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// --userns-remap's values resolve as dockerd resolves them, with its
// words for the ones it refuses.
func TestParseRemappedRoot(t *testing.T) {
	f := testIDFiles(t, "")
	for _, tc := range []struct{ value, user, group, err string }{
		{"alice", "alice", "alice", ""},
		{"alice:staff", "alice", "staff", ""},
		{"1000", "alice", "alice", ""},
		{"1000:50", "alice", "staff", ""},
		{"bob", "", "", `Error during gid lookup for "bob": no matching entries in group file`},
		{"carol", "", "", `Error during uid lookup for "carol": no matching entries in passwd file`},
		{"4242", "", "", "Uid 4242 has no entry in /etc/passwd"},
		{"1001", "", "", "Gid 1001 has no entry in /etc/group"},
		{"a:b:c", "", "", `Invalid user/group specification in --userns-remap: "a:b:c"`},
		{"root", "", "", "cannot use root as --userns-remap user: the containers' root would be the host's"},
	} {
		u, g, err := parseRemappedRoot(tc.value, f)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || u != tc.user || g != tc.group {
			t.Errorf("%q: %q %q %v, want %q %q", tc.value, u, g, err, tc.user, tc.group)
		}
	}
}

// A user's ranges become the maps, one after the other from 0; a range
// made for dockremap starts past every existing one, and only once.
func TestSubordinateRanges(t *testing.T) {
	f := testIDFiles(t, "alice:100000:65536\n1000:300000:10\nbob:165536:65536")
	ns, err := loadIDMaps("alice", f)
	if err != nil {
		t.Fatal(err)
	}
	want := []libcontainer.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 300000, Size: 10}}
	if len(ns.UIDMap) != 2 || ns.UIDMap[0] != want[0] || ns.UIDMap[1] != want[1] || ns.RootUID() != 100000 || ns.RootGID() != 100000 {
		t.Errorf("alice's maps: %+v %+v", ns.UIDMap, ns.GIDMap)
	}
	if _, err := loadIDMaps("root", f); err == nil || err.Error() != `No subuid ranges found for user "root"` {
		t.Errorf("a user without ranges: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := ensureSubordinateRange(f.subuid, "dockremap"); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(f.subuid)
	if string(b) != "alice:100000:65536\n1000:300000:10\nbob:165536:65536\ndockremap:300010:65536\n" {
		t.Errorf("subuid after making dockremap's range twice: %q", b)
	}
}

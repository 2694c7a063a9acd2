package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// TestNamespacedCapabilityIsMappedBack: the capability a remapped root
// writes (revision 3, naming host uid 100000 as its root) leaves in an
// archive written with the remapping's MapIDs as the plain revision 2
// value an image carries, so that it applies wherever the image runs; a
// root the maps do not cover keeps its revision 3 value, and without MapIDs
// the bytes are the disk's.
func TestNamespacedCapabilityIsMappedBack(t *testing.T) {
	testutil.RequireRoot(t)
	const netRaw = 1 << 13
	v3 := func(rootid uint32) []byte {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint32(b, 0x03000001) // revision 3, effective
		binary.LittleEndian.PutUint32(b[4:], netRaw)
		binary.LittleEndian.PutUint32(b[20:], rootid)
		return b
	}
	v2 := v3(0)[:20]
	binary.LittleEndian.PutUint32(v2, 0x02000001)
	fromRange := func(uid, gid int) (int, int) { // 100000..165535 → 0..65535
		if uid >= 100000 && uid < 165536 {
			uid -= 100000
		}
		return uid, gid
	}
	for _, tc := range []struct {
		name   string
		onDisk []byte
		mapIDs func(uid, gid int) (int, int)
		want   []byte
	}{
		{"remapped root", v3(100000), fromRange, v2},
		{"another uid of the range", v3(100007), fromRange, v3(7)},
		{"a root outside the range", v3(300000), fromRange, v3(300000)},
		{"no remapping", v3(100000), nil, v3(100000)},
		{"plain capability", v2, fromRange, v2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "ping")
			if err := os.WriteFile(p, []byte("x"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Setxattr(p, "security.capability", tc.onDisk, 0); err != nil {
				t.Fatal(err)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			var buf bytes.Buffer
			if err := archive.WriteTree(context.Background(), root, ".", &buf, archive.WriteOptions{MapIDs: tc.mapIDs}); err != nil {
				t.Fatal(err)
			}
			got := capabilityInTar(t, buf.Bytes(), "ping")
			if !bytes.Equal(got, tc.want) {
				t.Errorf("capability in the archive % x, want % x", got, tc.want)
			}
		})
	}
}

func capabilityInTar(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s is not in the archive", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Clean(hdr.Name) == name {
			return []byte(hdr.PAXRecords["SCHILY.xattr.security.capability"])
		}
	}
}

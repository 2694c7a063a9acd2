package coreoperations

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Step 8: copy-up. A container's / is an overlay: the image's layers below,
// read-only, and the container's own upper directory on top. Reading a file
// of the image costs nothing; the first *write* to it makes overlayfs copy
// the whole file up into the upper directory, even to append one byte. The
// lab measures it with a 32 MiB file: absent from the upper directory
// before, all 32 MiB there after `echo x >> /big`, and the image's copy
// untouched.
func TestOverlayCopyUp(t *testing.T) {
	const size = 32 << 20
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	r := d.CLIInput("FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=32\n", "build", "-q", "-t", "copyup:1", "-")
	require.Equal(t, 0, r.Code, r.Combined())
	d.MustCLI("run", "-d", "--name", "ov", "copyup:1", "sleep", "100000")
	data := d.Inspect("ov")["GraphDriver"].(map[string]any)["Data"].(map[string]any)
	upper := data["UpperDir"].(string)

	_, err := os.Stat(filepath.Join(upper, "big"))
	require.True(t, os.IsNotExist(err), "before any write the file lives only in the image's layer")
	assert.Equal(t, "33554432\n", d.MustCLI("exec", "ov", "stat", "-c", "%s", "/big"), "reading it needs no copy")
	before := diskUsage(t, upper)

	start := time.Now()
	d.MustCLI("exec", "ov", "sh", "-c", "echo x >> /big")
	first := time.Since(start)
	start = time.Now()
	d.MustCLI("exec", "ov", "sh", "-c", "echo x >> /big")
	second := time.Since(start)

	st, err := os.Stat(filepath.Join(upper, "big"))
	require.NoError(t, err, "the first write copied the file up")
	assert.Equal(t, int64(size+4), st.Size())
	after := diskUsage(t, upper)
	assert.GreaterOrEqual(t, after-before, int64(size), "the whole file, not the appended bytes, now takes space in the upper directory")
	for _, lower := range strings.Split(data["LowerDir"].(string), ":") {
		if st, err := os.Stat(filepath.Join(lower, "big")); err == nil {
			assert.Equal(t, int64(size), st.Size(), "the image's copy is untouched")
		}
	}
	t.Logf("upper directory: %d KiB before, %d KiB after; first append %v (copy-up), second %v", before>>10, after>>10, first, second)
}

// diskUsage is the space the files below dir occupy (st_blocks, as du).
func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil {
			total += fi.Sys().(*syscall.Stat_t).Blocks * 512
		}
		return nil
	})
	require.NoError(t, err)
	return total
}

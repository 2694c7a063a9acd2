package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	require.NoError(t, Write(path, []byte("old"), Options{}))
	require.NoError(t, Write(path, []byte("new"), Options{Perm: 0o644, Sync: true, SyncDir: true}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temp file is left")
}

func TestWriteInOtherTempDirAndFailure(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	require.NoError(t, os.Mkdir(tmp, 0o700))
	path := filepath.Join(dir, "a")
	require.NoError(t, Write(path, []byte("x"), Options{TempDir: tmp}))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "default mode")

	err = Write(filepath.Join(dir, "missing", "b"), []byte("x"), Options{TempDir: tmp})
	require.Error(t, err, "rename into a missing directory fails")
	entries, _ := os.ReadDir(tmp)
	assert.Empty(t, entries, "the temp file is removed on failure")
}

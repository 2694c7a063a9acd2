package atomicfile

import (
	"os"
	"path/filepath"
)

// Options say how durable a Write is and where its temp file lives.
type Options struct {
	Perm    os.FileMode // mode of the new file; 0 means 0600
	Sync    bool        // fsync the data before the rename: the content survives a power loss
	SyncDir bool        // also fsync the directory: the rename itself survives a power loss
	TempDir string      // where the temp file is made ("" = path's directory); must be on path's filesystem
}

// Write makes path hold exactly data. Without Sync a crash of the process
// (even kill -9) is still safe, since the page cache survives it; only a
// power loss can then lose the newest content.
func Write(path string, data []byte, o Options) error {
	dir := o.TempDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	perm := o.Perm
	if perm == 0 {
		perm = 0o600
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = writeAndClose(f, data, perm, o.Sync)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if o.SyncDir {
		return SyncDir(filepath.Dir(path))
	}
	return nil
}

func writeAndClose(f *os.File, data []byte, perm os.FileMode, sync bool) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory, making the renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

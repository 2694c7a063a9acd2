package registry

import (
	"errors"
	"fmt"
	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// store is the registry's disk. Layout under Root:
//
//	blobs/<algo>/<hex>                     blob bytes, shared by every repository
//	repos/<name>/_blobs/<algo>/<hex>       empty file: <name> may read that blob
//	repos/<name>/_manifests/<algo>/<hex>   "<media type>\n" + manifest bytes
//	repos/<name>/_tags/<tag>               the digest the tag points at
//	repos/<name>/_referrers/<algo>/<hex>/<algo>-<hex>
//	                                       descriptor of a manifest whose subject is <algo>:<hex>
//	uploads/<id>/{data,state.json}         unfinished blob uploads
//	tmp/                                   temp files, renamed into place when complete
//
// Blob bytes are stored once (content addressing deduplicates layers across
// repositories); the per-repository link files decide who may see them, so a
// blob pushed to "alice/app" is not readable as "bob/app" until mounted there.
//
// Names are safe as paths: repository names, tags and digests are checked
// against the spec's grammars before they get here, and none of those can
// contain "..", start with "_" or "/", or hold any other separator.
type store struct {
	root string
	// mu serialises changes to metadata (links, tags, manifests, referrers,
	// committing and deleting blob files). Reads take no lock: every file is
	// replaced by rename, so a reader sees the old or the new file, never half.
	mu sync.Mutex
}

func openStore(root string) (*store, error) {
	if root == "" {
		return nil, errors.New("registry: Root directory is required")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"blobs", "repos", "uploads", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, fmt.Errorf("registry: creating store: %w", err)
		}
	}
	// Temp files left by a crash are garbage by definition: nothing points at them.
	entries, _ := os.ReadDir(filepath.Join(abs, "tmp"))
	for _, e := range entries {
		os.RemoveAll(filepath.Join(abs, "tmp", e.Name()))
	}
	return &store{root: abs}, nil
}

func (st *store) blobPath(d digest) string {
	return filepath.Join(st.root, "blobs", d.algo, d.hex)
}

func (st *store) repoDir(name string) string {
	return filepath.Join(st.root, "repos", filepath.FromSlash(name))
}

func (st *store) linkPath(name string, d digest) string {
	return filepath.Join(st.repoDir(name), "_blobs", d.algo, d.hex)
}

func (st *store) manifestPath(name string, d digest) string {
	return filepath.Join(st.repoDir(name), "_manifests", d.algo, d.hex)
}

func (st *store) tagDir(name string) string {
	return filepath.Join(st.repoDir(name), "_tags")
}

func (st *store) referrerDir(name string, subject digest) string {
	return filepath.Join(st.repoDir(name), "_referrers", subject.algo, subject.hex)
}

// writeFileAtomic makes path hold exactly data, even across a crash: the
// bytes go to a temp file that is fsynced and then renamed over path (rename
// is atomic on POSIX filesystems), and the directory is fsynced so the
// rename itself is durable.
func (st *store) writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, atomicfile.Options{TempDir: filepath.Join(st.root, "tmp"), Sync: true, SyncDir: true})
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// hasBlob reports whether repository name may read blob d.
func (st *store) hasBlob(name string, d digest) bool {
	return exists(st.linkPath(name, d)) && exists(st.blobPath(d))
}

// hasBlobAnywhere reports whether the bytes of d are stored at all; used for
// a mount without "from" (the spec's anonymous mount).
func (st *store) hasBlobAnywhere(d digest) bool {
	return exists(st.blobPath(d))
}

// linkBlob makes an already stored blob readable in repository name.
func (st *store) linkBlob(name string, d digest) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !exists(st.blobPath(d)) {
		return errBlobUnknown()
	}
	return st.writeFileAtomic(st.linkPath(name, d), nil)
}

// commitBlob moves a verified upload file into the content store (or drops
// it when the same bytes are already there) and links it into name.
// The caller has already checked that the file's digest is d.
func (st *store) commitBlob(name string, d digest, verifiedFile string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	dst := st.blobPath(d)
	if exists(dst) {
		os.Remove(verifiedFile)
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(verifiedFile, dst); err != nil {
			return err
		}
		if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
			return err
		}
	}
	return st.writeFileAtomic(st.linkPath(name, d), nil)
}

// deleteBlob unlinks d from name. When no repository links it any more the
// bytes are removed too, so DELETE really frees the space.
func (st *store) deleteBlob(name string, d digest) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := os.Remove(st.linkPath(name, d)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	if !st.linkedAnywhere(d) {
		if err := os.Remove(st.blobPath(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, err
		}
	}
	return true, nil
}

// linkedAnywhere walks every repository looking for a link to d. It is a
// full scan, which is fine for a small registry and keeps the disk format
// free of reference counts that a crash could get wrong.
func (st *store) linkedAnywhere(d digest) bool {
	found := false
	filepath.WalkDir(filepath.Join(st.root, "repos"), func(path string, e fs.DirEntry, err error) error {
		if err != nil || found || !e.IsDir() {
			return nil
		}
		switch e.Name() {
		case "_blobs":
			if exists(filepath.Join(path, d.algo, d.hex)) {
				found = true
			}
			return filepath.SkipDir
		case "_manifests", "_tags", "_referrers":
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// repositories lists every repository that ever received content, sorted.
// A directory under repos/ is a repository when it holds one of our "_"
// directories; the names in between ("a" in "a/b") are just path segments.
func (st *store) repositories() ([]string, error) {
	base := filepath.Join(st.root, "repos")
	seen := map[string]bool{}
	var names []string
	err := filepath.WalkDir(base, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		if strings.HasPrefix(e.Name(), "_") {
			rel, _ := filepath.Rel(base, filepath.Dir(path))
			name := filepath.ToSlash(rel)
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// repoExists reports whether anything was ever pushed to name.
func (st *store) repoExists(name string) bool {
	for _, sub := range []string{"_blobs", "_manifests", "_tags"} {
		if exists(filepath.Join(st.repoDir(name), sub)) {
			return true
		}
	}
	return false
}

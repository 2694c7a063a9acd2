package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Store is the image store rooted at one directory (the daemon passes
// <data-root>/image). Layout:
//
//	blobs/sha256/<hex>            content-addressed blobs: image configs, layer blobs as
//	                              received (gzip from a registry, plain tar from a load)
//	layers/<diffid-hex>/diff      the layer unpacked, ready to be an overlay lowerdir
//	layers/<diffid-hex>/layer.json what we know about it (blob digest, sizes)
//	images/<id-hex>.json          one record per image (ID = digest of its config)
//	repositories.json             name:tag and name@digest → image ID
//	tmp/                          work area; everything in it is garbage after a crash
//
// Every file is written to tmp/ first and renamed into place, so a crash leaves
// either the old or the new state. A layer directory appears under layers/
// only when it is completely unpacked and verified; an image record appears
// only after all its layers did. Open removes tmp/ and collects layers no
// image uses, which is the whole crash recovery.
type Store struct {
	root string

	// SyncWrites makes metadata writes fsync before their rename. Off by
	// default: on ext4 an fsync right after a pull commits the journal and so
	// waits for all the freshly unpacked data (hundreds of ms for a 50 MB
	// layer). Temp file + rename is already atomic against a daemon crash,
	// which is what Open reconciles; turn this on for power-loss durability.
	SyncWrites bool

	mu    sync.Mutex        // images/, repositories.json, pins
	repos map[string]string // reference (normalised, e.g. docker.io/library/busybox:latest) → image ID
	pins  map[string]int    // diffIDs held by operations in flight (not collectable)

	layerMu    sync.Mutex
	layerLocks map[string]*layerLock
}

type layerLock struct {
	mu   sync.Mutex
	refs int
}

// layerRecord is layers/<hex>/layer.json.
type layerRecord struct {
	DiffID    string `json:"diffID"`
	Blob      string `json:"blob"`      // digest of the stored blob
	BlobSize  int64  `json:"blobSize"`  // its size
	MediaType string `json:"mediaType"` // its media type
	TarSize   int64  `json:"tarSize"`   // size of the uncompressed tar (for save)
	Size      int64  `json:"size"`      // content size, counted like docker (files and symlinks, each inode once)
	// Gzip is a gzip-compressed copy made for push when Blob is an uncompressed tar.
	Gzip     string `json:"gzip,omitempty"`
	GzipSize int64  `json:"gzipSize,omitempty"`
	// Sources are repositories (e.g. 127.0.0.1:5000/busybox) known to hold
	// the compressed blob: pulled from or pushed to. Push mounts from them.
	Sources []string `json:"sources,omitempty"`
}

// updateLayer rewrites layer.json of a stored layer under its lock.
func (s *Store) updateLayer(diffID string, fn func(*layerRecord) error) error {
	unlock := s.lockLayer(diffID)
	defer unlock()
	r, err := s.layer(diffID)
	if err != nil {
		return err
	}
	if err := fn(r); err != nil {
		return err
	}
	b, _ := json.Marshal(r)
	return s.writeFileAtomic(filepath.Join(s.layerDir(diffID), "layer.json"), b)
}

// imageRecord is images/<hex>.json: local facts about an image that are not in its config.
type imageRecord struct {
	ID          string    `json:"id"`
	Parent      string    `json:"parent,omitempty"`
	LastTagTime time.Time `json:"lastTagTime,omitzero"`
}

const (
	mediaTypeDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeOCILayerGzip    = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaTypeOCILayer        = "application/vnd.oci.image.layer.v1.tar"
)

// Open opens (creating if needed) the store at root and reconciles it after
// a crash: the work area is emptied and unreferenced layers are removed.
func Open(root string) (*Store, error) {
	for _, d := range []string{"blobs/sha256", "layers", "images", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	s := &Store{root: root, repos: map[string]string{}, pins: map[string]int{}, layerLocks: map[string]*layerLock{}}
	ents, _ := os.ReadDir(filepath.Join(root, "tmp"))
	for _, e := range ents {
		os.RemoveAll(filepath.Join(root, "tmp", e.Name()))
	}
	b, err := os.ReadFile(filepath.Join(root, "repositories.json"))
	if err == nil {
		var f repositoriesFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("image store: repositories.json: %w", err)
		}
		for _, refs := range f.Repositories {
			for ref, id := range refs {
				s.repos[ref] = id
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s.mu.Lock()
	// drop references to images that never completed
	for ref, id := range s.repos {
		if !s.hasImageLocked(id) {
			delete(s.repos, ref)
		}
	}
	s.mu.Unlock()
	if _, err := s.gc(true); err != nil {
		return nil, err
	}
	return s, nil
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

type repositoriesFile struct {
	Repositories map[string]map[string]string
}

func (s *Store) saveReposLocked() error {
	f := repositoriesFile{Repositories: map[string]map[string]string{}}
	for ref, id := range s.repos {
		name := ref
		if i := strings.IndexByte(ref, '@'); i >= 0 {
			name = ref[:i]
		} else if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
			name = ref[:i]
		}
		if f.Repositories[name] == nil {
			f.Repositories[name] = map[string]string{}
		}
		f.Repositories[name][ref] = id
	}
	b, err := json.MarshalIndent(f, "", "\t")
	if err != nil {
		return err
	}
	return s.writeFileAtomic(filepath.Join(s.root, "repositories.json"), b)
}

// writeFileAtomic writes data to a temp file in tmp/ and renames it to path.
func (s *Store) writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, atomicfile.Options{TempDir: filepath.Join(s.root, "tmp"), Sync: s.SyncWrites})
}

func hexOf(d string) string { return strings.TrimPrefix(d, "sha256:") }

func (s *Store) blobPath(d string) string {
	return filepath.Join(s.root, "blobs", "sha256", hexOf(d))
}
func (s *Store) layerDir(diffID string) string { return filepath.Join(s.root, "layers", hexOf(diffID)) }
func (s *Store) imagePath(id string) string {
	return filepath.Join(s.root, "images", hexOf(id)+".json")
}

func validDigest(d string) bool {
	dg, err := digest.Parse(d)
	return err == nil && dg.Algorithm() == digest.SHA256
}

// blobWriter writes a blob to a temp file while hashing it. Made by
// linkBlobWriter, it writes nothing: the blob is already a file on the
// store's file system (load's spool), which commit links into place.
type blobWriter struct {
	f    *os.File  // the temp file; nil when linking
	src  *os.File  // the file to link; nil when writing
	h    hash.Hash // nil: the digest is known to be right
	n    int64
	done bool
}

func (s *Store) newBlobWriter() (*blobWriter, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-")
	if err != nil {
		return nil, err
	}
	return &blobWriter{f: f, h: sha256.New()}, nil
}

// linkBlobWriter hashes and counts the bytes of src as they stream by,
// and commit hard-links src itself into the blob store.
func linkBlobWriter(src *os.File) *blobWriter {
	return &blobWriter{src: src, h: sha256.New()}
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n := len(p)
	var err error
	if w.f != nil {
		n, err = w.f.Write(p)
	}
	if w.h != nil {
		w.h.Write(p[:n])
	}
	w.n += int64(n)
	return n, err
}

func (w *blobWriter) Digest() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// commit moves the blob into place, refusing it if want is set and differs.
// With no hash (the source verified it), want is the digest.
func (w *blobWriter) commit(s *Store, want string) (string, error) {
	defer w.abort()
	got := want
	if w.h != nil {
		got = w.Digest()
	}
	if want != "" && got != want {
		return "", fmt.Errorf("blob digest mismatch: expected %s, got %s", want, got)
	}
	if err := w.place(s, s.blobPath(got)); err != nil {
		return "", err
	}
	w.done = true
	return got, nil
}

// place puts the blob at dst: renames the temp file, or links src.
func (w *blobWriter) place(s *Store, dst string) error {
	if w.src == nil {
		if err := w.f.Close(); err != nil {
			return err
		}
		return os.Rename(w.f.Name(), dst)
	}
	// through /proc: the very file we read, even if its name was a symlink
	err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", w.src.Fd()), unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	if errors.Is(err, fs.ErrExist) {
		return nil // the same digest: the same bytes
	}
	if err == nil {
		return os.Chmod(dst, 0o600)
	}
	// no /proc, or another file system: copy it after all
	cw, err := s.newBlobWriter()
	if err != nil {
		return err
	}
	defer cw.abort()
	cw.h = nil
	if _, err := io.Copy(cw, io.NewSectionReader(w.src, 0, w.n)); err != nil {
		return err
	}
	if err := cw.place(s, dst); err != nil {
		return err
	}
	cw.done = true
	return nil
}

func (w *blobWriter) abort() {
	if !w.done && w.f != nil {
		w.f.Close()
		os.Remove(w.f.Name())
	}
	w.done = true
}

// putBlob stores data as a blob and returns its digest.
func (s *Store) putBlob(data []byte) (string, error) {
	w, err := s.newBlobWriter()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		w.abort()
		return "", err
	}
	return w.commit(s, "")
}

func (s *Store) readBlob(d string) ([]byte, error) {
	if !validDigest(d) {
		return nil, fmt.Errorf("invalid digest %q", d)
	}
	return os.ReadFile(s.blobPath(d))
}

// ---- layers ----

// lockLayer serialises work on one layer inside this process and, with an
// flock on layers/<hex>.lock, between processes sharing the store.
func (s *Store) lockLayer(diffID string) func() {
	s.layerMu.Lock()
	l := s.layerLocks[diffID]
	if l == nil {
		l = &layerLock{}
		s.layerLocks[diffID] = l
	}
	l.refs++
	s.layerMu.Unlock()
	l.mu.Lock()
	lf := flockFile(s.layerDir(diffID) + ".lock")
	return func() {
		if lf != nil {
			// A layer that is not stored keeps no lock file, or every
			// failed store (a full disk, a broken download) would leave
			// one. Removed while held, as gc does (see flockFile).
			if _, err := os.Lstat(s.layerDir(diffID)); errors.Is(err, fs.ErrNotExist) {
				os.Remove(s.layerDir(diffID) + ".lock")
			}
			unix.Flock(int(lf.Fd()), unix.LOCK_UN)
			lf.Close()
		}
		l.mu.Unlock()
		s.layerMu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(s.layerLocks, diffID)
		}
		s.layerMu.Unlock()
	}
}

// flockFile opens path (creating it) and takes an exclusive flock on it;
// nil when the file cannot be opened. gc deletes a layer's lock file while
// it holds the lock, so that deleted images leave nothing behind; a waiter
// that then gets the lock on the deleted file retries on a new one, or two
// processes could both believe they hold the layer.
func flockFile(path string) *os.File {
	for {
		lf, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil
		}
		unix.Flock(int(lf.Fd()), unix.LOCK_EX)
		var held, now unix.Stat_t
		if unix.Fstat(int(lf.Fd()), &held) != nil || unix.Stat(path, &now) != nil || held.Ino != now.Ino || held.Dev != now.Dev {
			lf.Close() // deleted (or replaced) while we waited
			continue
		}
		return lf
	}
}

func (s *Store) pin(diffIDs ...string) {
	s.mu.Lock()
	for _, d := range diffIDs {
		s.pins[d]++
	}
	s.mu.Unlock()
}

func (s *Store) unpin(diffIDs ...string) {
	s.mu.Lock()
	for _, d := range diffIDs {
		if s.pins[d]--; s.pins[d] <= 0 {
			delete(s.pins, d)
		}
	}
	s.mu.Unlock()
}

// layer returns the record of a completely stored layer.
func (s *Store) layer(diffID string) (*layerRecord, error) {
	b, err := os.ReadFile(filepath.Join(s.layerDir(diffID), "layer.json"))
	if err != nil {
		return nil, err
	}
	var r layerRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// HasLayer reports whether the layer with this diffID is stored and unpacked.
func (s *Store) HasLayer(diffID string) bool {
	if !validDigest(diffID) {
		return false
	}
	_, err := s.layer(diffID)
	return err == nil
}

// layerIn describes a layer blob to store.
type layerIn struct {
	DiffID    string // expected diffID; "" = compute it (import, commit)
	Blob      string // expected blob digest; "" = not checked
	MediaType string
	// Open returns the blob stream. It is only called if the layer is missing.
	Open func() (io.ReadCloser, error)
	// Started, if set, is called once the blob starts to be read.
	Started func()
	// BlobVerified: the stream from Open checks Blob itself and fails on a mismatch.
	BlobVerified bool
	// Linkable: Open returns an *os.File on the store's file system that
	// stays as it is (load's spool): the store links it as the blob
	// instead of writing a copy.
	Linkable bool
}

// storeLayer stores and unpacks a layer unless it is already there (existed).
// The caller must have pinned in.DiffID (if known) so a concurrent delete
// cannot collect it before the image that uses it is written; when the
// diffID is not known beforehand, storeLayer pins it (also on "existed")
// and the caller must unpin rec.DiffID.
func (s *Store) storeLayer(ctx context.Context, in layerIn) (rec *layerRecord, existed bool, err error) {
	if in.DiffID != "" {
		if !validDigest(in.DiffID) {
			return nil, false, fmt.Errorf("invalid layer diffID %q", in.DiffID)
		}
		unlock := s.lockLayer(in.DiffID)
		defer unlock()
		if r, err := s.layer(in.DiffID); err == nil {
			return r, true, nil
		}
	}
	rc, err := in.Open()
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	if in.Started != nil {
		in.Started()
	}

	work, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "layer-")
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if work != "" {
			os.RemoveAll(work)
		}
	}()
	rec, err = s.unpackBlob(ctx, rc, in, work)
	if err != nil {
		return nil, false, err
	}

	if in.DiffID == "" { // only now do we know which layer this is
		s.pin(rec.DiffID) // stays pinned: the caller unpins once its image is written
		unlock := s.lockLayer(rec.DiffID)
		defer unlock()
		if r, err := s.layer(rec.DiffID); err == nil {
			return r, true, nil
		}
	}
	os.RemoveAll(s.layerDir(rec.DiffID)) // leftovers without layer.json are not a layer
	if err := os.Rename(work, s.layerDir(rec.DiffID)); err != nil {
		return nil, false, err
	}
	work = ""
	return rec, false, nil
}

// unpackBlob saves the blob rc streams into the blob store and unpacks it
// into work/diff, checking the blob digest and the diffID in expects,
// then writes work/layer.json: work is then a complete layer directory.
func (s *Store) unpackBlob(ctx context.Context, rc io.Reader, in layerIn, work string) (*layerRecord, error) {
	diffDir := filepath.Join(work, "diff")
	if err := os.Mkdir(diffDir, 0o755); err != nil {
		return nil, err
	}
	bw, err := s.layerBlobWriter(rc, in)
	if err != nil {
		return nil, err
	}
	defer bw.abort()
	dh, plain, err := unpackPipeline(ctx, rc, bw, diffDir)
	if err != nil {
		return nil, err
	}
	diffID := "sha256:" + hex.EncodeToString(dh.h.Sum(nil))
	if in.DiffID != "" && diffID != in.DiffID {
		return nil, fmt.Errorf("layer diffID mismatch: expected %s, got %s", in.DiffID, diffID)
	}
	want := in.Blob
	if plain { // the blob is the tar: its digest is the diffID
		if want != "" && want != diffID {
			return nil, fmt.Errorf("blob digest mismatch: expected %s, got %s", want, diffID)
		}
		want = diffID
	}
	blob, err := bw.commit(s, want)
	if err != nil {
		return nil, err
	}
	return s.writeLayerRecord(work, &layerRecord{DiffID: diffID, Blob: blob, BlobSize: bw.n, MediaType: in.MediaType, TarSize: dh.n})
}

// layerBlobWriter is where unpackBlob keeps the blob: a link to the file
// itself when in.Linkable, else a copy; hashed unless the source verifies it.
func (s *Store) layerBlobWriter(rc io.Reader, in layerIn) (*blobWriter, error) {
	var bw *blobWriter
	if f, ok := rc.(*os.File); ok && in.Linkable {
		bw = linkBlobWriter(f)
	} else {
		var err error
		if bw, err = s.newBlobWriter(); err != nil {
			return nil, err
		}
	}
	if in.BlobVerified && in.Blob != "" {
		bw.h = nil // the source checks the digest itself (go-containerregistry does for remote blobs)
	}
	return bw, nil
}

// writeLayerRecord completes rec (media type, content size) and writes it
// as work/layer.json.
func (s *Store) writeLayerRecord(work string, rec *layerRecord) (*layerRecord, error) {
	if rec.MediaType == "" {
		rec.MediaType = mediaTypeOCILayerGzip
		if rec.Blob == rec.DiffID {
			rec.MediaType = mediaTypeOCILayer
		}
	}
	size, err := DirSize(filepath.Join(work, "diff"))
	if err != nil {
		return nil, err
	}
	rec.Size = size
	b, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(work, "layer.json"), b, 0o600); err != nil {
		return nil, err
	}
	return rec, nil
}

// unpackLayer extracts an uncompressed layer tar into dir (see archive.Apply:
// every write stays inside dir, OCI whiteouts become overlay whiteouts).
func unpackLayer(ctx context.Context, r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := archive.Apply(ctx, root, ".", r, archive.ApplyOptions{OverlayWhiteouts: true}); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	return nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// DirSize counts a directory's size like docker's overlay2 driver: the sizes of
// all non-directories, each inode once (a layer, a container's upper dir).
func DirSize(dir string) (int64, error) {
	seen := map[uint64]bool{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() == 0 {
			return nil
		}
		if st, ok := statIno(fi); ok {
			if seen[st] {
				return nil
			}
			seen[st] = true
		}
		total += fi.Size()
		return nil
	})
	return total, err
}

// ---- images ----

func (s *Store) hasImageLocked(id string) bool {
	if !validDigest(id) {
		return false
	}
	_, err := os.Stat(s.imagePath(id))
	return err == nil
}

func (s *Store) imageRecord(id string) (*imageRecord, error) {
	b, err := os.ReadFile(s.imagePath(id))
	if err != nil {
		return nil, err
	}
	var r imageRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// putImage writes the config blob and the image record. Every layer of the
// config must already be stored.
func (s *Store) putImage(config []byte, parent string) (string, error) {
	cfg, err := parseConfig(config)
	if err != nil {
		return "", err
	}
	for _, d := range cfg.RootFS.DiffIDs {
		if !s.HasLayer(d.String()) {
			return "", fmt.Errorf("layer %s is not stored", d)
		}
	}
	s.mu.Lock() // blob and record together: Remove deletes both under the same lock
	defer s.mu.Unlock()
	id, err := s.putBlob(config)
	if err != nil {
		return "", err
	}
	if s.hasImageLocked(id) {
		return id, nil
	}
	if parent != "" && !s.hasImageLocked(parent) {
		parent = ""
	}
	b, _ := json.Marshal(imageRecord{ID: id, Parent: parent})
	return id, s.writeFileAtomic(s.imagePath(id), b)
}

func (s *Store) setLastTagTimeLocked(id string) {
	r, err := s.imageRecord(id)
	if err != nil {
		return
	}
	r.LastTagTime = time.Now().UTC()
	b, _ := json.Marshal(r)
	s.writeFileAtomic(s.imagePath(id), b)
}

// imageIDsLocked lists all image IDs.
func (s *Store) imageIDsLocked() []string {
	ents, _ := os.ReadDir(filepath.Join(s.root, "images"))
	var ids []string
	for _, e := range ents {
		if h, ok := strings.CutSuffix(e.Name(), ".json"); ok && len(h) == 64 {
			ids = append(ids, "sha256:"+h)
		}
	}
	sort.Strings(ids)
	return ids
}

// gc removes layers no image uses (and no operation has pinned), with
// their blobs. With sweep (only at Open, when nothing else runs) it also
// removes blobs that nothing refers to, left by a crash.
func (s *Store) gc(sweep bool) ([]string, error) {
	s.mu.Lock()
	used := map[string]bool{}
	for _, id := range s.imageIDsLocked() {
		cfg, err := s.configLocked(id)
		if err != nil {
			continue
		}
		for _, d := range cfg.RootFS.DiffIDs {
			used[hexOf(d.String())] = true
		}
	}
	for d := range s.pins {
		used[hexOf(d)] = true
	}
	ents, _ := os.ReadDir(filepath.Join(s.root, "layers"))
	var victims []string
	for _, e := range ents {
		if e.IsDir() && len(e.Name()) == 64 && !used[e.Name()] {
			victims = append(victims, "sha256:"+e.Name())
		}
	}
	s.mu.Unlock()

	var removed []string
	for _, d := range victims {
		unlock := s.lockLayer(d)
		s.mu.Lock()
		pinned := s.pins[d] > 0
		s.mu.Unlock()
		if pinned {
			unlock()
			continue
		}
		rec, _ := s.layer(d)
		trash := filepath.Join(s.root, "tmp", "gc-"+hexOf(d))
		err := os.Rename(s.layerDir(d), trash)
		if err == nil && rec != nil {
			os.Remove(s.blobPath(rec.Blob))
			if rec.Gzip != "" {
				os.Remove(s.blobPath(rec.Gzip))
			}
		}
		if err == nil {
			os.Remove(s.layerDir(d) + ".lock") // while held: see flockFile
		}
		unlock()
		if err != nil {
			continue
		}
		os.RemoveAll(trash)
		removed = append(removed, d)
	}
	if sweep {
		s.sweepOrphans()
	}
	return removed, nil
}

// sweepOrphans removes what a crash can leave behind: lock files of
// layers that are gone, layer directories without a layer.json, and blobs
// no image or layer refers to. Only Open calls it (through gc), when
// nothing else runs.
func (s *Store) sweepOrphans() {
	keep := map[string]bool{}
	for _, id := range s.imageIDsLocked() {
		keep[hexOf(id)] = true
	}
	ents, _ := os.ReadDir(filepath.Join(s.root, "layers"))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".lock") {
			if _, err := os.Stat(filepath.Join(s.root, "layers", strings.TrimSuffix(e.Name(), ".lock"))); err != nil {
				os.Remove(filepath.Join(s.root, "layers", e.Name()))
			}
			continue
		}
		if r, err := s.layer("sha256:" + e.Name()); err == nil {
			keep[hexOf(r.Blob)] = true
			if r.Gzip != "" {
				keep[hexOf(r.Gzip)] = true
			}
		} else {
			os.RemoveAll(filepath.Join(s.root, "layers", e.Name())) // not a complete layer
		}
	}
	bl, _ := os.ReadDir(filepath.Join(s.root, "blobs", "sha256"))
	for _, e := range bl {
		if !keep[e.Name()] {
			os.Remove(filepath.Join(s.root, "blobs", "sha256", e.Name()))
		}
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

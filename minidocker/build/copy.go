package build

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/dockerfile"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/moby/sys/user"
)

type copyReq struct {
	name  string // COPY or ADD
	sd    dockerfile.SourcesAndDest
	from  string
	chown string
	chmod string
	add   bool
}

// copySource is one resolved source.
type copySource struct {
	view  fileView // nil for a downloaded URL
	rel   string   // resolved path inside view (symlinks followed)
	isDir bool
	hash  string // "file:…" / "dir:…"

	// URL downloads
	url      string
	tmpFile  string
	fileName string
	modTime  time.Time
}

// copy runs COPY and ADD: check the request, gather the sources (from the
// context, another stage or image, or a URL for ADD), work out the
// destination, then commit a step whose layer holds the copied files.
func (bd *builder) copy(ctx context.Context, st *stage, r copyReq) error {
	if err := checkCopyRequest(r); err != nil {
		return err
	}
	view := fileView(bd.ctxView)
	fromImage := false
	if r.from != "" {
		id, err := bd.fromSource(ctx, r.from)
		if err != nil {
			return err
		}
		lv, err := bd.imageView(ctx, id)
		if err != nil {
			return err
		}
		defer lv.Close()
		view, fromImage = lv, true
	}
	srcs, err := bd.gatherSources(ctx, r, view, fromImage)
	defer removeDownloads(srcs)
	if err != nil {
		return err
	}
	if len(srcs) > 1 && !strings.HasSuffix(r.sd.DestPath, "/") {
		return errdefs.Invalid("When using %s with more than one source file, the destination must be a directory and end with a /", r.name)
	}
	dest, slash := copyDest(r.sd.DestPath, st.img.Config.WorkingDir)
	comment := copyComment(r, srcs)
	return bd.commitStep(ctx, st, st.nop1(comment), append(st.shell(), "#(nop) "+comment), func(cid, upper string) error {
		return bd.writeCopyLayer(ctx, st, r, srcs, dest, slash, upper)
	}, false)
}

// copyFailed is docker's wording for a COPY/ADD error that has no kind of
// its own: an invalid request.
func copyFailed(name string, err error) error {
	if errdefs.KindOf(err) != errdefs.KindUnknown {
		return err
	}
	return errdefs.Invalid("%s failed: %v", name, err)
}

// checkCopyRequest refuses what the classic builder does not do.
func checkCopyRequest(r copyReq) error {
	if len(r.sd.Heredocs) > 0 {
		return errdefs.Invalid("%s with heredocs is not supported by the classic builder", r.name)
	}
	if r.chmod != "" {
		return errdefs.Invalid("the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled")
	}
	if len(r.sd.SourcePaths) == 0 {
		return copyFailed(r.name, errors.New("no source files were specified"))
	}
	return nil
}

// gatherSources resolves every source of the request: URLs are downloaded
// (ADD only), paths and wildcards are matched in view. What it downloaded
// is in the result even on error, for removeDownloads.
func (bd *builder) gatherSources(ctx context.Context, r copyReq, view fileView, fromImage bool) ([]copySource, error) {
	var srcs []copySource
	for _, orig := range r.sd.SourcePaths {
		if isURL(orig) {
			if !r.add {
				return srcs, copyFailed(r.name, errors.New("source can't be a URL for COPY"))
			}
			s, err := bd.download(ctx, orig)
			if err != nil {
				return srcs, err
			}
			srcs = append(srcs, s)
			continue
		}
		got, err := bd.resolveSources(view, orig, fromImage)
		if err != nil {
			return srcs, copyFailed(r.name, err)
		}
		srcs = append(srcs, got...)
	}
	if len(srcs) == 0 {
		return nil, copyFailed(r.name, errors.New("no source files were specified"))
	}
	return srcs, nil
}

// removeDownloads removes the temporary files of downloaded URL sources.
func removeDownloads(srcs []copySource) {
	for _, s := range srcs {
		if s.tmpFile != "" {
			os.Remove(s.tmpFile)
		}
	}
}

// copyDest is the destination as an absolute, clean path (a relative one
// is under WORKDIR), and whether it was written as a directory (a trailing
// slash, "/." or ".").
func copyDest(raw, workDir string) (dest string, slash bool) {
	slash = strings.HasSuffix(raw, "/") || strings.HasSuffix(raw, "/.") || raw == "."
	dest = raw
	if !path.IsAbs(dest) {
		if workDir == "" {
			workDir = "/"
		}
		dest = path.Join(workDir, dest)
	}
	return path.Clean(dest), slash
}

// copyComment is the step's history line and cache key, as docker's: the
// content hash of the sources (one, or a hash of all of them) and the
// destination as written.
func copyComment(r copyReq, srcs []copySource) string {
	var srcHash string
	if len(srcs) == 1 {
		srcHash = srcs[0].hash
	} else {
		var hs []string
		for _, s := range srcs {
			hs = append(hs, s.hash)
		}
		srcHash = hashList("multi", hs)
	}
	chownComment := ""
	if r.chown != "" {
		chownComment = "--chown=" + r.chown + " "
	}
	return fmt.Sprintf("%s %s%s in %s ", r.name, chownComment, srcHash, r.sd.DestPath)
}

// writeCopyLayer writes the sources into the step's upper directory, seen
// over the parent image (for --chown's names, the destination's type and
// symlinks on the way).
func (bd *builder) writeCopyLayer(ctx context.Context, st *stage, r copyReq, srcs []copySource, dest string, slash bool, upper string) error {
	parent, err := bd.imageView(ctx, st.imageID)
	if err != nil {
		return err
	}
	defer parent.Close()
	uid, gid := 0, 0
	if r.chown != "" {
		uid, gid, err = parseChown(parent, r.chown)
		if err != nil {
			return errdefs.Invalid("unable to convert uid/gid chown string to host mapping: %v", err)
		}
	}
	destRel, err := resolveInScope(parent, dest, true)
	if err != nil {
		return err
	}
	destIsDir := slash
	if fi, err := parent.Lstat(destRel); err == nil && fi.IsDir() {
		destIsDir = true
	}
	w, err := newLayerWriter(upper, parent)
	if err != nil {
		return err
	}
	defer w.Close()
	own := &owner{uid: uid, gid: gid}
	for _, s := range srcs {
		if err := w.copyOne(s, destRel, destIsDir, r.add, own, r.chown != ""); err != nil {
			return copyFailed(r.name, err)
		}
	}
	return nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// fromSource resolves --from: a stage name, a stage index or an image.
func (bd *builder) fromSource(ctx context.Context, from string) (string, error) {
	if id, ok := bd.byName[strings.ToLower(from)]; ok {
		return id, nil
	}
	if n, err := strconv.Atoi(from); err == nil {
		if n == len(bd.byIndex) {
			return "", errdefs.Invalid("invalid from flag value %s: refers to current build stage", from)
		}
		if n < 0 || n > len(bd.byIndex) {
			return "", errdefs.Invalid("invalid from flag value %s: index out of bounds", from)
		}
		return bd.byIndex[n], nil
	}
	img, err := bd.getOrPull(ctx, from)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

func hasWildcards(s string) bool { return strings.ContainsAny(s, "*?[") }

// resolveSources turns one source argument into resolved sources.
func (bd *builder) resolveSources(v fileView, orig string, fromImage bool) ([]copySource, error) {
	p := filepath.ToSlash(orig)
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimPrefix(p, "./")
	rel := cleanRel(p)
	if hasWildcards(rel) {
		var out []copySource
		err := walkView(v, ".", func(name string, fi fs.FileInfo) error {
			if ok, _ := path.Match(rel, name); ok {
				s, err := bd.source(v, name, false)
				if err != nil {
					return err
				}
				out = append(out, s)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	s, err := bd.source(v, rel, true)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			e := fmt.Errorf("stat %s: file does not exist", rel)
			if fromImage {
				return nil, e
			}
			return nil, fmt.Errorf("file not found in build context or excluded by .dockerignore: %w", e)
		}
		return nil, err
	}
	return []copySource{s}, nil
}

func (bd *builder) source(v fileView, name string, follow bool) (copySource, error) {
	rel := name
	if follow {
		r, err := resolveInScope(v, name, true)
		if err != nil {
			return copySource{}, err
		}
		rel = r
	}
	fi, err := v.Lstat(rel)
	if err != nil {
		return copySource{}, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 { // wildcard match on a symlink: follow it
		r, err := resolveInScope(v, rel, true)
		if err != nil {
			return copySource{}, err
		}
		rel = r
		if fi, err = v.Lstat(rel); err != nil {
			return copySource{}, err
		}
	}
	s := copySource{view: v, rel: rel, isDir: fi.IsDir()}
	key := fmt.Sprintf("%p|%s", v, rel)
	if h, ok := bd.ctxCache[key]; ok {
		s.hash = h
		return s, nil
	}
	if s.isDir {
		var sums []string
		err := walkView(v, rel, func(name string, fi fs.FileInfo) error {
			sum, err := entrySum(v, name, fi)
			sums = append(sums, sum)
			return err
		})
		if err != nil {
			return copySource{}, err
		}
		if rel == "." { // the context root itself is not an entry
			sums = sums[1:]
		}
		sort.Strings(sums)
		s.hash = hashList("dir", sums)
	} else {
		sum, err := entrySum(v, rel, fi)
		if err != nil {
			return copySource{}, err
		}
		s.hash = "file:" + sum
	}
	bd.ctxCache[key] = s.hash
	return s, nil
}

// walkView visits name and everything below it (lexical order), not
// following symlinks.
func walkView(v fileView, name string, fn func(name string, fi fs.FileInfo) error) error {
	fi, err := v.Lstat(name)
	if err != nil {
		return err
	}
	if name != "." {
		if err := fn(name, fi); err != nil {
			return err
		}
	}
	if !fi.IsDir() {
		return nil
	}
	names, err := v.ReadDir(name)
	if err != nil {
		return err
	}
	for _, n := range names {
		child := n
		if name != "." {
			child = name + "/" + n
		}
		if err := walkView(v, child, fn); err != nil {
			return err
		}
	}
	return nil
}

// entrySum is the cache identity of one entry, computed exactly as
// docker's classic builder does for its build context (tarsum v1 of the
// entry's tar header and content): name, permission bits, owner, size,
// type, link target and the bytes — never the mtime. So touching a file
// keeps the cache, editing it or changing its mode busts it, and
// "COPY file:<sum> in /dst" history lines equal docker's for context files.
func entrySum(v fileView, name string, fi fs.FileInfo) (string, error) {
	mode := fi.Mode()
	perm := int64(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		perm |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		perm |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	uid, gid := statOwner(fi)
	var typ byte
	var size int64
	link := ""
	tarName := name
	switch {
	case mode.IsRegular():
		typ, size = '0', fi.Size()
	case mode.IsDir():
		typ, tarName = '5', name+"/"
	case mode&fs.ModeSymlink != 0:
		typ = '2'
		t, err := v.Readlink(name)
		if err != nil {
			return "", err
		}
		link = t
	default:
		typ = '6' // fifos, devices: header only
	}
	h := sha256.New()
	for _, kv := range [][2]string{
		{"name", tarName}, {"mode", strconv.FormatInt(perm, 10)},
		{"uid", strconv.Itoa(uid)}, {"gid", strconv.Itoa(gid)},
		{"size", strconv.FormatInt(size, 10)}, {"typeflag", string([]byte{typ})},
		{"linkname", link}, {"uname", ""}, {"gname", ""},
		{"devmajor", "0"}, {"devminor", "0"},
	} {
		h.Write([]byte(kv[0] + kv[1]))
	}
	if typ == '0' {
		f, err := v.Open(name)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashList is docker's "prefix:" + sha256 of the hashes joined by ",".
func hashList(prefix string, hs []string) string {
	sum := sha256.Sum256([]byte(strings.Join(hs, ",")))
	return prefix + ":" + hex.EncodeToString(sum[:])
}

// download fetches an ADD URL into the scratch dir.
func (bd *builder) download(ctx context.Context, raw string) (copySource, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return copySource{}, errdefs.Invalid("%v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return copySource{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return copySource{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return copySource{}, fmt.Errorf("failed to GET %s with status %s", raw, resp.Status)
	}
	tmp, err := os.CreateTemp(bd.scratch, "download-")
	if err != nil {
		return copySource{}, err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return copySource{}, err
	}
	mt := time.Now()
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			mt = t
		}
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	return copySource{url: raw, tmpFile: tmp.Name(), fileName: name, modTime: mt,
		hash: "file:" + hex.EncodeToString(h.Sum(nil))}, nil
}

// ---- writing into the step's upperdir ----

type owner struct{ uid, gid int }

// layerWriter writes a COPY/ADD/WORKDIR step into an empty upperdir, only
// through an os.Root opened on it, so no source name, tar entry or symlink
// can make it write elsewhere. Directories it must create that already
// exist in the parent image get the parent's mode, owner and mtime (their
// copy-up), as overlayfs would.
type layerWriter struct {
	root     *os.Root
	upperDir string
	parent   fileView
	asRoot   bool
}

func newLayerWriter(upper string, parent fileView) (*layerWriter, error) {
	r, err := os.OpenRoot(upper)
	if err != nil {
		return nil, err
	}
	return &layerWriter{root: r, upperDir: upper, parent: parent, asRoot: os.Geteuid() == 0}, nil
}

func (w *layerWriter) Close() error { return w.root.Close() }

func (w *layerWriter) lchown(name string, uid, gid int) error {
	if err := w.root.Lchown(name, uid, gid); err != nil && w.asRoot {
		return err
	}
	return nil
}

// mkdirAll creates rel and its parents in the upper layer.
func (w *layerWriter) mkdirAll(rel string, uid, gid int) error {
	if rel == "." || rel == "" {
		return nil
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if fi, err := w.root.Lstat(p); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("mkdir /%s: not a directory", p)
			}
			continue
		}
		pfi, perr := w.parent.Lstat(p)
		if perr == nil && !pfi.IsDir() {
			return fmt.Errorf("mkdir /%s: not a directory", p)
		}
		if perr == nil {
			if err := w.root.Mkdir(p, pfi.Mode().Perm()); err != nil {
				return err
			}
			w.root.Chmod(p, pfi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky))
			if st, ok := pfi.Sys().(*syscall.Stat_t); ok {
				if err := w.lchown(p, int(st.Uid), int(st.Gid)); err != nil {
					return err
				}
			}
			w.root.Chtimes(p, pfi.ModTime(), pfi.ModTime())
			continue
		}
		if err := w.root.Mkdir(p, 0o755); err != nil {
			return err
		}
		w.root.Chmod(p, 0o755)
		if err := w.lchown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

func (w *layerWriter) removeExisting(rel string) error {
	fi, err := w.root.Lstat(rel)
	if err != nil {
		return nil
	}
	if fi.IsDir() {
		return fmt.Errorf("cannot overwrite directory /%s with non-directory", rel)
	}
	return w.root.Remove(rel)
}

// resolve follows symlinks of the parent image in rel's directories (COPY
// x /var/run/y with /var/run -> /run writes /run/y, as docker does).
func (w *layerWriter) resolve(rel string) (string, error) {
	rel = cleanRel(rel)
	if rel == "." {
		return rel, nil
	}
	dir, err := resolveInScope(w.parent, parentOf(rel), true)
	if err != nil {
		return "", err
	}
	return joinRel(dir, path.Base(rel)), nil
}

func (w *layerWriter) writeFile(rel string, r io.Reader, mode fs.FileMode, uid, gid int, mtime time.Time) error {
	rel, err := w.resolve(rel)
	if err != nil {
		return err
	}
	if err := w.mkdirAll(parentOf(rel), uid, gid); err != nil {
		return err
	}
	if err := w.removeExisting(rel); err != nil {
		return err
	}
	f, err := w.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := w.lchown(rel, uid, gid); err != nil {
		return err
	}
	if err := w.root.Chmod(rel, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	return w.root.Chtimes(rel, mtime, mtime)
}

func (w *layerWriter) symlink(rel, target string, uid, gid int) error {
	rel, err := w.resolve(rel)
	if err != nil {
		return err
	}
	if err := w.mkdirAll(parentOf(rel), uid, gid); err != nil {
		return err
	}
	if err := w.removeExisting(rel); err != nil {
		return err
	}
	if err := w.root.Symlink(target, rel); err != nil {
		return err
	}
	return w.lchown(rel, uid, gid)
}

func (w *layerWriter) dir(rel string, mode fs.FileMode, uid, gid int, mtime time.Time) error {
	rel, err := w.resolve(rel)
	if err != nil {
		return err
	}
	if err := w.mkdirAll(parentOf(rel), uid, gid); err != nil {
		return err
	}
	if fi, err := w.root.Lstat(rel); err != nil {
		if err := w.root.Mkdir(rel, 0o700); err != nil {
			return err
		}
	} else if !fi.IsDir() {
		if err := w.root.Remove(rel); err != nil {
			return err
		}
		if err := w.root.Mkdir(rel, 0o700); err != nil {
			return err
		}
	}
	if err := w.lchown(rel, uid, gid); err != nil {
		return err
	}
	if err := w.root.Chmod(rel, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if !mtime.IsZero() {
		w.root.Chtimes(rel, mtime, mtime)
	}
	return nil
}

func parentOf(rel string) string {
	d := path.Dir(rel)
	if d == "/" {
		return "."
	}
	return d
}

func joinRel(dir, name string) string {
	if name == "" || name == "." {
		return dir
	}
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

func statOwner(fi fs.FileInfo) (int, int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}

// copyOne copies one resolved source to dest (relative, resolved in the
// parent image). Files and trees get owner 0:0 unless --chown; --from
// sources keep their owners unless --chown (docker's rule).
func (w *layerWriter) copyOne(s copySource, dest string, destIsDir, add bool, own *owner, chown bool) error {
	if s.tmpFile != "" { // ADD URL: never extracted, mode 0600
		target := dest
		if destIsDir {
			if s.fileName == "" {
				return fmt.Errorf("cannot determine filename from url: %s", s.url)
			}
			target = joinRel(dest, s.fileName)
		}
		f, err := os.Open(s.tmpFile)
		if err != nil {
			return err
		}
		defer f.Close()
		return w.writeFile(target, f, 0o600, own.uid, own.gid, s.modTime)
	}
	_, fromImage := s.view.(*layerView)
	ids := func(fi fs.FileInfo) (int, int) {
		if fromImage && !chown {
			return statOwner(fi)
		}
		return own.uid, own.gid
	}
	if s.isDir {
		if err := w.mkdirAll(dest, own.uid, own.gid); err != nil {
			return err
		}
		type dirTime struct {
			rel string
			t   time.Time
		}
		var dirs []dirTime
		err := walkView(s.view, s.rel, func(name string, fi fs.FileInfo) error {
			r := strings.TrimPrefix(strings.TrimPrefix(name, s.rel), "/")
			if s.rel == "." {
				r = name
			}
			if fi.IsDir() {
				dirs = append(dirs, dirTime{joinRel(dest, r), fi.ModTime()})
			}
			return w.copyEntry(s.view, name, joinRel(dest, r), fi, ids)
		})
		// directory mtimes last (writing into them changed them), deepest first
		for i := len(dirs) - 1; i >= 0; i-- {
			w.root.Chtimes(dirs[i].rel, dirs[i].t, dirs[i].t)
		}
		return err
	}
	fi, err := s.view.Lstat(s.rel)
	if err != nil {
		return err
	}
	if add && fi.Mode().IsRegular() {
		ok, err := w.tryExtract(s.view, s.rel, dest, own, chown)
		if ok || err != nil {
			return err
		}
	}
	target := dest
	if destIsDir {
		target = joinRel(dest, path.Base(s.rel))
	}
	return w.copyEntry(s.view, s.rel, target, fi, ids)
}

func (w *layerWriter) copyEntry(v fileView, name, target string, fi fs.FileInfo, ids func(fs.FileInfo) (int, int)) error {
	uid, gid := ids(fi)
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		return w.dir(target, mode, uid, gid, fi.ModTime())
	case mode&fs.ModeSymlink != 0:
		t, err := v.Readlink(name)
		if err != nil {
			return err
		}
		return w.symlink(target, t, uid, gid)
	case mode.IsRegular():
		f, err := v.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		return w.writeFile(target, f, mode, uid, gid, fi.ModTime())
	default:
		return nil // devices, fifos, sockets: not copied
	}
}

// tryExtract extracts a local tar (plain, gzip, zstd or bzip2) for ADD. It
// reports false when the file is not such an archive.
func (w *layerWriter) tryExtract(v fileView, rel, dest string, own *owner, chown bool) (bool, error) {
	if ok, err := isTarArchive(v, rel); !ok || err != nil {
		return false, err
	}
	r, done, err := openDecompressed(v, rel)
	if err != nil {
		return false, err
	}
	defer done()
	if err := w.mkdirAll(dest, own.uid, own.gid); err != nil {
		return true, err
	}
	tr := tar.NewReader(r)
	var dirs []*tar.Header
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return true, err
		}
		name := cleanRel(hdr.Name)
		if name == "." || strings.HasPrefix(path.Base(name), ".wh.") {
			continue
		}
		uid, gid := hdr.Uid, hdr.Gid
		if chown {
			uid, gid = own.uid, own.gid
		}
		dir, err := w.extractEntry(tr, hdr, dest, joinRel(dest, name), uid, gid)
		if err != nil {
			return true, err
		}
		if dir != nil {
			dirs = append(dirs, dir)
		}
	}
	// directory modes and times last, so writing into them worked
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i].Name) > len(dirs[j].Name) })
	for _, h := range dirs {
		w.root.Chmod(h.Name, fs.FileMode(h.Mode))
		w.root.Chtimes(h.Name, h.ModTime, h.ModTime)
	}
	return true, nil
}

// openDecompressed opens rel in v through the decompressor. A file that is
// no compressed or plain stream it can read gives a nil reader, no error.
func openDecompressed(v fileView, rel string) (io.Reader, func(), error) {
	f, err := v.Open(rel)
	if err != nil {
		return nil, nil, err
	}
	r, err := archive.DecompressStream(f)
	if err != nil {
		f.Close()
		return nil, nil, nil // not an archive we can read: copied as a file
	}
	return r, func() { r.Close(); f.Close() }, nil
}

// isTarArchive tells whether rel, once decompressed, starts with a tar
// header: ADD extracts such a file and copies any other.
func isTarArchive(v fileView, rel string) (bool, error) {
	r, done, err := openDecompressed(v, rel)
	if err != nil || r == nil {
		return false, err
	}
	defer done()
	_, err = tar.NewReader(r).Next()
	return err == nil, nil
}

// extractEntry writes one tar entry at target (dest/name) with the owner
// uid:gid. For a directory it returns the header whose mode and times
// tryExtract sets once everything inside is written. Devices and fifos are
// skipped.
func (w *layerWriter) extractEntry(tr *tar.Reader, hdr *tar.Header, dest, target string, uid, gid int) (*tar.Header, error) {
	mode := archive.TarMode(hdr)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := w.dir(target, 0o755, uid, gid, time.Time{}); err != nil {
			return nil, err
		}
		h := *hdr
		h.Name, h.Mode = target, int64(mode)
		h.Uid, h.Gid = uid, gid
		return &h, nil
	case tar.TypeReg:
		return nil, w.writeFile(target, tr, mode, uid, gid, hdr.ModTime)
	case tar.TypeSymlink:
		return nil, w.symlink(target, hdr.Linkname, uid, gid)
	case tar.TypeLink:
		old := joinRel(dest, cleanRel(hdr.Linkname))
		if err := w.mkdirAll(parentOf(target), uid, gid); err != nil {
			return nil, err
		}
		if err := w.removeExisting(target); err != nil {
			return nil, err
		}
		return nil, w.root.Link(old, target)
	}
	return nil, nil
}

// parseChown resolves --chown=user[:group] against the image's
// /etc/passwd and /etc/group (names) or takes numbers as they are.
func parseChown(v fileView, spec string) (int, int, error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	if !hasGroup {
		g = u
	}
	uid, err := lookupID(v, "etc/passwd", u)
	if err != nil {
		return 0, 0, fmt.Errorf("can't find uid for user %s: %w", u, err)
	}
	gid, err := lookupID(v, "etc/group", g)
	if err != nil {
		return 0, 0, fmt.Errorf("can't find gid for group %s: %w", g, err)
	}
	return uid, gid, nil
}

func lookupID(v fileView, file, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	isGroup := strings.HasSuffix(file, "group")
	what := "user"
	if isGroup {
		what = "group"
	}
	rel, err := resolveInScope(v, file, true)
	if err != nil {
		return 0, err
	}
	f, err := v.Open(rel)
	if err != nil {
		return 0, fmt.Errorf("no such %s: %s", what, name)
	}
	defer f.Close()
	// the image's files, read by moby/sys/user (runc's and dockerd's parser)
	if isGroup {
		groups, err := user.ParseGroupFilter(f, func(g user.Group) bool { return g.Name == name })
		if err == nil && len(groups) > 0 {
			return groups[0].Gid, nil
		}
	} else {
		users, err := user.ParsePasswdFilter(f, func(u user.User) bool { return u.Name == name })
		if err == nil && len(users) > 0 {
			return users[0].Uid, nil
		}
	}
	return 0, fmt.Errorf("no such %s: %s", what, name)
}

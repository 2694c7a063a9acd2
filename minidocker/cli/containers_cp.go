package cli

// docker cp's path rules, on the client side as in docker's CLI: the
// daemon only ever sends a tar of one container path (GET archive) or
// extracts a tar into one existing container directory (PUT archive);
// the client decides which directory that is and renames the archive's
// top entry so that the copy gets the name the user asked for:
//
//	cp c:/etc/hosts .        → ./hosts
//	cp c:/etc/hosts ./h      → ./h (a new file, or replaces the file h)
//	cp c:/etc .              → ./etc/…      cp c:/etc/. ./x → x/… (contents)
//	cp ./x c:/dir/           → /dir/x       cp ./x c:/y     → /y
//	cp - c:/dir  (tar on stdin)   cp c:/dir -  (tar on stdout)

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"

	"github.com/minidocker/minidocker/minidocker/archive"
)

// CpCmd is `docker cp`.
type CpCmd struct {
	Archive    bool   `short:"a" help:"Archive mode (copy all uid/gid information)."`
	FollowLink bool   `short:"L" name:"follow-link" help:"Always follow symbol link in SRC_PATH."`
	Quiet      bool   `short:"q" help:"Suppress progress output during copy."`
	Src        string `arg:"" name:"src" help:"CONTAINER:SRC_PATH or SRC_PATH|-"`
	Dst        string `arg:"" name:"dst" help:"DEST_PATH|- or CONTAINER:DEST_PATH"`
}

// splitCpArg tells CONTAINER:PATH from a local path. An absolute path, or
// one starting with ".", is always local (write ./a:b for a local a:b).
func splitCpArg(arg string) (ctr, p string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}

// Run copies between a container and the local filesystem, in the direction the arguments say.
func (c *CpCmd) Run(g *Globals) error {
	srcCtr, srcPath := splitCpArg(c.Src)
	dstCtr, dstPath := splitCpArg(c.Dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errors.New("must specify at least one container source")
	case srcCtr != "" && srcPath == "", dstCtr != "" && dstPath == "":
		return errors.New("filepath cannot be empty")
	}
	if srcCtr != "" {
		return c.fromContainer(g, srcCtr, srcPath, dstPath)
	}
	return c.toContainer(g, srcPath, dstCtr, dstPath)
}

// splitPathDirEntry is docker's SplitPathDirEntry: dir and base of a
// cleaned path, where a trailing "/." is kept as the base ".".
func splitPathDirEntry(p string) (dir, base string) {
	clean := filepath.Clean(p)
	if strings.HasSuffix(p, "/.") || p == "." {
		clean += "/."
	}
	return filepath.Dir(clean), filepath.Base(clean)
}

// absLocal makes p absolute, keeping a trailing "/" or "/." that carries
// meaning for cp.
func absLocal(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	switch {
	case strings.HasSuffix(p, "/.") || p == ".":
		if abs != "/" {
			abs += "/."
		}
	case strings.HasSuffix(p, "/") && abs != "/":
		abs += "/"
	}
	return abs, nil
}

// countWriter counts the bytes that go through it (cp reports the size copied).
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *CpCmd) progress(g *Globals, n int64, to string) {
	if c.Quiet {
		return
	}
	if _, ok := terminalOf(g.stderr); !ok {
		return
	}
	fmt.Fprintf(g.stderr, "Successfully copied %s to %s\n", units.HumanSize(float64(n)), to)
}

func (c *CpCmd) fromContainer(g *Globals, ctr, srcPath, dstPath string) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ctx := g.ctx
	if !strings.HasPrefix(srcPath, "/") {
		srcPath = "/" + srcPath
	}
	rebaseName := ""
	if c.FollowLink {
		st, err := cli.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: srcPath})
		if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
			target := st.Stat.LinkTarget
			if !filepath.IsAbs(target) {
				d, _ := splitPathDirEntry(srcPath)
				target = filepath.Join(d, target)
			}
			_, rebaseName = splitPathDirEntry(srcPath)
			srcPath = target
		}
	}
	res, err := cli.CopyFromContainer(ctx, ctr, client.CopyFromContainerOptions{SourcePath: srcPath})
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if dstPath == "-" {
		_, err := io.Copy(g.stdout, res.Content)
		return err
	}
	if dstPath, err = absLocal(dstPath); err != nil {
		return err
	}
	// the archive's entries start with the base name of what was asked for
	_, entryBase := splitPathDirEntry(srcPath)
	logical := entryBase
	if rebaseName != "" { // -L: the copy keeps the link's name
		logical = rebaseName
	}
	dst, err := destinationInfo(dstPath)
	if err != nil {
		return err
	}
	dstDir, dstBase := splitPathDirEntry(dst.path)
	srcIsDir := res.Stat.Mode.IsDir()
	opts := archive.ApplyOptions{InScope: true, NoLchown: !c.Archive, NoOverwriteDirNonDir: true, RebaseFrom: entryBase, RebaseTo: logical}
	into := dst.path
	switch {
	case dst.exists && dst.isDir:
		// extract into it
	case dst.exists && srcIsDir:
		return errors.New("cannot copy directory")
	case !dst.exists && !srcIsDir && strings.HasSuffix(dst.path, "/"):
		return errors.New("no such directory")
	default:
		into, opts.RebaseTo = dstDir, dstBase
	}
	if opts.RebaseFrom == opts.RebaseTo {
		opts.RebaseFrom, opts.RebaseTo = "", ""
	}
	root, err := os.OpenRoot(into)
	if err != nil {
		return err
	}
	defer root.Close()
	cw := &countWriter{w: io.Discard}
	if _, err := archive.Apply(ctx, root, ".", io.TeeReader(res.Content, cw), opts); err != nil {
		return err
	}
	c.progress(g, cw.n, dstPath)
	return nil
}

type localDest struct {
	path          string
	exists, isDir bool
}

// destinationInfo is docker's CopyInfoDestinationPath: a symlink at the
// destination is followed (the copy goes to its target); a missing
// destination is fine if its parent directory exists.
func destinationInfo(p string) (localDest, error) {
	orig := p
	st, err := os.Lstat(p)
	for n := 0; err == nil && st.Mode()&os.ModeSymlink != 0; n++ {
		if n > 10 {
			return localDest{}, fmt.Errorf("too many symlinks in: %s", orig)
		}
		target, rerr := os.Readlink(p)
		if rerr != nil {
			return localDest{}, rerr
		}
		if !filepath.IsAbs(target) {
			d, _ := splitPathDirEntry(p)
			target = filepath.Join(d, target)
		}
		p = target
		st, err = os.Lstat(p)
	}
	if err != nil {
		if !os.IsNotExist(err) {
			return localDest{}, err
		}
		parent, _ := splitPathDirEntry(p)
		pst, err := os.Stat(parent)
		if err != nil {
			return localDest{}, err
		}
		if !pst.IsDir() {
			return localDest{}, errors.New("not a directory")
		}
		return localDest{path: p}, nil
	}
	return localDest{path: p, exists: true, isDir: st.IsDir()}, nil
}

// toContainer is `cp SRC CONTAINER:DEST`: where the copy lands is worked
// out from both sides (statContainerDest, statLocalSource, placement),
// then the source goes to the daemon as a tar (or stdin's tar for -).
func (c *CpCmd) toContainer(g *Globals, srcPath, ctr, dstPath string) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(dstPath, "/") {
		dstPath = "/" + dstPath
	}
	dst, err := statContainerDest(g.ctx, cli, ctr, dstPath)
	if err != nil {
		return err
	}
	var content io.Reader
	into := dst.path
	if srcPath == "-" {
		if !dst.isDir {
			return fmt.Errorf("destination \"%s:%s\" must be a directory", ctr, dstPath)
		}
		content = g.stdin
	} else {
		src, err := statLocalSource(srcPath, c.FollowLink)
		if err != nil {
			return err
		}
		if into, src.name, err = dst.placement(src); err != nil {
			return err
		}
		tar, err := src.tar(g.ctx)
		if err != nil {
			return err
		}
		defer tar.Close()
		content = tar
	}
	cw := &countWriter{w: io.Discard}
	_, err = cli.CopyToContainer(g.ctx, ctr, client.CopyToContainerOptions{
		DestinationPath: into, Content: io.TeeReader(content, cw), CopyUIDGID: c.Archive,
	})
	if err != nil {
		return err
	}
	c.progress(g, cw.n, ctr+":"+dstPath)
	return nil
}

// containerDest is what a copy's destination in the container is: path
// (a symlink followed once), whether it exists and whether it is a
// directory.
type containerDest struct {
	path          string
	exists, isDir bool
}

// statContainerDest asks the daemon about the destination. Only a
// directory or a regular file (or nothing yet) can be copied to.
func statContainerDest(ctx context.Context, cli *client.Client, ctr, dstPath string) (containerDest, error) {
	dst := containerDest{path: dstPath}
	st, err := cli.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dstPath})
	if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
		target := st.Stat.LinkTarget
		if !filepath.IsAbs(target) {
			d, _ := splitPathDirEntry(dstPath)
			target = filepath.Join(d, target)
		}
		dst.path = target
		st, err = cli.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: target})
	}
	if err != nil {
		return dst, nil // a destination that does not exist yet
	}
	if m := st.Stat.Mode; !m.IsDir() && !m.IsRegular() {
		return dst, fmt.Errorf("destination \"%s:%s\" must be a directory or a regular file", ctr, dstPath)
	}
	dst.exists, dst.isDir = true, st.Stat.Mode.IsDir()
	return dst, nil
}

// localSource is the host side of a copy into a container: the entry
// base in the directory dir (symlinks in dir resolved), and name, what it
// is called in the archive.
type localSource struct {
	dir, base, name string
	isDir           bool
}

// statLocalSource finds the source on the host. The directory part is
// resolved; the last element is copied as it is (a symlink stays a
// symlink) unless -L follows it.
func statLocalSource(srcPath string, follow bool) (localSource, error) {
	srcPath, err := absLocal(srcPath)
	if err != nil {
		return localSource{}, err
	}
	dir, base := splitPathDirEntry(srcPath)
	if realDir, err := filepath.EvalSymlinks(dir); err == nil {
		dir = realDir
	}
	src := localSource{dir: dir, base: base, name: base}
	if follow && base != "." {
		if real, err := filepath.EvalSymlinks(filepath.Join(dir, base)); err == nil {
			src.dir, src.base = filepath.Dir(real), filepath.Base(real)
		}
	}
	fi, err := os.Lstat(filepath.Join(src.dir, src.base))
	if os.IsNotExist(err) {
		return src, fmt.Errorf("lstat %s: no such file or directory", srcPath)
	}
	if err != nil {
		return src, err
	}
	src.isDir = fi.IsDir()
	return src, nil
}

// placement is docker's rule for where src lands: into an existing
// directory under its own name, else as the destination path itself.
// It returns the directory to extract into and the name in the archive.
func (dst containerDest) placement(src localSource) (into, name string, err error) {
	dstDir, dstBase := splitPathDirEntry(dst.path)
	switch {
	case dst.exists && dst.isDir:
		return dst.path, src.name, nil
	case dst.exists && src.isDir:
		return "", "", errors.New("cannot copy directory")
	case !dst.exists && !src.isDir && strings.HasSuffix(dst.path, "/"):
		return "", "", errors.New("no such directory")
	}
	return dstDir, dstBase, nil
}

// tar streams src as an archive, read through os.Root so that nothing
// outside its directory is reached.
func (src localSource) tar(ctx context.Context) (io.ReadCloser, error) {
	rel := src.base
	if rel == "/" {
		rel = "."
	}
	root, err := os.OpenRoot(src.dir)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer root.Close()
		pw.CloseWithError(archive.WriteTree(ctx, root, rel, pw, archive.WriteOptions{Name: src.name}))
	}()
	return pr, nil
}

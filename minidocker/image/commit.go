package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// CommitOptions describe the image CommitLayer writes on top of its parent.
type CommitOptions struct {
	// Config is the new image's runtime config (Cmd, Env, ...), replacing the parent's.
	Config dockerspec.DockerOCIImageConfig
	// CreatedBy and Comment go into the new history entry
	// ("/bin/sh -c #(nop)  ENV A=1", "|1 FLAVOR=plain /bin/sh -c rm /bin/vi").
	CreatedBy string
	Comment   string
	Author    string
	Created   time.Time // zero: now
	// Legacy builder fields, kept in the config like docker does (optional).
	Container       string
	ContainerConfig *container.Config
	// Platform of an image made from scratch (no parent): defaults linux/GOARCH.
	OS, Architecture string
}

// DockerVersion is what new configs record in docker_version.
var DockerVersion = "minidocker"

// CommitLayer makes a new image from parentImageID ("" = FROM scratch) plus
// the changes in upperDir, the upper directory of an overlay mount whose
// lowerdirs were the parent's LayerDirs. The upperdir is turned back into an
// OCI layer (0/0 character devices become ".wh.NAME", trusted.overlay.opaque
// becomes ".wh..wh..opq"), stored and unpacked like any other layer. With
// upperDir "" no layer is added and the history entry is an empty_layer one
// (what the builder does for ENV, CMD, ...). It returns the new image ID;
// the new image's parent is parentImageID, so `docker history` shows the chain.
func (s *Store) CommitLayer(ctx context.Context, parentImageID, upperDir string, opts CommitOptions) (string, error) {
	var cfg ImageConfig
	if parentImageID != "" {
		id, err := s.Resolve(parentImageID)
		if err != nil {
			return "", err
		}
		parentImageID = id
		raw, err := s.readBlob(id)
		if err != nil {
			return "", err
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return "", err
		}
	} else {
		cfg.OS = "linux"
		cfg.Architecture = runtime.GOARCH
		cfg.RootFS.Type = "layers"
	}
	if opts.OS != "" {
		cfg.OS = opts.OS
	}
	if opts.Architecture != "" {
		cfg.Architecture = opts.Architecture
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now().UTC()
	}
	cfg.Created = &created
	cfg.Config = opts.Config
	cfg.Author = opts.Author
	cfg.Container = opts.Container
	cfg.ContainerConfig = opts.ContainerConfig
	cfg.DockerVersion = DockerVersion
	cfg.Comment = opts.Comment // docker commit -m: shown by `image inspect` as Comment
	cfg.Parent = ""
	h := ocispec.History{Created: &created, CreatedBy: opts.CreatedBy, Comment: opts.Comment, Author: opts.Author, EmptyLayer: upperDir == ""}

	var diffID string
	if upperDir != "" {
		tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "commit-")
		if err != nil {
			return "", err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := DiffUpperDir(ctx, upperDir, tmp); err != nil {
			return "", err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		rec, _, err := s.storeLayer(ctx, layerIn{MediaType: mediaTypeOCILayer, Open: func() (io.ReadCloser, error) { return io.NopCloser(tmp), nil }})
		if err != nil {
			return "", err
		}
		diffID = rec.DiffID
		defer s.unpin(diffID)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.Digest(diffID))
	}
	cfg.History = append(cfg.History, h)
	raw, err := json.Marshal(&cfg)
	if err != nil {
		return "", err
	}
	return s.putImage(raw, parentImageID)
}

// DiffUpperDir writes the OCI layer tar of an overlay upper directory to w.
func DiffUpperDir(ctx context.Context, upperDir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	inodes := map[uint64]string{}
	buf := make([]byte, 128<<10)
	err := filepath.WalkDir(upperDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(upperDir, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mtime := fi.ModTime().Truncate(time.Second)
		hdr := &tar.Header{
			Name:    filepath.ToSlash(rel),
			Mode:    int64(fi.Mode().Perm()),
			Uid:     int(st.Uid),
			Gid:     int(st.Gid),
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if fi.Mode()&fs.ModeSetuid != 0 {
			hdr.Mode |= 0o4000
		}
		if fi.Mode()&fs.ModeSetgid != 0 {
			hdr.Mode |= 0o2000
		}
		if fi.Mode()&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		dir, base := filepath.Split(hdr.Name)
		switch {
		case fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0:
			// an overlay whiteout: the file was deleted
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + whiteoutPrefix + base, Mode: 0o600, ModTime: mtime, Format: tar.FormatPAX})
		case fi.IsDir():
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			addXattrs(p, hdr)
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if isOpaque(p) {
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: hdr.Name + opaqueMarker, Mode: hdr.Mode & 0o7777, ModTime: time.Unix(0, 0), Format: tar.FormatPAX})
			}
			return nil
		case fi.Mode()&fs.ModeSymlink != 0:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname, err = os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(hdr)
		case fi.Mode().IsRegular():
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					hdr.Typeflag = tar.TypeLink
					hdr.Linkname = first
					return tw.WriteHeader(hdr)
				}
				inodes[st.Ino] = hdr.Name
			}
			hdr.Typeflag = tar.TypeReg
			hdr.Size = fi.Size()
			addXattrs(p, hdr)
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
			if err == nil && n != hdr.Size {
				err = fmt.Errorf("%s changed size while committing", p)
			}
			return err
		case fi.Mode()&fs.ModeNamedPipe != 0:
			hdr.Typeflag = tar.TypeFifo
		case fi.Mode()&fs.ModeDevice != 0:
			hdr.Typeflag = tar.TypeBlock
			if fi.Mode()&fs.ModeCharDevice != 0 {
				hdr.Typeflag = tar.TypeChar
			}
			hdr.Devmajor = int64(unix.Major(uint64(st.Rdev)))
			hdr.Devminor = int64(unix.Minor(uint64(st.Rdev)))
		default:
			return nil // sockets are not part of images
		}
		return tw.WriteHeader(hdr)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func isOpaque(p string) bool {
	for _, name := range []string{xattrOpaque, xattrOpaqueUser} {
		b := make([]byte, 8)
		n, err := unix.Lgetxattr(p, name, b)
		if err == nil && n == 1 && b[0] == 'y' {
			return true
		}
	}
	return false
}

// addXattrs carries file capabilities into the layer; overlay's own
// attributes stay behind.
func addXattrs(p string, hdr *tar.Header) {
	b := make([]byte, 256)
	n, err := unix.Lgetxattr(p, "security.capability", b)
	if err != nil || n <= 0 {
		return
	}
	if hdr.PAXRecords == nil {
		hdr.PAXRecords = map[string]string{}
	}
	hdr.PAXRecords["SCHILY.xattr.security.capability"] = string(b[:n])
}

var _ = errors.New
var _ = strings.Cut

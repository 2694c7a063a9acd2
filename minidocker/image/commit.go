package image

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/minidocker/minidocker/minidocker/archive"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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
	// MapIDs, if set, gives the layer's owners from the upper dir's (a
	// container with --userns-remap wrote them as host 100000…).
	MapIDs func(uid, gid int) (int, int)
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
		if err := DiffUpperDir(ctx, upperDir, tmp, opts.MapIDs); err != nil {
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

// DiffUpperDir writes the OCI layer tar of an overlay upper directory to w:
// whiteouts and opaque directories become their OCI entries; mapIDs (nil:
// none) maps the owners of a remapped container's files back.
func DiffUpperDir(ctx context.Context, upperDir string, w io.Writer, mapIDs func(uid, gid int) (int, int)) error {
	root, err := os.OpenRoot(upperDir)
	if err != nil {
		return err
	}
	defer root.Close()
	return archive.WriteTree(ctx, root, ".", w, archive.WriteOptions{OverlayWhiteouts: true, MapIDs: mapIDs})
}

package build

import (
	"context"
	"io"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
)

// Image is what the builder needs to know about an image: its ID
// ("sha256:<64 hex>") and its config blob (author, config, history, rootfs).
type Image struct {
	ID     string
	Config dockerspec.DockerOCIImage
}

// Backend is everything the builder needs from the rest of the daemon. It is
// deliberately narrow: the image store answers GetImage/PullImage/LayerDirs/
// Commit/Tag, the runtime answers Run. Tests use an in-memory fake.
type Backend interface {
	// GetImage finds a local image by reference: name[:tag], name@digest,
	// a full "sha256:…" ID or a unique ID prefix. A missing image must
	// return an error for which errdefs.IsNotFound is true (the builder
	// then calls PullImage, like FROM does in docker).
	GetImage(ctx context.Context, ref string) (Image, error)

	// PullImage pulls ref from its registry, writing docker's progress
	// lines to out, and returns the stored image.
	PullImage(ctx context.Context, ref string, out io.Writer) (Image, error)

	// LayerDirs returns the unpacked layer directories of an image,
	// topmost first (overlay lowerdir order). The builder only reads them.
	// Whiteouts may be overlay style (0/0 char device, opaque xattr) or
	// OCI style (.wh.NAME, .wh..wh..opq); both are understood.
	LayerDirs(ctx context.Context, imageID string) ([]string, error)

	// Commit stores a new image made of the parent's layers plus, when
	// upperDir is not "", one layer made by diffing upperDir (an overlay
	// upperdir: 0/0 char devices are whiteouts, the opaque xattr marks
	// opaque directories). parentID is "" for FROM scratch. The new
	// config is the parent's with req applied: runtime config replaced,
	// author set, and one history entry appended (empty_layer exactly when
	// upperDir is ""). The builder owns upperDir and removes it afterwards.
	// CommitRequest has the same fields, in the same order, as
	// image.CommitOptions, so an adapter is image.CommitOptions(req).
	Commit(ctx context.Context, parentID, upperDir string, req CommitRequest) (imageID string, err error)

	// Run runs one RUN step in a build container and waits for it. The
	// container's rootfs is overlay(lower = LayerDirs(spec.ImageID),
	// upper = spec.UpperDir, work = spec.WorkDir), both made by the builder
	// on the same filesystem. The process's output goes to spec.Stdout and
	// spec.Stderr. exitCode is the process's exit status; err is for
	// failures to start or run it (docker's 126/127 cases included).
	// The container must be gone (no mount, cgroup, process) when Run returns.
	Run(ctx context.Context, spec RunSpec) (exitCode int, err error)

	// Tag points ref (already normalised, e.g. "fixture:v1") at imageID.
	Tag(ctx context.Context, imageID, ref string) error
}

// RunSpec is one RUN step.
type RunSpec struct {
	ID         string   // 64 hex: the intermediate container's ID (hostname = first 12)
	ImageID    string   // parent image ("" for scratch: no lower layers)
	UpperDir   string   // overlay upperdir; after Run it holds the step's changes
	WorkDir    string   // overlay workdir, empty, same filesystem as UpperDir
	MergedDir  string   // empty directory to mount the overlay on
	Hostname   string   // ID[:12], as docker names build containers
	Args       []string // argv, shell already prepended for the shell form
	Env        []string // image Env plus the build args in effect
	WorkingDir string   // "" means "/"
	User       string   // "" means root; "name", "uid", "uid:gid", "name:group"
	Network    string   // "" = the daemon's default network for builds
	Stdout     io.Writer
	Stderr     io.Writer
}

// CommitRequest describes the image one step makes on top of its parent.
type CommitRequest struct {
	Config           dockerspec.DockerOCIImageConfig // the new runtime config (replaces the parent's)
	CreatedBy        string                          // history line, e.g. "/bin/sh -c #(nop)  ENV A=1"
	Comment          string                          // history comment (unused by the builder)
	Author           string                          // MAINTAINER: image author and history author
	Created          time.Time                       // image and history time
	Container        string                          // legacy "container": the intermediate container ID
	ContainerConfig  *container.Config               // legacy "container_config": the step's run config
	OS, Architecture string                          // platform of a FROM scratch image
	MapIDs           func(uid, gid int) (int, int)   // owners in the layer from the upper dir's (a remapped RUN)
}

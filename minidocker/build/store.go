package build

import (
	"context"
	"fmt"
	"io"

	"github.com/minidocker/minidocker/minidocker/image"
)

// StoreBackend is the Backend over minidocker's image store: the one the
// daemon uses (with its registry settings and ContainerRun for RUN), and
// the one this package's store tests use (with a scripted Run).
type StoreBackend struct {
	Store *image.Store
	// Registry gives the registry options for FROM's pulls (mirrors,
	// insecure registries, the client's credentials); nil = defaults.
	Registry func() image.RegistryOptions
	// RunStep is Backend.Run (usually ContainerRun.Run).
	RunStep func(ctx context.Context, spec RunSpec) (int, error)
	// MapIDs, if set, maps the owners of every step's upper dir into its
	// layer (remapped RUN steps wrote host 100000 for 0).
	MapIDs func(uid, gid int) (int, int)
}

// GetImage resolves ref in the image store and returns it as the builder's Image.
func (b *StoreBackend) GetImage(ctx context.Context, ref string) (Image, error) {
	id, err := b.Store.Resolve(ref)
	if err != nil {
		return Image{}, err
	}
	cfg, err := b.Store.Config(id)
	if err != nil {
		return Image{}, err
	}
	return Image{ID: id, Config: cfg.DockerOCIImage}, nil
}

// PullImage writes the pull's status lines ("latest: Pulling from
// library/busybox", "Digest: …", "Status: …") as build output; the byte
// counts of each layer are left out.
func (b *StoreBackend) PullImage(ctx context.Context, ref string, out io.Writer) (Image, error) {
	var opts image.RegistryOptions
	if b.Registry != nil {
		opts = b.Registry()
	}
	img, err := b.Store.Pull(ctx, ref, opts, func(ev image.ProgressEvent) {
		switch {
		case ev.HasDetail:
		case ev.ID != "":
			fmt.Fprintf(out, "%s: %s\n", ev.ID, ev.Status)
		default:
			fmt.Fprintf(out, "%s\n", ev.Status)
		}
	})
	if err != nil {
		return Image{}, err
	}
	return Image{ID: img.ID, Config: img.Config.DockerOCIImage}, nil
}

// LayerDirs are the image's layer directories, lowest first, for the
// overlay a RUN step runs in.
func (b *StoreBackend) LayerDirs(ctx context.Context, id string) ([]string, error) {
	return b.Store.LayerDirs(id)
}

// Commit turns a step's upper directory into a layer and an image on parent.
func (b *StoreBackend) Commit(ctx context.Context, parent, upper string, req CommitRequest) (string, error) {
	if req.MapIDs == nil {
		req.MapIDs = b.MapIDs
	}
	return b.Store.CommitLayer(ctx, parent, upper, image.CommitOptions(req))
}

// Run runs a RUN step through the daemon's RunStep (absent in the
// builder's own tests, where RUN is refused).
func (b *StoreBackend) Run(ctx context.Context, spec RunSpec) (int, error) {
	if b.RunStep == nil {
		return 0, fmt.Errorf("RUN is not available here")
	}
	return b.RunStep(ctx, spec)
}

// Tag points ref at the built image id.
func (b *StoreBackend) Tag(ctx context.Context, id, ref string) error { return b.Store.Tag(id, ref) }

package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/build"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// This file is POST /build on the daemon's side: the context tar is
// unpacked into a directory of its own under <data-root>/build/contexts,
// then package build (docker's classic builder) walks the Dockerfile with
// a Backend made of the image store and real containers for RUN.
//
//	<data-root>/build/cache.jsonl   the build cache index (parent + step → image)
//	<data-root>/build/tmp/          one scratch dir per step (upper/work dirs, RUN's bundle)
//	<data-root>/build/contexts/     one unpacked context per running build
//
// tmp and contexts hold only what running builds use; what a crash left
// there is removed when the daemon starts (initBuilds).

// buildSet is the state of the builds a daemon runs.
type buildSet struct {
	ctx     context.Context // cancelled when the daemon stops: builds end with it
	cancel  context.CancelFunc
	running sync.WaitGroup
}

func (d *Daemon) buildDir() string { return filepath.Join(d.cfg.DataRoot, "build") }

// initBuilds readies the build state at daemon start: what a daemon that
// died mid-build left in tmp (a RUN container still running under its
// shim, its cgroup) is removed, and the scratch directories are emptied.
// Unlike containers, build containers never outlive the daemon.
func (d *Daemon) initBuilds() error {
	bs := &buildSet{}
	bs.ctx, bs.cancel = context.WithCancel(context.Background())
	d.builds = bs
	return d.reconcileBuilds()
}

// reconcileBuilds removes the leftovers of builds a dead daemon was
// running: each step's bundle gets libcontainer.Cleanup (kill, cgroup), then
// tmp and contexts are emptied. Their network endpoints need nothing here:
// no container record owns them, so network reconciliation at start
// already removed them.
func (d *Daemon) reconcileBuilds() error {
	bundles, _ := filepath.Glob(filepath.Join(d.buildDir(), "tmp", "*", "bundle"))
	for _, b := range bundles {
		if err := libcontainer.Cleanup(b); err != nil {
			slog.Warn("removing a stale build container", "bundle", b, "err", err)
		}
	}
	var errs []error
	for _, sub := range []string{"tmp", "contexts"} {
		dir := filepath.Join(d.buildDir(), sub)
		errs = append(errs, os.RemoveAll(dir), os.MkdirAll(dir, 0o700))
	}
	return errors.Join(errs...)
}

// CloseBuilds cancels the running builds and waits for them to clean up
// (their RUN containers removed). The daemon command calls it as soon as
// it is told to stop, so builds do not hold up the API server's shutdown.
func (d *Daemon) CloseBuilds() {
	if d.builds == nil {
		return
	}
	d.builds.cancel()
	d.builds.running.Wait()
}

// BuildImage is `docker build`: contextTar is the build context as the
// client sent it (a tar, maybe gzip- or bzip2-compressed); opts are the
// query's options with Out (and Aux) set by the API. auth is the
// credential for FROM's pulls (nil: anonymous). It returns the image ID.
func (d *Daemon) BuildImage(ctx context.Context, contextTar io.Reader, auth *image.AuthConfig, opts build.Options) (string, error) {
	bs := d.builds
	bs.running.Add(1)
	defer bs.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(bs.ctx, cancel)
	defer stop()
	ctxDir, err := os.MkdirTemp(filepath.Join(d.buildDir(), "contexts"), "ctx-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(ctxDir)
	start := time.Now()
	if err := unpackContext(ctx, ctxDir, contextTar); err != nil {
		return "", err
	}
	unpacked := time.Now()
	opts.StateDir = d.buildDir()
	runner := build.ContainerRun{
		LayerDirs:     d.images.LayerDirs,
		CgroupParent:  d.cfg.CgroupParent,
		Network:       d.buildNetwork,
		UserNamespace: d.remap, // userns.go: RUN is remapped too, as in dockerd
	}
	be := &build.StoreBackend{
		Store:    d.images,
		Registry: func() image.RegistryOptions { return d.RegistryOptions(auth) },
		RunStep:  runner.Run,
	}
	if d.remap != nil {
		be.MapIDs = d.remap.ContainerIDs
		if err := openBuildDirs(d.buildDir()); err != nil {
			return "", err
		}
	}
	id, err := build.Build(ctx, be, ctxDir, opts)
	slog.Debug("build", "id", id, "err", err, "unpack", unpacked.Sub(start), "build", time.Since(unpacked))
	return id, err
}

// unpackContext writes the context tar (plain or compressed) into dir
// through os.Root (no entry can land outside it: not by "../", an absolute
// name or a symlink).
func unpackContext(ctx context.Context, dir string, r io.Reader) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := archive.Apply(ctx, root, ".", r, archive.ApplyOptions{InScope: true}); err != nil {
		if errdefs.KindOf(err) == errdefs.KindUnknown {
			err = errdefs.Invalid("unable to unpack the build context: %v", err)
		}
		return err
	}
	// Read the body to its end (the tar's trailing blocks): only then does
	// the HTTP server watch the connection, so that a client that goes
	// away mid-build cancels the build (and its RUN container).
	_, err = io.Copy(io.Discard, r)
	return err
}

// buildNetwork gives a RUN step its network: by default an endpoint on
// the default bridge, like docker's build containers, made through the
// same seam as a container's (connect/disconnect) with a transient record
// that is never saved — if the daemon dies mid-step, network reconciliation
// at the next start removes the endpoint, since no container record owns
// it. --network none/host/NAME are honoured the same way.
func (d *Daemon) buildNetwork(ctx context.Context, spec build.RunSpec) (libcontainer.Network, func(), error) {
	c := &Container{
		ID:         spec.ID,
		Name:       spec.Hostname,
		Config:     &container.Config{},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(spec.Network)},
		ImageID:    spec.ImageID,
	}
	n, _, err := d.connect(c)
	if err != nil {
		return libcontainer.Network{}, nil, err
	}
	release := func() {}
	if parseNetMode(c.HostConfig.NetworkMode).kind == "bridge" {
		release = func() { d.disconnect(c) }
	}
	return n, release, nil
}

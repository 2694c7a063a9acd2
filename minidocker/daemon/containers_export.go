package daemon

// docker export and docker diff: a container's file system as one tar,
// and the list of what it changed, both read from the overlay's layers
// rather than from the running container, so that its volumes, binds,
// /proc and tmpfs mounts are not part of either (as with docker).

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/archive"
)

// ContainerExport answers GET /containers/{id}/export: write streams the
// container's merged root file system as a tar (file capabilities kept,
// as archive.WriteTree writes them). The file system is mounted before
// ContainerExport returns, so a failure is still an HTTP status.
//
// It is a read-only overlay of its own, in a throwaway mount namespace
// (mountPrivately): the container's upper directory on top of the image's
// layers, all as lower directories. Nothing writes through this mount;
// for a running container it reads the files as they are at that moment.
func (d *Daemon) ContainerExport(ref string) (write func(io.Writer) error, err error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	lowers, upper, _, err := c.RootfsDirs(d)
	if err != nil {
		return nil, err
	}
	layers := append([]string{upper}, lowers...)
	if len(layers) == 1 {
		// overlayfs wants two lower directories when it has no upper one:
		// an image FROM scratch with no layer adds an empty one
		empty, err := os.MkdirTemp(c.Dir, ".export-")
		if err != nil {
			return nil, err
		}
		defer os.Remove(empty) // the mount keeps it while it lives
		layers = append(layers, empty)
	}
	root, release, err := mountPrivately(c.Dir, "lowerdir="+strings.Join(layers, ":"), nil) // container_cp.go
	if err != nil {
		return nil, err
	}
	return func(w io.Writer) error {
		defer release()
		err := archive.WriteTree(context.Background(), root, ".", w, archive.WriteOptions{MapIDs: d.archiveIDs(c)})
		if err == nil {
			d.containerEvent(c, "export")
		}
		return err
	}, nil
}

// ContainerChanges answers GET /containers/{id}/changes (docker diff).
func (d *Daemon) ContainerChanges(ref string) ([]container.FilesystemChange, error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	lowers, upper, _, err := c.RootfsDirs(d)
	if err != nil {
		return nil, err
	}
	// the mount points of /etc/hostname, hosts and resolv.conf, made by
	// the runtime when the image lacks them: docker keeps them in an
	// "init" layer of its own, so its diff never shows them
	changes, err := archive.OverlayChanges(lowers, upper, "/etc/hostname", "/etc/hosts", "/etc/resolv.conf")
	if err != nil {
		return nil, err
	}
	out := make([]container.FilesystemChange, 0, len(changes))
	for _, ch := range changes {
		out = append(out, container.FilesystemChange{Path: ch.Path, Kind: container.ChangeType(ch.Kind)})
	}
	return out, nil
}

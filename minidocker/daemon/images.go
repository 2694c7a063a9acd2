package daemon

import (
	"path/filepath"

	"github.com/minidocker/minidocker/minidocker/image"
)

// initImages opens the image store under <data-root>/image.
func (d *Daemon) initImages() error {
	s, err := image.Open(filepath.Join(d.cfg.DataRoot, "image"))
	if err != nil {
		return err
	}
	d.images = s
	return nil
}

// Images is the image store, for the API's image endpoints.
func (d *Daemon) Images() *image.Store { return d.images }

func (d *Daemon) imageCount() int {
	list, err := d.images.List(false)
	if err != nil {
		return 0
	}
	return len(list)
}

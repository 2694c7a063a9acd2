package daemon

// Sizes on disk: a container's changes (SizeRw, the bytes in its overlay
// upper directory) and its whole root file system (SizeRootFs: the image's
// layers plus the changes), for `ps -s`, `inspect -s` and `system df`.
// They are counted when asked for, walking the directories, as dockerd
// does: a container's size is never stored, it changes with every write.

import (
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	apiimage "github.com/moby/moby/api/types/image"
	mobyvolume "github.com/moby/moby/api/types/volume"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// containerSizeRw is the size of the container's changes.
func (d *Daemon) containerSizeRw(c *Container) (int64, error) {
	return image.DirSize(d.containerUpperDir(c))
}

// imageSizes maps each image ID to its size (the bytes of its layers).
func (d *Daemon) imageSizes() map[string]int64 {
	out := map[string]int64{}
	list, _ := d.images.List(true)
	for _, im := range list {
		out[im.ID] = im.Size
	}
	return out
}

// ContainerSize is the SizeRw and SizeRootFs of `inspect --size`.
func (d *Daemon) ContainerSize(ref string) (rw, rootfs int64, err error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return 0, 0, err
	}
	if rw, err = d.containerSizeRw(c); err != nil {
		return 0, 0, errdefs.As(errdefs.KindUnknown, err)
	}
	return rw, rw + d.imageSizes()[c.ImageID], nil
}

// fillSizes sets SizeRw and SizeRootFs of ps rows (`ps --size`). It reads
// the image store, so it runs with no container's lock held.
func (d *Daemon) fillSizes(rows []container.Summary) {
	images := d.imageSizes()
	for i := range rows {
		c, err := d.GetContainer(rows[i].ID)
		if err != nil {
			continue // removed meanwhile
		}
		rw, _ := d.containerSizeRw(c)
		rows[i].SizeRw, rows[i].SizeRootFs = rw, rw+images[rows[i].ImageID]
	}
}

// DiskUsage is GET /system/df in the shape of API 1.51 and older (the
// ones minidocker speaks): each list is present when its type was asked
// for (all of them when none was). BuildCache is always empty: the
// builder's cache is its images (see api/build.go's build prune), already
// counted under Images.
type DiskUsage struct {
	LayersSize int64                `json:",omitempty"`
	Images     []apiimage.Summary   `json:",omitempty"`
	Containers []container.Summary  `json:",omitempty"`
	Volumes    []*mobyvolume.Volume `json:",omitempty"`
	BuildCache []build.CacheRecord
}

// DiskUsageTypes are the values of /system/df's ?type=.
var DiskUsageTypes = []string{"container", "image", "volume", "build-cache"}

// SystemDiskUsage is `docker system df`; types selects the parts (nil:
// all).
func (d *Daemon) SystemDiskUsage(types []string) (*DiskUsage, error) {
	want := func(t string) bool { return len(types) == 0 || contains(types, t) }
	du := &DiskUsage{BuildCache: []build.CacheRecord{}}
	if want("container") {
		du.Containers = d.ListContainers(ListOptions{All: true, Size: true})
	}
	if want("image") {
		images, layers, err := d.imageUsage()
		if err != nil {
			return nil, err
		}
		du.Images, du.LayersSize = images, layers
	}
	if want("volume") {
		for _, v := range d.volumes.List() {
			du.Volumes = append(du.Volumes, d.volumeJSON(v, true))
		}
	}
	return du, nil
}

// imageUsage lists every image with how many containers use it and how
// much of it other images share, and the size of all layers once.
func (d *Daemon) imageUsage() ([]apiimage.Summary, int64, error) {
	users := map[string]int64{}
	for _, c := range d.Containers() {
		c.mu.Lock()
		users[c.ImageID]++
		c.mu.Unlock()
	}
	list, err := d.images.List(true)
	if err != nil {
		return nil, 0, err
	}
	layers, shared, err := d.images.DiskUsage()
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		list[i].Containers = users[list[i].ID]
		list[i].SharedSize = shared[list[i].ID]
	}
	return list, layers, nil
}

package daemon

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	mobyvolume "github.com/moby/moby/api/types/volume"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/volume"
)

// Volumes: the API side of package volume (create, ls, inspect, rm,
// prune), and the rule that ties volumes to containers: a volume is never
// removed while a container record (running or not) mounts it. The mounts
// of a container are resolved once, at create (mounts.go).

func (d *Daemon) initVolumes() error {
	s, err := volume.Open(filepath.Join(d.cfg.DataRoot, "volumes"))
	if err != nil {
		return fmt.Errorf("opening the volume store: %w", err)
	}
	if d.remap != nil { // userns.go: new volumes are the remapped root's
		s.OwnDataBy(int(d.remap.RootUID()), int(d.remap.RootGID()))
	}
	d.volumes = s
	return nil
}

// VolumeFilters are the keys `volume ls --filter` and `volume prune
// --filter` understand.
var VolumeFilters = []string{"name", "label", "dangling", "driver", "all"}

// CreateVolume is POST /volumes/create. The local driver takes no options.
func (d *Daemon) CreateVolume(req mobyvolume.CreateRequest) (*mobyvolume.Volume, error) {
	if req.Driver != "" && req.Driver != volume.DriverName {
		return nil, errdefs.NotFound("error looking up volume plugin %s: plugin %q not found", req.Driver, req.Driver)
	}
	if len(req.DriverOpts) > 0 {
		return nil, errdefs.Invalid("the local driver's options (type, device, o) are not supported: volumes are plain directories here")
	}
	if req.ClusterVolumeSpec != nil {
		return nil, errdefs.Invalid("cluster volumes need swarm mode, which is not supported")
	}
	v, created, err := d.volumes.Create(req.Name, req.Labels)
	if err != nil {
		return nil, err
	}
	if created {
		d.volumeEvent("create", v.Name)
	}
	return d.volumeJSON(v, false), nil
}

// volumeJSON is docker's shape of a volume; withUsage adds UsageData (size
// and how many containers use it), which `system df -v` shows.
func (d *Daemon) volumeJSON(v *volume.Volume, withUsage bool) *mobyvolume.Volume {
	out := &mobyvolume.Volume{
		Name: v.Name, Driver: volume.DriverName, Mountpoint: v.Mountpoint, Scope: "local",
		CreatedAt: v.CreatedAt.Format(time.RFC3339), Labels: v.Labels, Options: map[string]string{},
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if withUsage {
		out.UsageData = &mobyvolume.UsageData{Size: d.volumes.Size(v.Name), RefCount: int64(len(d.volumeUsers(v.Name)))}
	}
	return out
}

// InspectVolume is GET /volumes/{name}.
func (d *Daemon) InspectVolume(name string) (*mobyvolume.Volume, error) {
	v, err := d.volumes.Get(name)
	if err != nil {
		return nil, err
	}
	return d.volumeJSON(v, false), nil
}

// ListVolumes is GET /volumes with its filters: name (substring), label
// (all must match), dangling (used by no container), driver.
func (d *Daemon) ListVolumes(filters map[string][]string) []*mobyvolume.Volume {
	out := []*mobyvolume.Volume{}
	for _, v := range d.volumes.List() {
		if d.matchVolume(filters, v) {
			out = append(out, d.volumeJSON(v, false))
		}
	}
	return out
}

// matchVolume applies `volume ls --filter` and prune's filters (see
// matchesFilters for how they combine; "all" is prune's, not a filter).
func (d *Daemon) matchVolume(f map[string][]string, v *volume.Volume) bool {
	return matchesFilters(f, v.Labels, func(key, want string) bool {
		switch key {
		case "all":
			return true
		case "name":
			return strings.Contains(v.Name, want)
		case "driver":
			return want == volume.DriverName
		case "dangling":
			dangling := len(d.volumeUsers(v.Name)) == 0
			return dangling == (want == "true" || want == "1")
		}
		return false
	})
}

// volumeUsers are the IDs of the containers whose mounts name the volume.
func (d *Daemon) volumeUsers(name string) []string {
	var ids []string
	for _, c := range d.Containers() {
		c.mu.Lock()
		for _, m := range c.MountPoints {
			if m.Type == mount.TypeVolume && m.Name == name {
				ids = append(ids, c.ID)
				break
			}
		}
		c.mu.Unlock()
	}
	return ids
}

// RemoveVolume is DELETE /volumes/{name}: 409 while a container uses it
// (force does not override that, as in docker; it only hides a missing
// volume).
func (d *Daemon) RemoveVolume(name string, force bool) error {
	err := d.volumes.Remove(name, d.volumeUsers)
	d.volumeRemoved(name, err) // events.go
	if force && errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// PruneVolumes is POST /volumes/prune: the unused anonymous volumes, or
// with the filter all=true every unused volume (docker's API 1.42 rule).
func (d *Daemon) PruneVolumes(filters map[string][]string) (*mobyvolume.PruneReport, error) {
	all := false
	for _, v := range filters["all"] {
		all = all || v == "true" || v == "1"
	}
	rep := &mobyvolume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range d.volumes.List() {
		if (!v.Anonymous && !all) || !d.matchVolume(filters, v) {
			continue
		}
		size := d.volumes.Size(v.Name)
		if err := d.volumes.Remove(v.Name, d.volumeUsers); err != nil {
			if errdefs.IsConflict(err) || errdefs.IsNotFound(err) {
				continue // in use, or removed meanwhile
			}
			return rep, err
		}
		d.volumeRemoved(v.Name, nil)
		rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
		rep.SpaceReclaimed += uint64(size)
	}
	return rep, nil
}

// removeAnonymousVolumes is the -v of `rm -v` (and --rm): the container's
// anonymous volumes go unless another container still uses one.
func (d *Daemon) removeAnonymousVolumes(mps []MountPoint) {
	for _, m := range mps {
		if m.Type != mount.TypeVolume {
			continue
		}
		if v, err := d.volumes.Get(m.Name); err == nil && v.Anonymous {
			d.volumeRemoved(m.Name, d.volumes.Remove(m.Name, d.volumeUsers))
		}
	}
}

// mountPointsJSON is inspect's Mounts.
func mountPointsJSON(mps []MountPoint) []container.MountPoint {
	out := []container.MountPoint{}
	for _, m := range mps {
		mp := container.MountPoint{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly}
		switch m.Type {
		case mount.TypeVolume:
			mp.Driver, mp.Mode = volume.DriverName, "z"
		case mount.TypeBind:
			mp.Propagation = mount.PropagationRPrivate
			if m.ReadOnly {
				mp.Mode = "ro"
			}
		}
		out = append(out, mp)
	}
	return out
}

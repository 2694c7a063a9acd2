package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// MountPoint is one mount of a container, resolved at create from -v
// (Binds), --mount (Mounts), --tmpfs, --volumes-from and the anonymous
// volumes of Config.Volumes (the image's VOLUME lines among them). It is
// kept in the container's record; start turns it into a libcontainer.Mount.
type MountPoint struct {
	Type        mount.Type // bind, volume or tmpfs
	Name        string     `json:",omitempty"` // the volume's name
	Source      string     `json:",omitempty"` // host path: a bind's source, a volume's _data
	Destination string
	ReadOnly    bool `json:",omitempty"`
	// CopyUp fills an empty volume with what the image has at Destination,
	// as docker does the first time a volume is mounted (not with nocopy).
	CopyUp bool `json:",omitempty"`
	// TmpfsFlags and TmpfsData are the mount(2) flags and data of a tmpfs.
	TmpfsFlags uintptr `json:",omitempty"`
	TmpfsData  string  `json:",omitempty"`
}

// mountPlan collects a container's mounts while create resolves them.
// Volumes it creates are remembered, so a refused create removes them.
type mountPlan struct {
	d       *Daemon
	mps     []MountPoint
	taken   map[string]bool
	created []string
}

// resolveMounts works out every mount of a new container. On error the
// volumes it made are gone again: a refused create leaves nothing.
func (d *Daemon) resolveMounts(cfg *container.Config, hc *container.HostConfig) ([]MountPoint, func(), error) {
	p := &mountPlan{d: d, taken: map[string]bool{}}
	undo := func() {
		for _, name := range p.created {
			d.volumeRemoved(name, d.volumes.Remove(name, func(string) []string { return nil }))
		}
	}
	for _, step := range []func(*container.Config, *container.HostConfig) error{p.binds, p.mounts, p.tmpfs, p.volumesFrom, p.anonymous} {
		if err := step(cfg, hc); err != nil {
			undo()
			return nil, nil, err
		}
	}
	return p.mps, undo, nil
}

// add takes a mount, refusing a second one on the same path.
func (p *mountPlan) add(m MountPoint) error {
	if p.taken[m.Destination] {
		return errdefs.Invalid("Duplicate mount point: %s", m.Destination)
	}
	p.taken[m.Destination] = true
	p.mps = append(p.mps, m)
	return nil
}

// volume finds or makes the named volume (anonymous when name is "").
func (p *mountPlan) volume(name string, labels map[string]string) (MountPoint, error) {
	v, created, err := p.d.volumes.Create(name, labels)
	if err != nil {
		return MountPoint{}, err
	}
	if created {
		p.created = append(p.created, v.Name)
		p.d.volumeEvent("create", v.Name)
	}
	return MountPoint{Type: mount.TypeVolume, Name: v.Name, Source: v.Mountpoint, CopyUp: true}, nil
}

// binds is -v host:/path[:ro] and -v name:/path[:ro,nocopy].
func (p *mountPlan) binds(_ *container.Config, hc *container.HostConfig) error {
	bs, err := parseBinds(hc.Binds)
	if err != nil {
		return err
	}
	for i, b := range bs {
		m := MountPoint{Type: mount.TypeBind, Source: b.Source}
		if b.Named != "" {
			if m, err = p.volume(b.Named, nil); err != nil {
				return err
			}
			m.CopyUp = !strings.Contains(hc.Binds[i], "nocopy")
		}
		m.Destination, m.ReadOnly = b.Destination, b.ReadOnly
		if err := p.add(m); err != nil {
			return err
		}
	}
	return nil
}

// mounts is --mount (HostConfig.Mounts): bind, volume and tmpfs, with
// docker's checks and words.
func (p *mountPlan) mounts(_ *container.Config, hc *container.HostConfig) error {
	for _, spec := range hc.Mounts {
		m, err := p.mount(spec)
		if err != nil {
			return err
		}
		if err := p.add(m); err != nil {
			return err
		}
	}
	return nil
}

func (p *mountPlan) mount(spec mount.Mount) (MountPoint, error) {
	bad := func(format string, args ...any) error {
		return errdefs.Invalid("invalid mount config for type %q: %s", spec.Type, fmt.Sprintf(format, args...))
	}
	if spec.Target == "" {
		return MountPoint{}, bad("field Target must not be empty")
	}
	if !filepath.IsAbs(spec.Target) {
		return MountPoint{}, bad("invalid mount path: '%s' mount path must be absolute", spec.Target)
	}
	if filepath.Clean(spec.Target) == "/" {
		return MountPoint{}, bad("invalid specification: destination can't be '/'")
	}
	if spec.Type != mount.TypeBind && spec.BindOptions != nil {
		return MountPoint{}, bad("field BindOptions must not be specified")
	}
	if spec.Type != mount.TypeVolume && spec.VolumeOptions != nil {
		return MountPoint{}, bad("field VolumeOptions must not be specified")
	}
	if spec.Type != mount.TypeTmpfs && spec.TmpfsOptions != nil {
		return MountPoint{}, bad("field TmpfsOptions must not be specified")
	}
	if spec.ImageOptions != nil || spec.ClusterOptions != nil {
		return MountPoint{}, bad("image and cluster options are not supported")
	}
	var m MountPoint
	var err error
	switch spec.Type {
	case mount.TypeBind:
		m, err = bindMount(spec, bad)
	case mount.TypeVolume:
		m, err = p.volumeMount(spec, bad)
	case mount.TypeTmpfs:
		m, err = tmpfsMount(spec, bad)
	default:
		return MountPoint{}, errdefs.Invalid("mount type %q is not supported (bind, volume and tmpfs are)", spec.Type)
	}
	m.Destination = filepath.Clean(spec.Target)
	m.ReadOnly = m.ReadOnly || spec.ReadOnly
	return m, err
}

func bindMount(spec mount.Mount, bad func(string, ...any) error) (MountPoint, error) {
	if spec.Source == "" {
		return MountPoint{}, bad("field Source must not be empty")
	}
	if !filepath.IsAbs(spec.Source) {
		return MountPoint{}, bad("invalid mount path: '%s' mount path must be absolute", spec.Source)
	}
	if _, err := os.Stat(spec.Source); err != nil {
		return MountPoint{}, bad("bind source path does not exist: %s", spec.Source)
	}
	if o := spec.BindOptions; o != nil {
		if (o.Propagation != "" && o.Propagation != mount.PropagationRPrivate) || o.NonRecursive || o.CreateMountpoint || o.ReadOnlyNonRecursive || o.ReadOnlyForceRecursive {
			return MountPoint{}, bad("bind options other than the default propagation (rprivate) are not supported")
		}
	}
	return MountPoint{Type: mount.TypeBind, Source: filepath.Clean(spec.Source)}, nil
}

func (p *mountPlan) volumeMount(spec mount.Mount, bad func(string, ...any) error) (MountPoint, error) {
	var labels map[string]string
	nocopy := false
	if o := spec.VolumeOptions; o != nil {
		if o.Subpath != "" {
			return MountPoint{}, bad("volume subpaths are not supported")
		}
		if o.DriverConfig != nil && ((o.DriverConfig.Name != "" && o.DriverConfig.Name != "local") || len(o.DriverConfig.Options) > 0) {
			return MountPoint{}, bad("only the local driver, without options, is supported")
		}
		labels, nocopy = o.Labels, o.NoCopy
	}
	m, err := p.volume(spec.Source, labels)
	m.CopyUp = !nocopy
	return m, err
}

func tmpfsMount(spec mount.Mount, bad func(string, ...any) error) (MountPoint, error) {
	if spec.Source != "" {
		return MountPoint{}, bad("field Source must not be specified")
	}
	var opts []string
	if o := spec.TmpfsOptions; o != nil {
		if o.SizeBytes < 0 {
			return MountPoint{}, bad("invalid tmpfs size %d", o.SizeBytes)
		}
		if o.SizeBytes > 0 {
			opts = append(opts, fmt.Sprintf("size=%d", o.SizeBytes))
		}
		if o.Mode != 0 {
			// the API's mode is the octal number given (tmpfs-mode=1770),
			// sticky and set-id bits included, not Go's FileMode flags
			opts = append(opts, fmt.Sprintf("mode=%o", uint32(o.Mode)&0o7777))
		}
		for _, kv := range o.Options {
			opts = append(opts, strings.Join(kv, "="))
		}
	}
	flags, data, err := tmpfsOptions(strings.Join(opts, ","), unix.MS_NOSUID|unix.MS_NODEV)
	if err != nil {
		return MountPoint{}, bad("%v", err)
	}
	return MountPoint{Type: mount.TypeTmpfs, TmpfsFlags: flags, TmpfsData: data}, nil
}

// tmpfsOptions splits "ro,noexec,size=64m" into mount(2) flags and data.
func tmpfsOptions(s string, flags uintptr) (uintptr, string, error) {
	set := map[string]uintptr{"ro": unix.MS_RDONLY, "noexec": unix.MS_NOEXEC, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noatime": unix.MS_NOATIME}
	clear := map[string]uintptr{"rw": unix.MS_RDONLY, "exec": unix.MS_NOEXEC, "suid": unix.MS_NOSUID, "dev": unix.MS_NODEV}
	var data []string
	for _, o := range strings.Split(s, ",") {
		key, _, _ := strings.Cut(o, "=")
		switch {
		case o == "":
		case set[o] != 0:
			flags |= set[o]
		case clear[o] != 0:
			flags &^= clear[o]
		case key == "size" || key == "mode" || key == "uid" || key == "gid" || key == "nr_inodes":
			data = append(data, o)
		default:
			return 0, "", fmt.Errorf("unknown tmpfs option %q", o)
		}
	}
	return flags, strings.Join(data, ","), nil
}

// tmpfs is --tmpfs /path[:options] (HostConfig.Tmpfs); docker's default
// for it is noexec,nosuid,nodev.
func (p *mountPlan) tmpfs(_ *container.Config, hc *container.HostConfig) error {
	for dest, opts := range hc.Tmpfs {
		if !filepath.IsAbs(dest) || filepath.Clean(dest) == "/" {
			return errdefs.Invalid("invalid tmpfs destination %q: it must be an absolute path other than /", dest)
		}
		flags, data, err := tmpfsOptions(opts, unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV)
		if err != nil {
			return errdefs.Invalid("invalid tmpfs options for %s: %v", dest, err)
		}
		m := MountPoint{Type: mount.TypeTmpfs, Destination: filepath.Clean(dest), TmpfsFlags: flags, TmpfsData: data}
		m.ReadOnly = flags&unix.MS_RDONLY != 0
		if err := p.add(m); err != nil {
			return err
		}
	}
	return nil
}

// volumesFrom is --volumes-from X[:ro|:rw]: X's binds and volumes, on the
// same paths, unless this container mounts something there itself.
func (p *mountPlan) volumesFrom(_ *container.Config, hc *container.HostConfig) error {
	for _, spec := range hc.VolumesFrom {
		ref, mode, _ := strings.Cut(spec, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return errdefs.Invalid("invalid mode for --volumes-from: %s", mode)
		}
		other, err := p.d.GetContainer(ref)
		if err != nil {
			// a 400, not a 404: the docker CLI answers a 404 to create by
			// pulling the image
			return errdefs.Invalid("%s", err.Error())
		}
		other.mu.Lock()
		theirs := append([]MountPoint(nil), other.MountPoints...)
		other.mu.Unlock()
		for _, m := range theirs {
			if m.Type == mount.TypeTmpfs || p.taken[m.Destination] {
				continue
			}
			if mode != "" {
				m.ReadOnly = mode == "ro"
			}
			m.CopyUp = false
			p.add(m)
		}
	}
	return nil
}

// anonymous gives every path of Config.Volumes (VOLUME in the image, -v
// /path) that nothing else mounts a new anonymous volume.
func (p *mountPlan) anonymous(cfg *container.Config, _ *container.HostConfig) error {
	for dest := range cfg.Volumes {
		dest = filepath.Clean(dest)
		if !filepath.IsAbs(dest) {
			return errdefs.Invalid("invalid volume specification: '%s': mount path must be absolute", dest)
		}
		if p.taken[dest] {
			continue
		}
		m, err := p.volume("", nil)
		if err != nil {
			return err
		}
		m.Destination = dest
		if err := p.add(m); err != nil {
			return err
		}
	}
	return nil
}

// bindsOf are the binds and volumes among mps, for cp into a stopped
// container (a tmpfs has nothing while the container is stopped).
func bindsOf(mps []MountPoint) []bind {
	var out []bind
	for _, m := range mps {
		if m.Type != mount.TypeTmpfs {
			out = append(out, bind{Source: m.Source, Destination: m.Destination, ReadOnly: m.ReadOnly, Named: m.Name})
		}
	}
	return out
}

// runtimeMounts turns a container's mount points into the runtime's
// mounts. A bind whose host directory is gone is made again (docker
// creates a missing -v source).
func runtimeMounts(mps []MountPoint) ([]libcontainer.Mount, error) {
	var out []libcontainer.Mount
	for _, m := range mps {
		lm := libcontainer.Mount{Source: m.Source, Destination: m.Destination, ReadOnly: m.ReadOnly}
		switch m.Type {
		case mount.TypeTmpfs:
			lm.Tmpfs, lm.Flags, lm.Data = true, m.TmpfsFlags, m.TmpfsData
		case mount.TypeVolume:
			lm.CopyUp = m.CopyUp
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return nil, err
			}
		default:
			if _, err := os.Stat(m.Source); os.IsNotExist(err) {
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return nil, errdefs.Invalid("error while creating mount source path '%s': %v", m.Source, err)
				}
			}
		}
		out = append(out, lm)
	}
	return out, nil
}

package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// MountFlags are run's and create's storage flags besides -v and --tmpfs:
// --mount and --volumes-from. They are parsed here, with docker's CLI
// errors; what the daemon then checks (a missing bind source, a container
// that does not exist) it reports itself.
type MountFlags struct {
	Mount       []string `sep:"none" help:"Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=…,target=…[,readonly])."`
	VolumesFrom []string `name:"volumes-from" sep:"none" help:"Mount volumes from the specified container(s) (CONTAINER[:ro|:rw])."`
}

// apply puts the mounts into the create request.
func (f *MountFlags) apply(hc *container.HostConfig) error {
	for _, spec := range f.Mount {
		m, err := parseMount(spec)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--mount\" flag: %v", spec, err)
		}
		hc.Mounts = append(hc.Mounts, m)
	}
	hc.VolumesFrom = f.VolumesFrom
	return nil
}

// volumeFlags sorts -v specs as docker's CLI does: one with a source (a host
// path or a volume name) is a bind, HostConfig.Binds; a lone path is an
// anonymous volume, Config.Volumes. A relative host path that starts with
// "." is made absolute against the client's working directory.
func volumeFlags(specs []string, cfg *container.Config, hc *container.HostConfig) error {
	for _, spec := range specs {
		source, err := volumeSource(spec)
		if err != nil {
			return err
		}
		if source == "" {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[spec] = struct{}{}
			continue
		}
		if strings.HasPrefix(source, ".") {
			if abs, err := filepath.Abs(source); err == nil {
				spec = abs + spec[len(source):]
			}
		}
		hc.Binds = append(hc.Binds, spec)
	}
	return nil
}

// volumeSource is the source part of -v SOURCE:TARGET[:MODE], "" for -v
// TARGET. It refuses what docker's CLI refuses: an empty spec, an empty
// part between colons and a fourth part; the daemon checks the rest.
func volumeSource(spec string) (string, error) {
	switch {
	case spec == "":
		return "", errors.New("invalid empty volume spec")
	case len(spec) <= 2: // docker takes "a:" and ":" as a target, which the daemon refuses
		return "", nil
	}
	parts := strings.Split(spec, ":")
	for i, p := range parts {
		if i == 3 {
			return "", fmt.Errorf("invalid spec: %s: too many colons", spec)
		}
		if p == "" {
			return "", fmt.Errorf("invalid spec: %s: empty section between colons", spec)
		}
	}
	if len(parts) == 1 {
		return "", nil
	}
	return parts[0], nil
}

// parseMount reads one --mount value: comma-separated key=value fields, in
// CSV so that a field may be quoted. A mount is a volume unless type= says
// otherwise.
func parseMount(spec string) (mount.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		key = strings.ToLower(key) // docker's keys are not case-sensitive
		if !hasValue {
			err = mountFlagField(&m, key, field)
		} else {
			err = mountField(&m, key, val, field)
		}
		if err != nil {
			return mount.Mount{}, err
		}
	}
	return m, checkMount(m)
}

// mountFlagField is a field without a value: readonly, volume-nocopy and
// the deprecated bind-nonrecursive.
func mountFlagField(m *mount.Mount, key, field string) error {
	switch key {
	case "readonly", "ro":
		m.ReadOnly = true
	case "volume-nocopy":
		volumeOptions(m).NoCopy = true
	case "bind-nonrecursive":
		bindOptions(m).NonRecursive = true
	default:
		return fmt.Errorf("invalid field '%s' must be a key=value pair", field)
	}
	return nil
}

// mountField is one key=value field of --mount.
func mountField(m *mount.Mount, key, val, field string) error {
	invalid := fmt.Errorf("invalid value for %s: %s", key, val)
	var err error
	switch key {
	case "type":
		m.Type = mount.Type(strings.ToLower(val))
	case "source", "src":
		m.Source = val
		if strings.HasPrefix(val, ".") {
			if abs, aerr := filepath.Abs(val); aerr == nil {
				m.Source = abs
			}
		}
	case "target", "dst", "destination":
		m.Target = val
	case "readonly", "ro":
		if m.ReadOnly, err = strconv.ParseBool(val); err != nil {
			return invalid
		}
	case "consistency":
		m.Consistency = mount.Consistency(strings.ToLower(val))
	case "bind-propagation":
		bindOptions(m).Propagation = mount.Propagation(strings.ToLower(val))
	case "bind-nonrecursive":
		if bindOptions(m).NonRecursive, err = strconv.ParseBool(val); err != nil {
			return invalid
		}
	case "bind-recursive":
		return bindRecursive(m, key, val)
	default:
		return volumeOrTmpfsField(m, key, val, field)
	}
	return nil
}

// bindRecursive is bind-recursive=enabled|disabled|writable|readonly: how a
// bind treats the mounts below its source.
func bindRecursive(m *mount.Mount, key, val string) error {
	switch val {
	case "enabled": // the default
	case "disabled":
		bindOptions(m).NonRecursive = true
	case "writable":
		bindOptions(m).ReadOnlyNonRecursive = true
	case "readonly":
		bindOptions(m).ReadOnlyForceRecursive = true
	default:
		return fmt.Errorf(`invalid value for %s: %s (must be "enabled", "disabled", "writable", or "readonly")`, key, val)
	}
	return nil
}

// volumeOrTmpfsField is a volume-* or tmpfs-* field.
func volumeOrTmpfsField(m *mount.Mount, key, val, field string) error {
	invalid := fmt.Errorf("invalid value for %s: %s", key, val)
	var err error
	switch key {
	case "volume-subpath":
		volumeOptions(m).Subpath = val
	case "volume-nocopy":
		if volumeOptions(m).NoCopy, err = strconv.ParseBool(val); err != nil {
			return invalid
		}
	case "volume-label":
		setKeyValue(volumeOptions(m).Labels, val)
	case "volume-driver":
		volumeOptions(m).DriverConfig.Name = val
	case "volume-opt":
		o := volumeOptions(m).DriverConfig
		if o.Options == nil {
			o.Options = map[string]string{}
		}
		setKeyValue(o.Options, val)
	case "tmpfs-size":
		if tmpfsOptions(m).SizeBytes, err = units.RAMInBytes(val); err != nil {
			return invalid
		}
	case "tmpfs-mode":
		mode, err := strconv.ParseUint(val, 8, 32)
		if err != nil {
			return invalid
		}
		tmpfsOptions(m).Mode = os.FileMode(mode)
	default:
		return fmt.Errorf("unexpected key '%s' in '%s'", key, field)
	}
	return nil
}

// setKeyValue sets k=v (or k alone) in target; an empty key is skipped.
func setKeyValue(target map[string]string, kv string) {
	if k, v, _ := strings.Cut(kv, "="); k != "" {
		target[k] = v
	}
}

// volumeOptions, bindOptions and tmpfsOptions make the options of a kind
// the first time a field asks for them: checkMount then refuses the
// options of another kind than the mount's type.
func volumeOptions(m *mount.Mount) *mount.VolumeOptions {
	if m.VolumeOptions == nil {
		m.VolumeOptions = &mount.VolumeOptions{Labels: map[string]string{}, DriverConfig: &mount.Driver{}}
	}
	return m.VolumeOptions
}

func bindOptions(m *mount.Mount) *mount.BindOptions {
	if m.BindOptions == nil {
		m.BindOptions = &mount.BindOptions{}
	}
	return m.BindOptions
}

func tmpfsOptions(m *mount.Mount) *mount.TmpfsOptions {
	if m.TmpfsOptions == nil {
		m.TmpfsOptions = &mount.TmpfsOptions{}
	}
	return m.TmpfsOptions
}

// checkMount refuses a mount docker's CLI refuses before sending it.
func checkMount(m mount.Mount) error {
	switch {
	case m.Type == "":
		return errors.New("type is required")
	case m.Target == "":
		return errors.New("target is required")
	case m.VolumeOptions != nil && m.Type != mount.TypeVolume:
		return fmt.Errorf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	case m.BindOptions != nil && m.Type != mount.TypeBind:
		return fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	case m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs:
		return fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	if o := m.BindOptions; o != nil {
		if o.ReadOnlyNonRecursive && !m.ReadOnly {
			return errors.New("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")
		}
		if o.ReadOnlyForceRecursive && !m.ReadOnly {
			return errors.New("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction")
		}
		if o.ReadOnlyForceRecursive && o.Propagation != mount.PropagationRPrivate {
			return errors.New("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction")
		}
	}
	return nil
}

package daemon

// The run options that change how the runtime makes the container, beyond
// the image, mounts, network and confinement: the log's rotation, rlimits,
// /dev/shm, namespaced sysctls, --init, the domain name, extra groups,
// the IPC, PID and UTS namespaces to share, and devices.
// Create checks them all (validateRunOptions), so a container with a bad
// one is never made; start turns them into the Spec (applyRunOptions),
// and exec gives its process the container's rlimits and groups
// (applyExecRunOptions), as docker does.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// defaultShmSize is docker's /dev/shm size, which inspect shows when the
// request sets none.
const defaultShmSize = 64 << 20

// validateRunOptions refuses, in docker's words, the run options a
// container could not start with; it also fills in docker's defaults
// (the log driver, the /dev/shm size), which inspect then shows.
func (d *Daemon) validateRunOptions(cfg *container.Config, hc *container.HostConfig) error {
	if err := validateLogConfig(&hc.LogConfig); err != nil {
		return err
	}
	if _, err := rlimitsOf(hc); err != nil {
		return err
	}
	if hc.ShmSize < 0 {
		return errdefs.Invalid("SHM size can not be less than 0")
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = defaultShmSize
	}
	if err := checkNamespaceModes(cfg, hc); err != nil {
		return err
	}
	devs, err := devicesOf(hc)
	if err != nil {
		return err
	}
	if _, err := deviceRulesOf(hc, devs); err != nil { // devices_cgroup.go
		return err
	}
	return checkSysctls(hc)
}

// applyRunOptions puts the run options into the spec of a start.
func (d *Daemon) applyRunOptions(c *Container, cfg *container.Config, hc *container.HostConfig, spec *libcontainer.Spec) error {
	if err := applyLogOptions(c, cfg, hc.LogConfig, spec); err != nil { // logconfig.go
		return err
	}
	var err error
	if spec.Process.Rlimits, err = rlimitsOf(hc); err != nil {
		return err
	}
	spec.ShmSize = hc.ShmSize
	spec.Sysctls = hc.Sysctls
	spec.Domainname = cfg.Domainname
	spec.Process.AdditionalGroups = hc.GroupAdd
	if spec.Devices, err = devicesOf(hc); err != nil {
		return err
	}
	if spec.Cgroup.Devices, err = deviceRulesOf(hc, spec.Devices); err != nil {
		return err
	}
	if err := d.applyNamespaceModes(c, hc, spec); err != nil {
		return err
	}
	if hc.Init != nil && *hc.Init {
		return withInit(spec)
	}
	return nil
}

// withInit makes --init's reaper PID 1: this binary, mounted read-only at
// /sbin/docker-init as docker mounts its tini, runs the command as its
// child (libcontainer/reaper_linux.go). inspect's Path and Args stay the
// command's, as in docker.
func withInit(spec *libcontainer.Spec) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--init: cannot find the minidocker binary: %w", err)
	}
	spec.Mounts = append(spec.Mounts, libcontainer.Mount{Source: self, Destination: libcontainer.ReaperPath, ReadOnly: true})
	spec.Process.Args = append([]string{libcontainer.ReaperPath, "--"}, spec.Process.Args...)
	return nil
}

// applyExecRunOptions gives an exec'd process what it shares with the
// container's PID 1: its rlimits and extra groups.
func applyExecRunOptions(hc *container.HostConfig, p *libcontainer.Process) error {
	var err error
	p.Rlimits, err = rlimitsOf(hc)
	p.AdditionalGroups = hc.GroupAdd
	return err
}

// hostsEntryNames are the names of the container's own line in its
// /etc/hosts: with --domainname, the full name first (docker's order), so
// `hostname -d` and `hostname -f` find it.
func hostsEntryNames(hostname, domainname string) string {
	if domainname == "" {
		return hostname
	}
	return hostname + "." + domainname + " " + hostname
}

// rlimitsOf turns --ulimit into the runtime's rlimits, refusing an unknown
// name or a soft limit over the hard one with go-units' words (docker's
// CLI parses them with it). -1 is unlimited.
func rlimitsOf(hc *container.HostConfig) ([]libcontainer.Rlimit, error) {
	var out []libcontainer.Rlimit
	for _, u := range hc.Ulimits {
		if u == nil {
			continue
		}
		rl, err := u.GetRlimit()
		if err != nil {
			return nil, errdefs.Invalid("%s", err.Error())
		}
		if u.Hard != -1 && (u.Soft == -1 || u.Soft > u.Hard) {
			return nil, errdefs.Invalid("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		out = append(out, libcontainer.Rlimit{Type: rl.Type, Soft: rl.Soft, Hard: rl.Hard})
	}
	return out, nil
}

// ipcSysctls are the kernel.* sysctls of the IPC namespace (with
// fs.mqueue.*); net.* belong to the network namespace.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// checkSysctls allows only the sysctls of a namespace the container does
// not share with the host, as runc does (its messages): a write must not
// change the host.
func checkSysctls(hc *container.HostConfig) error {
	names := make([]string, 0, len(hc.Sysctls))
	for k := range hc.Sysctls {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
			if hc.IpcMode.IsHost() {
				return errdefs.Invalid("sysctl %q is not allowed in the hosts ipc namespace", k)
			}
		case strings.HasPrefix(k, "net."):
			if hc.NetworkMode.IsHost() {
				return errdefs.Invalid("sysctl %q is not allowed in the hosts network namespace", k)
			}
		case k == "kernel.domainname" && !hc.UTSMode.IsHost():
		case k == "kernel.hostname" && !hc.UTSMode.IsHost():
			return errdefs.Invalid("sysctl %q is not allowed as it conflicts with the OCI %q field", k, "hostname")
		default:
			return errdefs.Invalid("sysctl %q is not in a separate kernel namespace", k)
		}
	}
	return nil
}

// checkNamespaceModes refuses a bad --ipc, --pid or --uts as dockerd does
// at create; a container:<id> target is looked for at start (it may not
// exist or run yet), as in docker.
func checkNamespaceModes(cfg *container.Config, hc *container.HostConfig) error {
	switch {
	case !hc.IpcMode.Valid():
		return errdefs.Invalid("invalid IPC mode: %v", hc.IpcMode)
	case !hc.PidMode.Valid():
		return errdefs.Invalid("invalid PID mode: %v", hc.PidMode)
	case !hc.UTSMode.Valid():
		return errdefs.Invalid("invalid UTS mode: %v", hc.UTSMode)
	case hc.UTSMode.IsHost() && cfg.Hostname != "":
		return errdefs.Invalid("conflicting options: hostname and the UTS mode")
	case hc.UTSMode.IsHost() && cfg.Domainname != "":
		// the host's own domain name must not change
		return errdefs.Invalid("conflicting options: domainname and the UTS mode")
	}
	return nil
}

// applyNamespaceModes puts --ipc, --pid and --uts into the spec: the host's
// namespace, or the one of another running container, and /dev/shm to
// match.
func (d *Daemon) applyNamespaceModes(c *Container, hc *container.HostConfig, spec *libcontainer.Spec) error {
	spec.UTS.Host = hc.UTSMode.IsHost()
	switch {
	case hc.PidMode.IsHost():
		spec.PID.Host = true
	case hc.PidMode.IsContainer():
		donor, err := d.namespaceDonor(hc.PidMode.Container())
		if err != nil {
			return err
		}
		spec.PID.Path = fmt.Sprintf("/proc/%d/ns/pid", donor.State.Pid)
	}
	return d.applyIpcMode(c, hc, spec)
}

// applyIpcMode: private (docker's default) and shareable get an IPC
// namespace of their own; a shareable one's /dev/shm is mounted on the
// host, in its bundle, so that containers joining it bind the same one.
func (d *Daemon) applyIpcMode(c *Container, hc *container.HostConfig, spec *libcontainer.Spec) error {
	var err error
	switch {
	case hc.IpcMode.IsNone():
		spec.Shm = "none"
	case hc.IpcMode.IsHost():
		spec.IPC.Host, spec.Shm = true, "/dev/shm"
	case hc.IpcMode.IsShareable():
		spec.Shm, err = libcontainer.MountShareableShm(c.BundleDir, hc.ShmSize)
	case hc.IpcMode.IsContainer():
		var donor donorState
		if donor, err = d.namespaceDonor(hc.IpcMode.Container()); err != nil {
			return err
		}
		if !donor.HostConfig.IpcMode.IsShareable() {
			return errdefs.Invalid("container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", hc.IpcMode.Container())
		}
		spec.IPC.Path = fmt.Sprintf("/proc/%d/ns/ipc", donor.State.Pid)
		spec.Shm = filepath.Join(donor.BundleDir, libcontainer.ShareableShm)
	}
	return err
}

// donorState is what a start needs of the container whose namespace it
// joins, read under that container's lock.
type donorState struct {
	State      ContainerState
	HostConfig container.HostConfig
	BundleDir  string
}

// namespaceDonor finds the running container of a container:<id> mode,
// with docker's answers: 400 when there is none, 409 when it does not run.
func (d *Daemon) namespaceDonor(ref string) (donorState, error) {
	donor, err := d.GetContainer(ref)
	if err != nil {
		return donorState{}, errdefs.Invalid("%s", err.Error())
	}
	donor.mu.Lock()
	defer donor.mu.Unlock()
	st := donorState{State: donor.State, HostConfig: *donor.HostConfig, BundleDir: donor.BundleDir}
	switch {
	case donor.State.Restarting:
		return st, errdefs.Conflict("Container %s is restarting, wait until the container is running", donor.ID)
	case !donor.State.Running || donor.State.Pid == 0:
		return st, errdefs.Conflict("container %s is not running", donor.ID)
	}
	return st, nil
}

// devicesOf turns --device into the nodes init makes, from the host's
// nodes (symlinks followed, as dockerd does), one per mapping; their
// permissions (r, w, m) become device cgroup rules (deviceRulesOf).
func devicesOf(hc *container.HostConfig) ([]libcontainer.Device, error) {
	var out []libcontainer.Device
	for _, m := range hc.Devices {
		inContainer := m.PathInContainer
		if inContainer == "" {
			inContainer = m.PathOnHost
		}
		if !filepath.IsAbs(inContainer) {
			return nil, errdefs.Invalid("bad format for path: %s", inContainer)
		}
		if err := checkDevicePermissions(m); err != nil {
			return nil, err
		}
		dev, err := hostDevice(m.PathOnHost)
		if err != nil {
			return nil, errdefs.Invalid("error gathering device information while adding custom device %q: %s", m.PathOnHost, err)
		}
		dev.Path = filepath.Clean(inContainer)
		out = append(out, dev)
	}
	return out, nil
}

// hostDevice reads a host device node's type, numbers, mode and owner.
func hostDevice(path string) (libcontainer.Device, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return libcontainer.Device{}, unwrapPathError(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(resolved, &st); err != nil {
		return libcontainer.Device{}, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR, unix.S_IFBLK:
	case unix.S_IFDIR:
		return libcontainer.Device{}, fmt.Errorf("minidocker does not support a directory of devices yet")
	default:
		return libcontainer.Device{}, fmt.Errorf("not a device node")
	}
	return libcontainer.Device{
		Mode: st.Mode, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), UID: st.Uid, GID: st.Gid,
		HostPath: resolved, // bound, not made, in a user namespace
	}, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

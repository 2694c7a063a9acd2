package daemon

// The run options that change how the runtime makes the container, beyond
// the image, mounts, network and confinement: the log's rotation, rlimits,
// /dev/shm, namespaced sysctls, --init, the domain name and extra groups.
// Create checks them all (validateRunOptions), so a container with a bad
// one is never made; start turns them into the Spec (applyRunOptions),
// and exec gives its process the container's rlimits and groups
// (applyExecRunOptions), as docker does.

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"

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
	return checkSysctls(hc)
}

// applyRunOptions puts the run options into the spec of a start.
func (d *Daemon) applyRunOptions(cfg *container.Config, hc *container.HostConfig, spec *libcontainer.Spec) error {
	rot, err := logRotationOf(hc.LogConfig)
	if err != nil {
		return err
	}
	spec.LogRotation = rot
	if spec.Process.Rlimits, err = rlimitsOf(hc); err != nil {
		return err
	}
	spec.ShmSize = hc.ShmSize
	spec.Sysctls = hc.Sysctls
	spec.Domainname = cfg.Domainname
	spec.Process.AdditionalGroups = hc.GroupAdd
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

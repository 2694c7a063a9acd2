package cli

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/cgroups"
)

// RunOptionFlags are run's and create's flags for how the runtime makes
// the container (the daemon's runopts.go): the log and its rotation,
// rlimits, /dev/shm, sysctls, the init, the domain name and groups.
type RunOptionFlags struct {
	LogDriver  string   `name:"log-driver" help:"Logging driver for the container (json-file)."`
	LogOpt     []string `name:"log-opt" sep:"none" help:"Log driver options (max-size, max-file)."`
	Ulimit     []string `sep:"none" help:"Ulimit options (name=soft[:hard], e.g. nofile=1024:2048)."`
	ShmSize    string   `name:"shm-size" help:"Size of /dev/shm (e.g. 128m; default 64m)."`
	Sysctl     []string `sep:"none" help:"Sysctl options (namespaced ones: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)."`
	Init       bool     `help:"Run an init inside the container that forwards signals and reaps processes."`
	Domainname string   `help:"Container NIS domain name."`
	GroupAdd   []string `name:"group-add" sep:"none" help:"Add additional groups to join."`
	IPC        string   `name:"ipc" help:"IPC mode to use (private, shareable, none, host, container:<name|id>)."`
	PID        string   `name:"pid" help:"PID namespace to use (host, container:<name|id>)."`
	UTS        string   `name:"uts" help:"UTS namespace to use (host)."`
	Userns     string   `name:"userns" help:"User namespace to use (host: not the daemon's --userns-remap)."`
	Device     []string `sep:"none" help:"Add a host device to the container (host[:container][:permissions], permissions made of r, w, m)."`
	// DeviceCgroupRule is checked here as docker's CLI checks it, and
	// again by the daemon, which also bounds the numbers.
	DeviceCgroupRule []string `name:"device-cgroup-rule" sep:"none" help:"Add a rule to the cgroup allowed devices list ('type major:minor permissions', e.g. 'c 1:3 rwm')."`
}

// apply puts the flags into the create request, as docker's CLI does.
func (f *RunOptionFlags) apply(cfg *container.Config, hc *container.HostConfig) error {
	hc.LogConfig.Type = f.LogDriver
	if f.Init {
		hc.Init = &f.Init
	}
	cfg.Domainname, hc.GroupAdd = f.Domainname, f.GroupAdd
	hc.IpcMode, hc.PidMode, hc.UTSMode = container.IpcMode(f.IPC), container.PidMode(f.PID), container.UTSMode(f.UTS)
	hc.UsernsMode = container.UsernsMode(f.Userns)
	for _, dev := range f.Device {
		m, err := parseDevice(dev)
		if err != nil {
			return err
		}
		hc.Devices = append(hc.Devices, m)
	}
	for _, rule := range f.DeviceCgroupRule {
		if !deviceCgroupRuleSyntax().MatchString(rule) {
			return fmt.Errorf("invalid argument %q for \"--device-cgroup-rule\" flag: invalid device cgroup format '%s'", rule, rule)
		}
		hc.DeviceCgroupRules = append(hc.DeviceCgroupRules, rule)
	}
	if len(f.LogOpt) > 0 {
		hc.LogConfig.Config = map[string]string{}
		for _, o := range f.LogOpt {
			k, v, _ := strings.Cut(o, "=")
			hc.LogConfig.Config[k] = v
		}
	}
	for _, u := range f.Ulimit {
		ul, err := units.ParseUlimit(u)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--ulimit\" flag: %v", u, err)
		}
		hc.Ulimits = append(hc.Ulimits, ul)
	}
	if f.ShmSize != "" {
		n, err := units.RAMInBytes(f.ShmSize)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--shm-size\" flag: %v", f.ShmSize, err)
		}
		hc.ShmSize = n
	}
	for _, s := range f.Sysctl {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("invalid argument %q for \"--sysctl\" flag: sysctl '%s' is not allowed", s, s)
		}
		if hc.Sysctls == nil {
			hc.Sysctls = map[string]string{}
		}
		hc.Sysctls[k] = v
	}
	return nil
}

// deviceCgroupRuleSyntax is the form docker's CLI lets through: a type,
// two numbers or stars, one to three permission letters. Compiled on first
// use: package initialisation does no work (every start of the binary pays).
var deviceCgroupRuleSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$`)
})

// parseDevice reads --device host[:container][:permissions] as docker's
// CLI does: a second part that is valid permissions (r, w, m, each at
// most once) is the permissions, anything else the path in the container.
func parseDevice(spec string) (container.DeviceMapping, error) {
	m := container.DeviceMapping{CgroupPermissions: "rwm"}
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 3:
		if !cgroups.ValidDeviceAccess(parts[2]) {
			return m, fmt.Errorf("invalid argument %q for \"--device\" flag: bad mode specified: %s", spec, parts[2])
		}
		m.CgroupPermissions = parts[2]
		m.PathInContainer = parts[1]
	case 2:
		if cgroups.ValidDeviceAccess(parts[1]) {
			m.CgroupPermissions = parts[1]
		} else {
			m.PathInContainer = parts[1]
		}
	case 1:
	default:
		return m, fmt.Errorf("invalid device specification: %s", spec)
	}
	m.PathOnHost = parts[0]
	if m.PathInContainer == "" {
		m.PathInContainer = m.PathOnHost
	}
	if !path.IsAbs(m.PathInContainer) {
		return m, fmt.Errorf("invalid argument %q for \"--device\" flag: %s is not an absolute path", spec, m.PathInContainer)
	}
	return m, nil
}

package daemon

import (
	"bufio"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/version"
)

// Info answers `docker info` with what this host and daemon really have.
func (d *Daemon) Info() system.Info {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	hostname, _ := os.Hostname()
	cgroupVersion := detectCgroupVersion()
	info := system.Info{
		ID:                 d.id,
		Driver:             "overlay2",
		DriverStatus:       [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}},
		MemoryLimit:        true,
		CPUCfsPeriod:       true,
		CPUCfsQuota:        true,
		PidsLimit:          true,
		IPv4Forwarding:     readSysctl("net/ipv4/ip_forward") == "1",
		NFd:                countOpenFiles(),
		NGoroutines:        runtime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion,
		KernelVersion:      unix.ByteSliceToString(uts.Release[:]),
		OperatingSystem:    osRelease("PRETTY_NAME"),
		OSVersion:          osRelease("VERSION_ID"),
		OSType:             "linux",
		Architecture:       unix.ByteSliceToString(uts.Machine[:]),
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     d.registryConfig(),
		NCPU:               runtime.NumCPU(),
		MemTotal:           memTotal(),
		DockerRootDir:      d.cfg.DataRoot,
		Name:               hostname,
		ServerVersion:      version.Version,
		DefaultRuntime:     "minidocker",
		Runtimes:           map[string]system.RuntimeWithStatus{"minidocker": {}},
		InitBinary:         "minidocker init",
		LiveRestoreEnabled: d.cfg.LiveRestore,
		// docker's form: what confines a default container (the seccomp
		// profile every container gets unless it says otherwise). No
		// "name=cgroupns": minidocker makes no cgroup namespace (only
		// CgroupnsMode "host" is accepted), so it must not claim one.
		SecurityOptions: []string{"name=seccomp,profile=builtin"},
		// the port mappings and network isolation are iptables rules
		// (network/iptables.go), as with dockerd's default backend
		FirewallBackend: &system.FirewallInfo{Driver: "iptables"},
	}
	if d.remap != nil { // --userns-remap, as dockerd lists it
		info.SecurityOptions = append(info.SecurityOptions, "name=userns")
	}
	info.Plugins.Volume = []string{"local"}
	info.Plugins.Network = []string{"bridge", "host", "none", "container"}
	info.Plugins.Log = []string{"json-file"}
	info.Swarm.LocalNodeState = "inactive"
	d.fillCounts(&info)
	return info
}

// fillCounts adds the container and image numbers.
func (d *Daemon) fillCounts(info *system.Info) {
	info.Images = d.imageCount()
	info.Containers, info.ContainersRunning, info.ContainersPaused, info.ContainersStopped = d.containerCounts()
	info.Warnings = append(info.Warnings, d.networkWarnings()...)
}

// registryConfig reports mirrors and insecure registries as dockerd does:
// image.DefaultInsecureCIDRs (both loopback ranges) are always insecure;
// host:port entries are index configs, CIDR entries are ranges.
func (d *Daemon) registryConfig() *registry.ServiceConfig {
	cfg := &registry.ServiceConfig{
		InsecureRegistryCIDRs: []netip.Prefix{},
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: d.cfg.RegistryMirrors, Secure: true, Official: true},
		},
		Mirrors: d.cfg.RegistryMirrors,
	}
	if cfg.Mirrors == nil {
		cfg.Mirrors = []string{}
		cfg.IndexConfigs["docker.io"].Mirrors = []string{}
	}
	for _, cidr := range image.DefaultInsecureCIDRs {
		cfg.InsecureRegistryCIDRs = append(cfg.InsecureRegistryCIDRs, netip.MustParsePrefix(cidr))
	}
	for _, entry := range d.cfg.InsecureRegistries {
		if p, err := netip.ParsePrefix(entry); err == nil {
			cfg.InsecureRegistryCIDRs = append(cfg.InsecureRegistryCIDRs, p)
			continue
		}
		cfg.IndexConfigs[entry] = &registry.IndexInfo{Name: entry, Mirrors: []string{}, Secure: false}
	}
	return cfg
}

// detectCgroupVersion says "2" when /sys/fs/cgroup itself is a cgroup2
// mount (a unified host) and "1" otherwise, hybrids included.
func detectCgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

func readSysctl(name string) string {
	b, _ := os.ReadFile("/proc/sys/" + name)
	return strings.TrimSpace(string(b))
}

func osRelease(key string) string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func countOpenFiles() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

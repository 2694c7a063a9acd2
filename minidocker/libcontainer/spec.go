package libcontainer

import (
	"encoding/json"
	"fmt"
	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"os"
	"path/filepath"
	"time"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/seccomp"
)

// Files in a bundle directory. The daemon writes SpecFile (and whatever
// files its Mounts name); everything else is the runtime's.
const (
	SpecFile    = "spec.json" // Spec, written by the daemon
	ExitFile    = "exit.json" // ExitStatus, written atomically by the shim before it exits
	SocketFile  = "shim.sock" // the shim's unix socket
	ShimPidFile = "shim.pid"  // the shim's pid (for Cleanup of a shim that never finished)
	InitPidFile = "init.pid"  // PID 1's pid as the host sees it
	ShimLogFile = "shim.log"  // the shim's own error output
)

// Spec is everything the shim and init need to make one container. The
// daemon writes it as <bundle>/spec.json (WriteSpec) before StartShim.
type Spec struct {
	ID       string
	Rootfs   Rootfs
	Process  Process
	Hostname string
	Network  Network
	Mounts   []Mount
	// Privileged is docker's --privileged for the root file system: the
	// host's devices in /dev, /sys read-write, no masked or read-only
	// /proc paths. (Its capabilities and seccomp are in Process.Security.)
	Privileged bool
	// UnmaskPaths and WritableProcPaths are empty MaskedPaths and
	// ReadonlyPaths in docker's HostConfig (--security-opt
	// systempaths=unconfined): the /proc and /sys paths docker hides, or
	// makes read-only, stay as the kernel shows them (maskPaths).
	UnmaskPaths       bool `json:",omitempty"`
	WritableProcPaths bool `json:",omitempty"`
	// ReadonlyRootfs mounts the container's root read-only (--read-only);
	// the mounts on it (/etc/hosts, volumes, tmpfs) keep their own mode.
	ReadonlyRootfs bool
	Cgroup         Cgroup
	LogPath        string // docker json-file log the shim appends to ("" = no log)
	// LogRotation is --log-opt max-size, max-file and compress (zero:
	// never rotated).
	LogRotation LogRotation `json:",omitempty"`
	// LogAttrs are the "attrs" of every log entry (--log-opt labels,
	// labels-regex, env, env-regex, tag; nil: none).
	LogAttrs map[string]string `json:",omitempty"`
	// LogBufferSize, when above 0, is --log-opt mode=non-blocking with a
	// buffer of that many bytes (jsonlog_buffer.go); 0 is blocking.
	LogBufferSize int64  `json:",omitempty"`
	StopSignal    string // informational: the daemon sends it through Kill

	// The run options (runopts_linux.go).

	// ShmSize is the size of /dev/shm in bytes (0: docker's 64 MiB).
	ShmSize int64 `json:",omitempty"`
	// Sysctls are written in the container's own namespaces (--sysctl).
	Sysctls map[string]string `json:",omitempty"`
	// Domainname is the UTS namespace's NIS domain name (--domainname).
	Domainname string `json:",omitempty"`
	// IPC, PID and UTS say which of those namespaces are not the
	// container's own (--ipc, --pid, --uts host or container:<id>).
	IPC, PID, UTS SharedNamespace
	// Shm is what /dev/shm is: "" a tmpfs of its own (ShmSize), "none"
	// nothing (--ipc none), or a directory to bind there (a shareable
	// IPC's tmpfs, made by the daemon, or the host's /dev/shm).
	Shm string `json:",omitempty"`
	// Devices are host device nodes made in the container (--device).
	Devices []Device `json:",omitempty"`
	// UserNamespace, when set, gives the container a user namespace of
	// its own with these maps (dockerd's --userns-remap; userns_linux.go).
	UserNamespace *UserNamespace `json:",omitempty"`
}

// Device is one --device: a node made at Path in the container with the
// host node's type, numbers, mode and owner. In a user namespace, where
// mknod is refused, the host's node at HostPath is bound there instead.
type Device struct {
	Path         string
	HostPath     string `json:",omitempty"`
	Mode         uint32 // type and permission bits, as stat(2) gives them
	Major, Minor uint32
	UID, GID     uint32
}

// SharedNamespace is a namespace a container does not get a new one of:
// the host's, or the one at Path (/proc/<pid>/ns/<kind> of another
// container's PID 1), joined with setns before init is cloned.
type SharedNamespace struct {
	Host bool   `json:",omitempty"`
	Path string `json:",omitempty"`
}

// Rootfs is the container's overlay. Init mounts it inside the container's
// own mount namespace, so it disappears with the container.
type Rootfs struct {
	LowerDirs []string // image layers, top first
	UpperDir  string
	WorkDir   string
	MergedDir string // mount point (must exist); seen only inside the container
	// Premounted says the shim has mounted the root at MergedDir in
	// init's mount namespace already (a user namespace's idmapped layers).
	Premounted bool `json:",omitempty"`
}

// Process is what runs: PID 1 of a container, or an exec'd process.
type Process struct {
	Args []string
	Env  []string
	Cwd  string // "" = "/"; created if missing (like docker's WorkingDir)
	// User is "", "name", "uid", "uid:gid", "name:group", resolved from the
	// container's /etc/passwd and /etc/group.
	User      string
	Terminal  bool // a pty instead of pipes (stdout and stderr merged)
	OpenStdin bool // keep a stdin the attachers can write to
	// StdinOnce closes the process's stdin when the first attacher that
	// sends stdin half-closes its stream (docker run -i sets it).
	StdinOnce                   bool
	ConsoleHeight, ConsoleWidth uint16
	Security                    Security
	// Rlimits are set right before the process starts (--ulimit).
	Rlimits []Rlimit `json:",omitempty"`
	// AdditionalGroups (--group-add) are group names, resolved in the
	// container's /etc/group, or gids; the process gets them on top of
	// its user's groups.
	AdditionalGroups []string `json:",omitempty"`
}

// Rlimit is one --ulimit: Type is the RLIMIT_* number.
type Rlimit struct {
	Type       int
	Soft, Hard uint64
}

// Security confines a process: PID 1 and every exec'd process of a
// container get the same.
type Security struct {
	// Capabilities is the bounding, permitted and effective set, as
	// "CAP_*" names; nil is docker's default set (DefaultCapabilities),
	// an empty list is none (--cap-drop ALL).
	Capabilities []string
	// NoNewPrivileges sets no_new_privs: execve never grants privileges
	// again (setuid bits and file capabilities are ignored).
	NoNewPrivileges bool
	// Seccomp is the profile to compile and install right before the
	// process starts; nil is unconfined.
	Seccomp *seccomp.Profile
	// SeccompCapabilities, when set, chooses the profile's rules instead
	// of Capabilities: `exec --privileged` gets every capability but
	// keeps the filter of its container, as with docker.
	SeccompCapabilities []string `json:",omitempty"`
}

// Network says which network namespace the container lives in.
type Network struct {
	// Mode is "none" (a new netns with only lo, up), "host" (the host's
	// netns) or "join" (setns into NetnsPath).
	Mode      string
	NetnsPath string // pinned netns file or /proc/<pid>/ns/net
}

// Mount is a bind mount into the container. Source may be a directory or a
// file (e.g. the bundle's hosts, hostname, resolv.conf); a missing
// destination is created to match.
type Mount struct {
	Source      string
	Destination string
	ReadOnly    bool // applied recursively to the mounts under Source
	// CopyUp fills an empty volume (Source) with what the image has at
	// Destination before mounting it, as docker does (volumes_linux.go).
	CopyUp bool `json:",omitempty"`
	// Tmpfs mounts a new tmpfs with Flags and Data instead of a bind.
	Tmpfs bool    `json:",omitempty"`
	Flags uintptr `json:",omitempty"`
	Data  string  `json:",omitempty"`
}

// Cgroup names the container's cgroup (<Parent>/<Name>) and its limits.
type Cgroup struct {
	Parent    string
	Name      string
	Resources cgroups.Resources
	// Devices is the device allow list (cgroups.SetDevices), applied
	// before init runs; nil leaves the devices unconfined. The daemon
	// always sets it: docker's defaults, or cgroups.AllowAll (--privileged).
	Devices []cgroups.DeviceRule `json:",omitempty"`
}

// ExitStatus is how PID 1 ended.
type ExitStatus struct {
	ExitCode   int // exit code, or 128+signal
	OOMKilled  bool
	FinishedAt time.Time
	// Error is set when the process never started (e.g. exec: "x":
	// executable file not found in $PATH); ExitCode is then 125, 126 or 127.
	Error string `json:",omitempty"`
}

// StartError is a failure to start a container's or exec's process, with
// the exit code docker gives it: 127 (command not found / no such file),
// 126 (not executable, permission denied) or 125 (anything else).
type StartError struct {
	Code    int
	Message string // docker's wording, e.g. exec: "x": executable file not found in $PATH
}

// Error is the message in docker's wording.
func (e *StartError) Error() string { return e.Message }

// WriteSpec writes s as <bundleDir>/spec.json, atomically.
func WriteSpec(bundleDir string, s *Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(bundleDir, SpecFile), b, 0o600)
}

// ReadSpec reads <bundleDir>/spec.json.
func ReadSpec(bundleDir string) (*Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundleDir, SpecFile))
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("runtime: bad %s: %w", SpecFile, err)
	}
	return &s, nil
}

// ReadExitStatus reads the exit status the shim wrote before it exited.
// ok is false (and err nil) when there is none yet.
func ReadExitStatus(bundleDir string) (st ExitStatus, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(bundleDir, ExitFile))
	if os.IsNotExist(err) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, err
	}
	return st, true, nil
}

// writeFileAtomic writes a temporary file and renames it over path: a
// reader sees the old or the new content, never a part. (No fsync: these
// files describe processes, which do not survive a machine crash either.)
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.Write(path, data, atomicfile.Options{Perm: mode})
}

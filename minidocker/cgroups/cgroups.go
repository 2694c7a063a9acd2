package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Version is the cgroup flavour of the machine.
type Version int

const (
	// V1: one hierarchy per controller (includes the hybrid layout).
	V1 Version = 1
	// V2: the unified hierarchy mounted at /sys/fs/cgroup.
	V2 Version = 2
)

// String gives "1" or "2", the way `docker info` prints "Cgroup Version: 2".
func (v Version) String() string {
	switch v {
	case V1:
		return "1"
	case V2:
		return "2"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// mountRoot is where cgroup file systems live. A variable only so that a
// test could point it elsewhere; the daemon never changes it.
var mountRoot = "/sys/fs/cgroup"

// Detect tells v2 from v1: /sys/fs/cgroup is itself a cgroup2 file system on a
// v2 machine; on a v1 or hybrid machine it is a tmpfs holding v1 mounts.
func Detect() Version {
	var st unix.Statfs_t
	if err := unix.Statfs(mountRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return V2
	}
	return V1
}

// Resources are the limits of one container. Zero values mean "no limit".
type Resources struct {
	Memory     int64  // bytes, 0 = unlimited
	MemorySwap int64  // docker semantics: total memory+swap; 0 = unset (→ 2×Memory when Memory set), -1 = unlimited swap
	CPUQuota   int64  // µs per CPUPeriod, 0 = unlimited (docker --cpus=1.5 → 150000/100000)
	CPUPeriod  uint64 // µs, 0 → 100000
	PidsLimit  int64  // 0 = unlimited (negative too, as docker's -1)
	CPUShares  int64  // relative CPU weight, docker's --cpu-shares; 0 → the kernel's default (1024)
	// CpusetCpus and CpusetMems are docker's --cpuset-cpus and
	// --cpuset-mems ("0-1,3"); "" = all the parent has (cpuset.go).
	CpusetCpus, CpusetMems string
	// BlkioWeight is docker's --blkio-weight (10..1000); 0 = not set,
	// the file is left alone (cpuset.go).
	BlkioWeight uint16
}

// DefaultCPUPeriod is the CFS period used when Resources.CPUPeriod is 0.
const DefaultCPUPeriod = 100000

// QuotaFromNanoCPUs converts docker's NanoCPUs (--cpus=1.5 → 1.5e9) into
// the quota/period pair the kernel understands, as dockerd does.
func QuotaFromNanoCPUs(nano int64) (quota int64, period uint64) {
	if nano <= 0 {
		return 0, 0
	}
	return nano * DefaultCPUPeriod / 1e9, DefaultCPUPeriod
}

// swapTotal is the memory+swap limit docker would apply, -1 for unlimited.
func swapTotal(r Resources) int64 {
	// exercise:begin 04-cgroup-memory
	switch {
	case r.Memory <= 0, r.MemorySwap == -1, r.MemorySwap < -1:
		return -1
	case r.MemorySwap == 0:
		return 2 * r.Memory
	default:
		return r.MemorySwap
	}
	// exercise:end 04-cgroup-memory
}

// Stats is what the kernel reports about a cgroup.
type Stats struct {
	// MemoryUsage is what `docker stats` shows as MEM USAGE: the usage minus
	// the inactive file cache (v1 total_inactive_file, v2 inactive_file).
	MemoryUsage uint64
	// MemoryRawUsage is memory.usage_in_bytes (v1) or memory.current (v2),
	// the "usage" of the Engine API's memory_stats.
	MemoryRawUsage uint64
	// MemoryMaxUsage is v1's max_usage_in_bytes or v2's memory.peak (0 if absent).
	MemoryMaxUsage uint64
	// MemoryLimit is the limit in bytes; 0 when unlimited (dockerd then
	// reports the host's total memory).
	MemoryLimit uint64
	// MemoryStat is memory.stat, name → value, for the Engine API's memory_stats.stats.
	MemoryStat map[string]uint64
	// PidsCurrent is the number of tasks (threads included) in the cgroup.
	PidsCurrent uint64
	// PidsLimit is pids.max, 0 when unlimited.
	PidsLimit uint64
	// CPUUsageNs is the total CPU time used, in nanoseconds.
	CPUUsageNs uint64
}

// Cgroup is one container's control group (on v1: one directory in each
// controller's hierarchy).
type Cgroup struct {
	version Version
	parent  string
	name    string
	dir     string            // v2: the directory
	dirs    map[string]string // v1: controller → directory
}

// Version reports whether c is a v1 or v2 cgroup.
func (c *Cgroup) Version() Version { return c.version }

// Path is the cgroup's directory: on v2 the only one, on v1 the memory
// controller's (or the first one there is).
func (c *Cgroup) Path() string {
	if c.version == V2 {
		return c.dir
	}
	if d, ok := c.dirs["memory"]; ok {
		return d
	}
	for _, d := range c.uniqueDirs() {
		return d
	}
	return ""
}

// Name is the cgroup path relative to the hierarchy root, "<parent>/<name>".
func (c *Cgroup) Name() string { return c.parent + "/" + c.name }

// cleanParent checks the relative cgroup path: no "..", no empty names.
func cleanParent(parent string) (string, error) {
	p := strings.Trim(parent, "/")
	if p == "" {
		return "", errors.New("cgroups: empty cgroup parent")
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("cgroups: bad cgroup parent %q", parent)
		}
	}
	return p, nil
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("cgroups: bad cgroup name %q", name)
	}
	return nil
}

// New creates <parent>/<name> in every controller minidocker uses and
// returns it. A cgroup left over from a crash is reused (Set rewrites every
// limit). Nothing is left behind when New fails.
func New(parent, name string) (*Cgroup, error) {
	c, err := open(parent, name)
	if err != nil {
		return nil, err
	}
	if c.version == V2 {
		err = c.createV2()
	} else {
		err = c.createV1()
	}
	if err != nil {
		c.rmdirs()
		return nil, err
	}
	return c, nil
}

// Load opens an existing cgroup, e.g. after a daemon restart. The error
// wraps fs.ErrNotExist when there is no such cgroup.
func Load(parent, name string) (*Cgroup, error) {
	c, err := open(parent, name)
	if err != nil {
		return nil, err
	}
	p := c.Path()
	if p == "" {
		return nil, errors.New("cgroups: no cgroup controller is mounted")
	}
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("cgroups: load %s: %w", c.Name(), err)
	}
	return c, nil
}

func open(parent, name string) (*Cgroup, error) {
	p, err := cleanParent(parent)
	if err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	c := &Cgroup{version: Detect(), parent: p, name: name}
	if c.version == V2 {
		c.dir = filepath.Join(mountRoot, p, name)
		return c, nil
	}
	mounts, err := v1Mounts()
	if err != nil {
		return nil, err
	}
	c.dirs = map[string]string{}
	for _, ctl := range v1Controllers {
		if mp, ok := mounts[ctl]; ok {
			c.dirs[ctl] = filepath.Join(mp, p, name)
		}
	}
	if len(c.dirs) == 0 {
		return nil, errors.New("cgroups: none of the v1 controllers memory, cpu, cpuacct, pids, freezer, devices is mounted")
	}
	return c, nil
}

// uniqueDirs lists every directory of c once (v1 may co-mount cpu,cpuacct).
func (c *Cgroup) uniqueDirs() []string {
	if c.version == V2 {
		return []string{c.dir}
	}
	seen := map[string]bool{}
	var out []string
	for _, ctl := range v1Controllers {
		d, ok := c.dirs[ctl]
		if ok && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// Set writes every limit of r, so that Set on a reused cgroup also lifts
// limits that r does not ask for.
func (c *Cgroup) Set(r Resources) error {
	if err := c.setCpusetAndBlkio(r); err != nil { // cpuset.go
		return err
	}
	if c.version == V2 {
		return c.setV2(r)
	}
	return c.setV1(r)
}

// AddProcess moves pid (the whole thread group) into the cgroup. On v1 it is
// written into every controller's cgroup.procs.
func (c *Cgroup) AddProcess(pid int) error {
	for _, d := range c.uniqueDirs() {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), fmt.Sprint(pid)); err != nil {
			return err
		}
	}
	return nil
}

// AddThisThread moves the calling thread, and only it, into the cgroup:
// "0" written to each v1 hierarchy's tasks file. Unlike AddProcess it
// does not take the kernel's global thread-group lock, whose first
// writer after a quiet while waits for an RCU grace period (10-20 ms on
// the course VM): a thread moving itself cannot exit or exec under the
// kernel's hands. The caller locks its goroutine to the thread. v2 moves
// single threads only within threaded cgroups, so there it fails.
func (c *Cgroup) AddThisThread() error {
	if c.version == V2 {
		return errors.New("cgroups: a thread moves on its own only on cgroup v1")
	}
	for _, d := range c.uniqueDirs() {
		if err := writeFile(filepath.Join(d, "tasks"), "0"); err != nil {
			return err
		}
	}
	return nil
}

// DirFD opens the v2 cgroup directory for SysProcAttr.UseCgroupFD/CgroupFD,
// so that the child is born inside the cgroup (clone3 CLONE_INTO_CGROUP).
// The caller closes fd once the child has started. ok is false on v1,
// which has no such thing (and on v2 if the directory cannot be opened):
// then use AddProcess while the child still waits.
func (c *Cgroup) DirFD() (fd int, ok bool) {
	if c.version != V2 {
		return -1, false
	}
	fd, err := unix.Open(c.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	return fd, true
}

// OOMKilled reports whether the kernel's OOM killer killed a process of this
// cgroup (the oom_kill counter is above zero).
func (c *Cgroup) OOMKilled() (bool, error) {
	var file string
	if c.version == V2 {
		file = filepath.Join(c.dir, "memory.events")
	} else {
		d, ok := c.dirs["memory"]
		if !ok {
			return false, nil
		}
		file = filepath.Join(d, "memory.oom_control")
	}
	kv, err := readKeyValues(file)
	if err != nil {
		return false, err
	}
	return kv["oom_kill"] > 0, nil
}

// Stats reads memory, pids and CPU figures.
func (c *Cgroup) Stats() (Stats, error) {
	if c.version == V2 {
		return c.statsV2()
	}
	return c.statsV1()
}

// Procs lists the processes (thread group ids) in the cgroup, sorted. On v1
// it is the union over all controllers.
func (c *Cgroup) Procs() ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, d := range c.uniqueDirs() {
		pids, err := readPids(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			if removed(err) {
				continue
			}
			return nil, err
		}
		for _, p := range pids {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// removed says that a control file's cgroup is gone: ENOENT once the
// directory is removed, ENODEV when it was removed between the open and the
// read (the container's shim removes its cgroup as soon as PID 1 has died,
// which may be while the daemon's KillAll is still reading).
func removed(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENODEV)
}

// KillTimeout bounds how long KillAll waits for the cgroup to become empty.
var KillTimeout = 10 * time.Second

// KillAll sends SIGKILL to every process in the cgroup and waits until the
// cgroup is empty (at most KillTimeout). Processes that fork meanwhile are
// caught: v2 uses cgroup.kill when the kernel has it, otherwise the cgroup is
// frozen while it is being killed.
func (c *Cgroup) KillAll() error {
	deadline := time.Now().Add(KillTimeout)
	wait := 500 * time.Microsecond
	for {
		pids, err := c.Procs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %s still has processes %v after %v", c.Name(), pids, KillTimeout)
		}
		if err := c.killOnce(); err != nil {
			return err
		}
		time.Sleep(wait)
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

// useCgroupKill is false only in the test of the freezer path.
var useCgroupKill = true

func (c *Cgroup) killOnce() error {
	if c.version == V2 && useCgroupKill {
		kill := filepath.Join(c.dir, "cgroup.kill")
		if exists(kill) {
			if err := writeFile(kill, "1"); err != nil && !removed(err) {
				return err
			}
			return nil
		}
	}
	thaw := c.freeze()
	defer thaw()
	pids, err := c.Procs()
	if err != nil {
		return err
	}
	for _, p := range pids {
		if p == os.Getpid() {
			// Never kill the caller, whatever lists it: a caller that
			// moved one of its own threads into the cgroup would die with
			// the container (libcontainer's exec never does that).
			continue
		}
		if err := unix.Kill(p, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fmt.Errorf("cgroups: kill %d: %w", p, err)
		}
	}
	return nil
}

// Destroy kills every process and removes the cgroup's directories. It is
// idempotent: destroying a destroyed cgroup succeeds.
func (c *Cgroup) Destroy() error {
	if err := c.KillAll(); err != nil && !removed(err) {
		return err
	}
	return c.rmdirs()
}

// rmdirs removes every directory of c; a missing one is fine. The kernel
// may briefly answer EBUSY just after the last process died, so it retries.
func (c *Cgroup) rmdirs() error {
	var errs []error
	for _, d := range c.uniqueDirs() {
		if err := rmdirRetry(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func rmdirRetry(d string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := unix.Rmdir(d)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY || time.Now().After(deadline) {
			return &fs.PathError{Op: "rmdir", Path: d, Err: err}
		}
		time.Sleep(time.Millisecond)
	}
}

// List names the cgroups under parent (the daemon reconciles them with its
// containers at start; tests use it to find leaks).
func List(parent string) ([]string, error) {
	p, err := cleanParent(parent)
	if err != nil {
		return nil, err
	}
	roots, err := hierarchyRoots()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		ents, err := os.ReadDir(filepath.Join(r, p))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// RemoveParent removes the parent cgroup itself (all its path components that
// are empty) in every hierarchy. It fails with EBUSY while a child remains.
// A missing parent is fine.
func RemoveParent(parent string) error {
	p, err := cleanParent(parent)
	if err != nil {
		return err
	}
	roots, err := hierarchyRoots()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range roots {
		// innermost first: a/b/c, then a/b, then a.
		if err := rmdirRetry(filepath.Join(r, p)); err != nil {
			errs = append(errs, err)
			continue
		}
		// ancestors New created, as far as they are empty: best effort.
		for q := filepath.Dir(p); q != "." && q != "/"; q = filepath.Dir(q) {
			if unix.Rmdir(filepath.Join(r, q)) != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// hierarchyRoots are the mount points of the hierarchies minidocker uses:
// the unified one on v2; on v1 each controller's, once (v1 may co-mount
// cpu,cpuacct).
func hierarchyRoots() ([]string, error) {
	if Detect() == V2 {
		return []string{mountRoot}, nil
	}
	mounts, err := v1Mounts()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var roots []string
	for _, ctl := range v1Controllers {
		if mp, ok := mounts[ctl]; ok && !seen[mp] {
			seen[mp] = true
			roots = append(roots, mp)
		}
	}
	return roots, nil
}

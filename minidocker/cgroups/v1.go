package cgroups

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// v1Controllers are the v1 hierarchies a container gets a directory in:
// the ones that carry limits, cpuacct for CPU usage, freezer for KillAll,
// devices for the device allow list (devices.go). A new cpuset group
// starts with no CPUs: createV1 fills it from its parent (cpuset.go).
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids", "freezer", "devices", "cpuset", "blkio"}

var (
	v1MountsMu    sync.Mutex
	v1MountsCache map[string]string
)

// v1Mounts maps each v1 controller to its mount point, from
// /proc/self/mountinfo. "cpu,cpuacct" co-mounted gives both the same path.
func v1Mounts() (map[string]string, error) {
	v1MountsMu.Lock()
	defer v1MountsMu.Unlock()
	if v1MountsCache != nil {
		return v1MountsCache, nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := parseV1Mounts(f)
	if err != nil {
		return nil, err
	}
	v1MountsCache = m
	return m, nil
}

func parseV1Mounts(f *os.File) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 5 || len(fields) < sep+4 || fields[sep+1] != "cgroup" {
			continue
		}
		mp := unescapeMount(fields[4])
		for _, opt := range strings.Split(fields[sep+3], ",") {
			for _, ctl := range v1Controllers {
				if opt == ctl {
					if _, dup := out[ctl]; !dup {
						out[ctl] = mp
					}
				}
			}
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (c *Cgroup) createV1() error {
	for _, d := range c.uniqueDirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return c.fillCpusetV1() // cpuset.go
}

// SwapLimitSupported reports whether --memory-swap can be enforced: v1 needs
// memory.memsw.* (swap accounting on), v2 needs memory.swap.max. When it is
// false Set skips the swap limit, and the caller prints docker's warning
// "Your kernel does not support swap limit capabilities or the cgroup is not
// mounted. Memory limited without swap."
func SwapLimitSupported() bool {
	if Detect() == V2 {
		// the root has no memory.swap.max; look for a child that has, else trust the kernel config file.
		ents, _ := os.ReadDir(mountRoot)
		for _, e := range ents {
			if e.IsDir() && exists(filepath.Join(mountRoot, e.Name(), "memory.swap.max")) {
				return true
			}
		}
		return swapControllerGuess()
	}
	m, err := v1Mounts()
	if err != nil {
		return false
	}
	mp, ok := m["memory"]
	return ok && exists(filepath.Join(mp, "memory.memsw.limit_in_bytes"))
}

// swapControllerGuess: with no child cgroup to look at, assume v2 swap
// accounting (it is on by default since 5.8 unless swapaccount=0).
func swapControllerGuess() bool {
	b, err := os.ReadFile("/proc/cmdline")
	return err == nil && !strings.Contains(string(b), "swapaccount=0")
}

func (c *Cgroup) setV1(r Resources) error {
	if d, ok := c.dirs["memory"]; ok {
		if err := setV1Memory(d, r); err != nil {
			return err
		}
	} else if r.Memory > 0 {
		return errors.New("cgroups: --memory needs the memory controller, which is not mounted")
	}

	period := r.CPUPeriod
	if period == 0 {
		period = DefaultCPUPeriod
	}
	quota := "-1"
	if r.CPUQuota > 0 {
		quota = strconv.FormatInt(r.CPUQuota, 10)
	}
	if d, ok := c.dirs["cpu"]; ok {
		// period first: the quota is checked against it.
		if err := setOpt(filepath.Join(d, "cpu.cfs_period_us"), strconv.FormatUint(period, 10), r.CPUQuota > 0); err != nil {
			return err
		}
		if err := setOpt(filepath.Join(d, "cpu.cfs_quota_us"), quota, r.CPUQuota > 0); err != nil {
			return err
		}
		if err := setOpt(filepath.Join(d, "cpu.shares"), strconv.FormatInt(sharesV1(r.CPUShares), 10), r.CPUShares > 0); err != nil {
			return err
		}
	} else if r.CPUQuota > 0 || r.CPUShares > 0 {
		return errors.New("cgroups: --cpus and --cpu-shares need the cpu controller, which is not mounted")
	}

	if d, ok := c.dirs["pids"]; ok {
		if err := setOpt(filepath.Join(d, "pids.max"), pidsValue(r), r.PidsLimit > 0); err != nil {
			return err
		}
	} else if r.PidsLimit > 0 {
		return errors.New("cgroups: --pids-limit needs the pids controller, which is not mounted")
	}
	return nil
}

// DefaultCPUShares is v1's cpu.shares of a cgroup nobody gave a weight.
const DefaultCPUShares = 1024

// sharesV1 is the cpu.shares to write: the kernel's default for 0.
func sharesV1(shares int64) int64 {
	if shares <= 0 {
		return DefaultCPUShares
	}
	return shares
}

// weightV2 turns docker's cpu shares (2..262144, default 1024) into v2's
// cpu.weight (1..10000, default 100) on the same linear scale runc uses,
// so that 1024 shares and weight 100 mean the same "one normal share".
func weightV2(shares int64) int64 {
	if shares <= 0 {
		return 100
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

func pidsValue(r Resources) string {
	if r.PidsLimit > 0 {
		return strconv.FormatInt(r.PidsLimit, 10)
	}
	return "max"
}

// setV1Memory writes memory.limit_in_bytes and memory.memsw.limit_in_bytes.
// The kernel insists on limit <= memsw at every moment, so when the new
// memory limit is above the current memsw limit, memsw goes first.
func setV1Memory(d string, r Resources) error {
	// exercise:begin 04-cgroup-memory
	mem := "-1"
	if r.Memory > 0 {
		mem = strconv.FormatInt(r.Memory, 10)
	}
	limit := filepath.Join(d, "memory.limit_in_bytes")
	memsw := filepath.Join(d, "memory.memsw.limit_in_bytes")
	sw := strconv.FormatInt(swapTotal(r), 10)
	if !exists(memsw) {
		return writeFile(limit, mem)
	}
	if err := writeFile(limit, mem); err != nil {
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		if err := writeFile(memsw, sw); err != nil {
			return err
		}
		return writeFile(limit, mem)
	}
	return writeFile(memsw, sw)
	// exercise:end 04-cgroup-memory
}

// v1 shows "no limit" as the largest page-aligned int64.
const v1Unlimited = 1 << 62

func (c *Cgroup) statsV1() (Stats, error) {
	var s Stats
	if d, ok := c.dirs["memory"]; ok {
		var err error
		if s.MemoryRawUsage, _, err = readUint(filepath.Join(d, "memory.usage_in_bytes")); err != nil {
			return s, err
		}
		s.MemoryMaxUsage, _, _ = readUint(filepath.Join(d, "memory.max_usage_in_bytes"))
		lim, unl, err := readUint(filepath.Join(d, "memory.limit_in_bytes"))
		if err != nil {
			return s, err
		}
		if !unl && lim < v1Unlimited {
			s.MemoryLimit = lim
		}
		if s.MemoryStat, err = readKeyValues(filepath.Join(d, "memory.stat")); err != nil {
			return s, err
		}
		s.MemoryUsage = s.MemoryRawUsage
		if v, ok := s.MemoryStat["total_inactive_file"]; ok && v < s.MemoryUsage {
			s.MemoryUsage -= v
		}
	}
	if d, ok := c.dirs["pids"]; ok {
		var err error
		if s.PidsCurrent, _, err = readUint(filepath.Join(d, "pids.current")); err != nil {
			return s, err
		}
		s.PidsLimit, _, _ = readUint(filepath.Join(d, "pids.max"))
	}
	if d, ok := c.dirs["cpuacct"]; ok {
		var err error
		if s.CPUUsageNs, _, err = readUint(filepath.Join(d, "cpuacct.usage")); err != nil {
			return s, err
		}
	}
	return s, nil
}

// freeze stops every process of the cgroup (so none can fork while being
// killed) and returns the function that thaws it. Without a freezer it does
// nothing; KillAll then simply repeats until the cgroup is empty.
func (c *Cgroup) freeze() (thaw func()) {
	noop := func() {}
	if c.version == V2 {
		f := filepath.Join(c.dir, "cgroup.freeze")
		if writeFile(f, "1") != nil {
			return noop
		}
		waitFor(func() bool {
			kv, err := readKeyValues(filepath.Join(c.dir, "cgroup.events"))
			return err != nil || kv["frozen"] == 1
		})
		return func() { writeFile(f, "0") }
	}
	d, ok := c.dirs["freezer"]
	if !ok {
		return noop
	}
	f := filepath.Join(d, "freezer.state")
	if writeFile(f, "FROZEN") != nil {
		return noop
	}
	waitFor(func() bool {
		s, err := readString(f)
		return err != nil || s == "FROZEN"
	})
	return func() { writeFile(f, "THAWED") }
}

// waitFor polls cond for up to a second.
func waitFor(cond func() bool) {
	deadline := time.Now().Add(time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

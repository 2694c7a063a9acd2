package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// v2Controllers are enabled in each ancestor's cgroup.subtree_control so
// that the container's directory gets memory.*, cpu.*, pids.*, cpuset.*
// and io.* files.
var v2Controllers = []string{"memory", "cpu", "pids", "cpuset", "io"}

// createV2 makes the directory and, from the root down to the parent,
// enables our controllers for the children. A v2 cgroup may only hand a
// controller down if it has it itself, hence root first.
func (c *Cgroup) createV2() error {
	dir := mountRoot
	for _, part := range strings.Split(c.parent, "/") {
		if err := enableControllers(dir); err != nil {
			return err
		}
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return err
		}
	}
	if err := enableControllers(dir); err != nil {
		return err
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

func enableControllers(dir string) error {
	avail, err := readString(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return err
	}
	on, err := readString(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, x := range strings.Fields(avail) {
		have[x] = true
	}
	enabled := map[string]bool{}
	for _, x := range strings.Fields(on) {
		enabled[x] = true
	}
	var add []string
	for _, ctl := range v2Controllers {
		if have[ctl] && !enabled[ctl] {
			add = append(add, "+"+ctl)
		}
	}
	if len(add) == 0 {
		return nil
	}
	// One write per controller, and best effort: a controller that cannot
	// be handed down (cpu while realtime tasks run in the group, anything
	// while the group itself holds processes) must not keep the others off.
	// Set names the missing controller if a limit needs it.
	for _, a := range add {
		writeFile(filepath.Join(dir, "cgroup.subtree_control"), a)
	}
	return nil
}

// needV2 explains a limit whose controller the cgroup does not have.
func (c *Cgroup) needV2(file, ctl, flag string) error {
	if exists(filepath.Join(c.dir, file)) {
		return nil
	}
	return fmt.Errorf("cgroups: %s needs the %s controller, which is not enabled for %s (see cgroup.subtree_control of its parent)", flag, ctl, c.Name())
}

func (c *Cgroup) setV2(r Resources) error {
	d := c.dir
	if r.Memory > 0 {
		if err := c.needV2("memory.max", "memory", "--memory"); err != nil {
			return err
		}
	}
	if r.CPUQuota > 0 {
		if err := c.needV2("cpu.max", "cpu", "--cpus"); err != nil {
			return err
		}
	}
	if r.CPUShares > 0 {
		if err := c.needV2("cpu.weight", "cpu", "--cpu-shares"); err != nil {
			return err
		}
	}
	if r.PidsLimit > 0 {
		if err := c.needV2("pids.max", "pids", "--pids-limit"); err != nil {
			return err
		}
	}
	if err := setV2Memory(d, r); err != nil {
		return err
	}
	period := r.CPUPeriod
	if period == 0 {
		period = DefaultCPUPeriod
	}
	quota := "max"
	if r.CPUQuota > 0 {
		quota = strconv.FormatInt(r.CPUQuota, 10)
	}
	if err := setOpt(filepath.Join(d, "cpu.max"), fmt.Sprintf("%s %d", quota, period), r.CPUQuota > 0); err != nil {
		return err
	}
	if err := setOpt(filepath.Join(d, "cpu.weight"), strconv.FormatInt(weightV2(r.CPUShares), 10), r.CPUShares > 0); err != nil {
		return err
	}
	return setOpt(filepath.Join(d, "pids.max"), pidsValue(r), r.PidsLimit > 0)
}

// setV2Memory writes memory.max and memory.swap.max. Unlike v1's
// memory.memsw.limit_in_bytes, v2's swap limit is the swap alone.
func setV2Memory(d string, r Resources) error {
	// exercise:begin 04-cgroup-memory
	mem := "max"
	if r.Memory > 0 {
		mem = strconv.FormatInt(r.Memory, 10)
	}
	swap := "max"
	if t := swapTotal(r); t >= 0 {
		s := t - r.Memory
		if s < 0 {
			s = 0
		}
		swap = strconv.FormatInt(s, 10)
	}
	if err := setOpt(filepath.Join(d, "memory.max"), mem, r.Memory > 0); err != nil {
		return err
	}
	// memory.swap.max is absent without swap accounting: skipped, like docker.
	return setOpt(filepath.Join(d, "memory.swap.max"), swap, false)
	// exercise:end 04-cgroup-memory
}

func (c *Cgroup) statsV2() (Stats, error) {
	var s Stats
	d := c.dir
	var err error
	if exists(filepath.Join(d, "memory.current")) {
		if s.MemoryRawUsage, _, err = readUint(filepath.Join(d, "memory.current")); err != nil {
			return s, err
		}
		s.MemoryMaxUsage, _, _ = readUint(filepath.Join(d, "memory.peak"))
		s.MemoryLimit, _, _ = readUint(filepath.Join(d, "memory.max"))
		if s.MemoryStat, err = readKeyValues(filepath.Join(d, "memory.stat")); err != nil {
			return s, err
		}
		s.MemoryUsage = s.MemoryRawUsage
		if v, ok := s.MemoryStat["inactive_file"]; ok && v < s.MemoryUsage {
			s.MemoryUsage -= v
		}
	}
	if exists(filepath.Join(d, "pids.current")) {
		if s.PidsCurrent, _, err = readUint(filepath.Join(d, "pids.current")); err != nil {
			return s, err
		}
		s.PidsLimit, _, _ = readUint(filepath.Join(d, "pids.max"))
	}
	// cpu.stat exists even without the cpu controller (usage is core accounting).
	kv, err := readKeyValues(filepath.Join(d, "cpu.stat"))
	if err != nil {
		return s, err
	}
	s.CPUUsageNs = kv["usage_usec"] * 1000
	return s, nil
}

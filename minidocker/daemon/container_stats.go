package daemon

// docker stats: the figures come from the container's cgroup (memory,
// CPU time, pids, see cgroups.Stats) and from its network namespace
// (/proc/<PID 1>/net/dev lists the interfaces the container sees).

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// StatsInterval is the time between two samples (docker's collector's).
var StatsInterval = time.Second

// ContainerStats sends the container's stats to emit: once (with the
// previous sample of StatsInterval ago in precpu_stats, so that the client
// can compute CPU %; oneShot skips that wait), or every StatsInterval
// until ctx ends or the container stops when stream is set.
func (d *Daemon) ContainerStats(ctx context.Context, ref string, stream, oneShot bool, emit func(*container.StatsResponse) error) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	prev := d.statsSample(c)
	if !stream && oneShot {
		return emit(prev)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(StatsInterval):
		}
		cur := d.statsSample(c)
		cur.PreRead, cur.PreCPUStats = prev.Read, prev.CPUStats
		if err := emit(cur); err != nil || !stream || !c.IsRunning() {
			return err
		}
		prev = cur
	}
}

// statsSample reads one sample; a stopped container gives zeros, as with
// dockerd.
func (d *Daemon) statsSample(c *Container) *container.StatsResponse {
	c.Lock()
	s := &container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux"}
	c.Unlock()
	shim := c.Shim()
	if shim == nil {
		s.Read = time.Time{}
		return s
	}
	s.Read = time.Now().UTC()
	cg, err := d.containerCgroup(c)
	if err != nil {
		return s
	}
	st, err := cg.Stats()
	if err != nil {
		return s
	}
	s.CPUStats = container.CPUStats{
		CPUUsage:    container.CPUUsage{TotalUsage: st.CPUUsageNs},
		SystemUsage: systemCPUUsage(),
		OnlineCPUs:  uint32(runtime.NumCPU()),
	}
	limit := st.MemoryLimit
	if limit == 0 {
		limit = hostMemory()
	}
	s.MemoryStats = container.MemoryStats{Usage: st.MemoryRawUsage, MaxUsage: st.MemoryMaxUsage, Stats: st.MemoryStat, Limit: limit}
	s.PidsStats = container.PidsStats{Current: st.PidsCurrent, Limit: st.PidsLimit}
	s.Networks = netDevStats(shim.Pid)
	return s
}

// systemCPUUsage is the host's total CPU time in nanoseconds (the "cpu"
// line of /proc/stat), dockerd's system_cpu_usage.
func systemCPUUsage() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[0] != "cpu" {
			continue
		}
		var ticks uint64
		for _, v := range fields[1:8] { // user nice system idle iowait irq softirq
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
		return ticks * uint64(time.Second) / 100 // USER_HZ is 100 on Linux
	}
	return 0
}

func hostMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

// netDevStats reads the interfaces of the container's network namespace,
// without lo (docker lists only the container's endpoints).
func netDevStats(pid int) map[string]container.NetworkStats {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return nil
	}
	var out map[string]container.NetworkStats
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" || strings.Contains(name, "|") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			continue
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		if out == nil {
			out = map[string]container.NetworkStats{}
		}
		out[name] = container.NetworkStats{
			RxBytes: n(0), RxPackets: n(1), RxErrors: n(2), RxDropped: n(3),
			TxBytes: n(8), TxPackets: n(9), TxErrors: n(10), TxDropped: n(11),
		}
	}
	return out
}

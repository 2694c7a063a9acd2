package cli

import (
	"errors"
	"fmt"
	"reflect"

	units "github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/container"
)

// PauseCmd is `docker pause`: the container's processes are frozen (the
// cgroup freezer) until unpause.
type PauseCmd struct {
	Containers []string `arg:"" name:"container"`
}

// Run pauses each container, printing its name.
func (c *PauseCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerPause(g.ctx, id, client.ContainerPauseOptions{}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// UnpauseCmd is `docker unpause`.
type UnpauseCmd struct {
	Containers []string `arg:"" name:"container"`
}

// Run thaws each container, printing its name.
func (c *UnpauseCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerUnpause(g.ctx, id, client.ContainerUnpauseOptions{}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// UpdateCmd is `docker update`: new limits for running or stopped
// containers, and a new restart policy. The daemon refuses the limits it
// does not apply (cpuset, realtime, blkio), naming them.
type UpdateCmd struct {
	BlkioWeight       uint16   `name:"blkio-weight" help:"Block IO (relative weight), between 10 and 1000, or 0 to disable."`
	CPUPeriod         int64    `name:"cpu-period" help:"Limit CPU CFS (Completely Fair Scheduler) period."`
	CPUQuota          int64    `name:"cpu-quota" help:"Limit CPU CFS (Completely Fair Scheduler) quota."`
	CPURtPeriod       int64    `name:"cpu-rt-period" help:"Limit the CPU real-time period in microseconds."`
	CPURtRuntime      int64    `name:"cpu-rt-runtime" help:"Limit the CPU real-time runtime in microseconds."`
	CPUShares         int64    `name:"cpu-shares" short:"c" help:"CPU shares (relative weight)."`
	CPUs              float64  `name:"cpus" help:"Number of CPUs."`
	CpusetCpus        string   `name:"cpuset-cpus" help:"CPUs in which to allow execution (0-3, 0,1)."`
	CpusetMems        string   `name:"cpuset-mems" help:"MEMs in which to allow execution (0-3, 0,1)."`
	Memory            string   `short:"m" help:"Memory limit."`
	MemoryReservation string   `name:"memory-reservation" help:"Memory soft limit."`
	MemorySwap        string   `name:"memory-swap" help:"Swap limit equal to memory plus swap: -1 to enable unlimited swap."`
	PidsLimit         *int64   `name:"pids-limit" help:"Tune container pids limit (set -1 for unlimited)."`
	Restart           string   `help:"Restart policy to apply when a container exits."`
	Containers        []string `arg:"" name:"container"`
}

// errNoUpdateFlags is docker's answer to an update that changes nothing.
var errNoUpdateFlags = errors.New("you must provide one or more flags when using this command")

// Run sends the new settings to each container, printing its name.
func (c *UpdateCmd) Run(g *Globals) error {
	opts, err := c.options()
	if err != nil {
		return err
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		res, err := cli.ContainerUpdate(g.ctx, id, opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		for _, w := range res.Warnings { // docker prints them on stdout, after the name
			fmt.Fprintln(g.stdout, w)
		}
		return nil
	})
}

// options turns the flags into the update request.
func (c *UpdateCmd) options() (client.ContainerUpdateOptions, error) {
	r := &container.Resources{
		BlkioWeight: c.BlkioWeight, CPUPeriod: c.CPUPeriod, CPUQuota: c.CPUQuota,
		CPURealtimePeriod: c.CPURtPeriod, CPURealtimeRuntime: c.CPURtRuntime, CPUShares: c.CPUShares,
		NanoCPUs: int64(c.CPUs * 1e9), CpusetCpus: c.CpusetCpus, CpusetMems: c.CpusetMems, PidsLimit: c.PidsLimit,
	}
	for _, size := range []struct {
		flag, value string
		into        *int64
	}{
		{"-m, --memory", c.Memory, &r.Memory},
		{"--memory-reservation", c.MemoryReservation, &r.MemoryReservation},
		{"--memory-swap", c.MemorySwap, &r.MemorySwap},
	} {
		if size.value == "" {
			continue
		}
		if size.value == "-1" && size.into == &r.MemorySwap {
			r.MemorySwap = -1
			continue
		}
		n, err := units.RAMInBytes(size.value)
		if err != nil {
			return client.ContainerUpdateOptions{}, fmt.Errorf("invalid argument %q for %q flag: %v", size.value, size.flag, err)
		}
		*size.into = n
	}
	opts := client.ContainerUpdateOptions{Resources: r}
	if c.Restart != "" {
		p, err := parseRestart(c.Restart)
		if err != nil {
			return opts, err
		}
		opts.RestartPolicy = &p
	}
	if opts.RestartPolicy == nil && reflect.ValueOf(*r).IsZero() {
		return opts, errNoUpdateFlags
	}
	return opts, nil
}

package daemon

// docker update: new limits for a container, written into the cgroup of a
// running one at once (a limit is a file; see package cgroups) and kept in
// its record for the next start; and a new restart policy.

import (
	"fmt"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// UpdateContainer is POST /containers/{id}/update. Either the whole update
// is applied, to the cgroup and the record, or nothing is: a limit the
// kernel refuses puts the old limits back.
func (d *Daemon) UpdateContainer(ref string, req container.UpdateConfig) (warnings []string, err error) {
	if err := refuseUnsupportedUpdate(req.Resources); err != nil { // unsupported.go
		return nil, err
	}
	warnings, err = checkCpusetAndBlkio(&req.Resources) // resources_cpuset.go
	if err != nil {
		return nil, err
	}
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	c.op.Lock() // no start, stop or rm meanwhile
	defer c.op.Unlock()
	c.mu.Lock()
	old := *c.HostConfig
	updated := old
	err = mergeUpdate(&updated, req)
	live := c.State.Running && !c.State.Restarting
	c.mu.Unlock()
	if err != nil {
		return nil, cannotUpdate(c.ID, err)
	}
	if live {
		if err := d.applyResources(c, &old, &updated); err != nil {
			return nil, cannotUpdate(c.ID, err)
		}
	}
	defer d.eventIfDone(c, "update", &err) // events.go; runs once c.mu is released
	c.mu.Lock()
	defer c.mu.Unlock()
	c.HostConfig = &updated
	if err := c.save(); err != nil {
		return nil, cannotUpdate(c.ID, err)
	}
	return append([]string{}, warnings...), nil
}

// cannotUpdate is dockerd's wrapping of every update error; the kind stays.
func cannotUpdate(id string, err error) error {
	return errdefs.As(errdefs.KindOf(err), fmt.Errorf("Cannot update container %s: %w", id, err))
}

// mergeUpdate puts the fields the request sets (non-zero) into hc, with
// dockerd's rules for what may not change together, and validates the
// result as create would.
func mergeUpdate(hc *container.HostConfig, req container.UpdateConfig) error {
	r, cur := req.Resources, &hc.Resources
	if err := checkCPUUpdate(r, *cur); err != nil {
		return err
	}
	if cur.Memory > 0 && cur.MemorySwap == 0 {
		cur.MemorySwap = 2 * cur.Memory // what create's "unset" meant
	}
	if r.Memory != 0 {
		if r.Memory > cur.MemorySwap && r.MemorySwap == 0 {
			return errdefs.Conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		cur.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		cur.MemorySwap = r.MemorySwap
	}
	if r.CPUShares != 0 {
		cur.CPUShares = r.CPUShares
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	if r.CPUPeriod != 0 {
		cur.CPUPeriod = r.CPUPeriod
	}
	if r.CPUQuota != 0 {
		cur.CPUQuota = r.CPUQuota
	}
	if r.CpusetCpus != "" {
		cur.CpusetCpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cur.CpusetMems = r.CpusetMems
	}
	if r.BlkioWeight != 0 {
		cur.BlkioWeight = r.BlkioWeight
	}
	if r.PidsLimit != nil {
		// 0 and any negative number mean "unlimited" in an update
		n := max(*r.PidsLimit, 0)
		cur.PidsLimit = &n
	}
	if err := mergeRestartPolicy(hc, req.RestartPolicy); err != nil {
		return err
	}
	_, err := resourcesOf(hc)
	return err
}

// checkCPUUpdate: --cpus and --cpu-period/--cpu-quota set the same cgroup
// file, so once one is set the other cannot be updated (dockerd's rule).
func checkCPUUpdate(r, cur container.Resources) error {
	switch {
	case r.NanoCPUs > 0 && cur.CPUPeriod > 0:
		return errdefs.Conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	case r.NanoCPUs > 0 && cur.CPUQuota > 0:
		return errdefs.Conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	case r.CPUPeriod > 0 && cur.NanoCPUs > 0:
		return errdefs.Conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	case r.CPUQuota > 0 && cur.NanoCPUs > 0:
		return errdefs.Conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	}
	return nil
}

// mergeRestartPolicy replaces the restart policy when the request names one.
func mergeRestartPolicy(hc *container.HostConfig, rp container.RestartPolicy) error {
	if rp.Name == "" {
		return nil
	}
	if err := validateRestartPolicy(rp); err != nil {
		return err
	}
	if hc.AutoRemove && rp.Name != "no" {
		return errdefs.Conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
	}
	hc.RestartPolicy = rp
	return nil
}

// applyResources writes the new limits into the running container's
// cgroup. If the kernel refuses one, the old limits go back, so a failed
// update leaves the container as it was.
func (d *Daemon) applyResources(c *Container, old, updated *container.HostConfig) error {
	res, err := resourcesOf(updated)
	if err != nil {
		return err
	}
	cg, err := d.containerCgroup(c)
	if err != nil {
		if !c.IsRunning() {
			return nil // it ended meanwhile: the record is enough
		}
		return err
	}
	if err := cg.Set(res); err != nil {
		if prev, perr := resourcesOf(old); perr == nil {
			cg.Set(prev)
		}
		return errdefs.As(errdefs.KindUnknown, err)
	}
	return nil
}

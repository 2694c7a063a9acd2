package daemon

// --cpuset-cpus, --cpuset-mems and --blkio-weight at create and update,
// checked as dockerd checks them (daemon_unix.go's
// verifyPlatformContainerResources): a list that does not parse or names
// CPUs or nodes the machine lacks is refused; a setting the kernel cannot
// apply at all (no cpuset controller, no block I/O weight file: blkio.weight
// needs the BFQ scheduler, absent on many kernels) is discarded with
// dockerd's warning, which the create or update answer carries and the
// CLI prints. The cgroup files are written by package cgroups (cpuset.go).

import (
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// checkCpusetAndBlkio validates r's cpuset and block I/O weight, clearing
// what this kernel cannot apply and saying so in the warnings.
func checkCpusetAndBlkio(r *container.Resources) (warnings []string, err error) {
	cpus, mems, ok := cgroups.CpusetAvailable()
	if (r.CpusetCpus != "" || r.CpusetMems != "") && !ok {
		warnings = append(warnings, "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
		r.CpusetCpus, r.CpusetMems = "", ""
	}
	if err := checkCPUList("cpus", "CPUs", r.CpusetCpus, cpus); err != nil {
		return warnings, err
	}
	if err := checkCPUList("mems", "memory nodes", r.CpusetMems, mems); err != nil {
		return warnings, err
	}
	if r.BlkioWeight > 0 && !cgroups.BlkioWeightSupported() {
		warnings = append(warnings, "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
		r.BlkioWeight = 0
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return warnings, errdefs.Invalid("Range of blkio weight is from 10 to 1000")
	}
	return warnings, nil
}

// checkCPUList refuses a requested list (of CPUs or memory nodes) that
// does not parse or is not a subset of what is available.
func checkCPUList(kind, what, requested, available string) error {
	if requested == "" {
		return nil
	}
	want, err := cgroups.ParseCPUList(requested)
	if err != nil {
		return errdefs.Invalid("Invalid value %s for cpuset %s: %v", requested, kind, err)
	}
	have, err := cgroups.ParseCPUList(available)
	if err != nil {
		return err
	}
	for n := range want {
		if !have[n] {
			return errdefs.Invalid("Requested %s are not available - requested %s, available: %s", what, requested, available)
		}
	}
	return nil
}

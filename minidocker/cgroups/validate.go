package cgroups

import (
	"errors"
	"fmt"
)

// MinMemory is docker's smallest --memory (6 MiB).
const MinMemory = 6 * 1024 * 1024

// Validate refuses resources dockerd would refuse, with dockerd's words
// (daemon/daemon_unix.go, verifyPlatformContainerResources). numCPU is the
// number of CPUs the machine has (runtime.NumCPU()).
//
// One difference: dockerd only range-checks --cpus (NanoCPUs), while a raw
// --cpu-quota may ask for more CPUs than exist. Resources carries only the
// quota/period pair, so the range is checked on the pair: more CPUs than the
// machine has is refused whichever flag asked for it.
func Validate(r Resources, numCPU int) error {
	if r.Memory != 0 && r.Memory < MinMemory {
		return errors.New("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return errors.New("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 {
		return errors.New("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return errors.New("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 {
		period := r.CPUPeriod
		if period == 0 {
			period = DefaultCPUPeriod
		}
		// quota/period > numCPU, in integers.
		if numCPU > 0 && uint64(r.CPUQuota) > uint64(numCPU)*period {
			return fmt.Errorf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", numCPU, numCPU)
		}
	}
	if r.CPUShares < 0 {
		return fmt.Errorf("invalid CPU shares (%d): value must be a positive integer", r.CPUShares)
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return errors.New("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	return nil
}

// ValidateNanoCPUs is the check dockerd makes on --cpus before it becomes a
// quota: negative or above the machine is refused.
func ValidateNanoCPUs(nano int64, numCPU int) error {
	if nano < 0 || nano > int64(numCPU)*1e9 {
		return fmt.Errorf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", numCPU, numCPU)
	}
	return nil
}

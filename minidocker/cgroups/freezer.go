package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// The freezer is what `docker pause` uses: every process of the cgroup
// stops where it is, in the kernel's "frozen" state (ps shows D), without
// a signal it could see or handle. Unlike SIGSTOP, nothing inside the
// container can tell or undo it, and a fork cannot escape it: a child is
// born into the frozen cgroup.
//
// v1 has a controller for it, with one file: freezer.state takes FROZEN or
// THAWED, and reads FREEZING while the kernel is still catching tasks.
// v2 has no controller: every cgroup has cgroup.freeze (1 or 0), and
// cgroup.events says "frozen 1" once all its tasks are stopped.

// FreezeTimeout bounds how long Freeze and Thaw wait for the kernel.
var FreezeTimeout = 5 * time.Second

// ErrNoFreezer is returned on a v1 machine where the freezer controller
// is not mounted.
var ErrNoFreezer = errors.New("cgroups: the freezer controller is not mounted")

// Freeze stops every process of the cgroup and returns once the kernel
// says all of them are frozen.
func (c *Cgroup) Freeze() error { return c.setFrozen(true) }

// Thaw lets the processes of a frozen cgroup run again.
func (c *Cgroup) Thaw() error { return c.setFrozen(false) }

// Frozen reports whether the cgroup is frozen (v1: freezer.state FROZEN,
// v2: "frozen 1" in cgroup.events).
func (c *Cgroup) Frozen() (bool, error) {
	if c.version == V2 {
		kv, err := readKeyValues(filepath.Join(c.dir, "cgroup.events"))
		if err != nil {
			return false, err
		}
		return kv["frozen"] == 1, nil
	}
	d, ok := c.dirs["freezer"]
	if !ok {
		return false, ErrNoFreezer
	}
	s, err := readString(filepath.Join(d, "freezer.state"))
	return s == "FROZEN", err
}

func (c *Cgroup) setFrozen(frozen bool) error {
	file, value := c.freezerFile(frozen)
	if file == "" {
		return ErrNoFreezer
	}
	deadline := time.Now().Add(FreezeTimeout)
	for {
		// v1 may stay FREEZING when a task is busy in the kernel; writing
		// FROZEN again retries it (runc does the same).
		if err := writeFile(file, value); err != nil {
			return err
		}
		now, err := c.Frozen()
		if err != nil {
			return err
		}
		if now == frozen {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %s: still not %s after %v", c.Name(), value, FreezeTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// freezerFile is the file and value that freeze (or thaw) the cgroup; an
// empty file when there is no freezer.
func (c *Cgroup) freezerFile(frozen bool) (file, value string) {
	if c.version == V2 {
		value = "0"
		if frozen {
			value = "1"
		}
		return filepath.Join(c.dir, "cgroup.freeze"), value
	}
	d, ok := c.dirs["freezer"]
	if !ok {
		return "", ""
	}
	value = "THAWED"
	if frozen {
		value = "FROZEN"
	}
	return filepath.Join(d, "freezer.state"), value
}

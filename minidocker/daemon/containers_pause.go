package daemon

// docker pause and unpause: the cgroup freezer (cgroups.Cgroup.Freeze)
// stops every process of the container where it stands; the container
// stays "running" for the runtime, with State.Paused set and the status
// "paused". A frozen process takes no signal until it is thawed, so the
// operations that end a container (stop, kill, rm -f) send their signal
// and then thaw it, as dockerd does.

import (
	"fmt"
	"log/slog"
	"syscall"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// PauseContainer is `docker pause`.
func (d *Daemon) PauseContainer(ref string) (err error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	defer d.eventIfDone(c, "pause", &err) // events.go; runs once the locks below are released
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.State.Restarting:
		return errdefs.Conflict("Container %s is restarting, wait until the container is running", c.ID)
	case !c.State.Running:
		return notRunningError(c.ID)
	case c.State.Paused:
		return errdefs.Conflict("Container %s is already paused", c.ID)
	}
	cg, err := d.containerCgroup(c)
	if err == nil {
		err = cg.Freeze()
	}
	if err != nil {
		return errdefs.As(errdefs.KindUnknown, wrapf(err, "Cannot pause container %s", c.ID))
	}
	c.State.Paused, c.State.Status = true, "paused"
	return c.save()
}

// UnpauseContainer is `docker unpause`.
func (d *Daemon) UnpauseContainer(ref string) (err error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	defer d.eventIfDone(c, "unpause", &err) // events.go; runs once the locks below are released
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.State.Paused || !c.State.Running {
		// dockerd gives this one no kind, so clients see a 500, not a 409
		return fmt.Errorf("Container %s is not paused", c.ID)
	}
	if err := d.thawLocked(c); err != nil {
		return errdefs.As(errdefs.KindUnknown, wrapf(err, "Cannot unpause container %s", c.ID))
	}
	return c.save()
}

// thawLocked thaws a paused container and records it running again. Call
// with c.mu held.
func (d *Daemon) thawLocked(c *Container) error {
	cg, err := d.containerCgroup(c)
	if err == nil {
		err = cg.Thaw()
	}
	if err != nil {
		return err
	}
	c.State.Paused, c.State.Status = false, "running"
	return nil
}

// signalContainer sends sig to PID 1 and, when the container is paused
// and thaw is set (the signal is meant to end it), thaws it so that the
// signal is taken: dockerd does the same, signal first, then resume, so
// that the process sees nothing of the time between the two.
func (d *Daemon) signalContainer(c *Container, shim *libcontainer.Shim, sig syscall.Signal, thaw bool) error {
	err := shim.Kill(sig)
	if !thaw {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Paused && c.State.Running {
		if terr := d.thawLocked(c); terr != nil {
			slog.Warn("cannot unpause container", "id", stringid.TruncateID(c.ID), "err", terr)
		} else {
			c.save()
		}
	}
	return err
}

package daemon

import (
	"log/slog"
	"sync"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// What happens to containers when the daemon stops and starts again, as
// dockerd does it:
//
//   - SIGTERM (Shutdown): every running container is stopped as `docker
//     stop` would stop it (its stop signal, its grace period, then SIGKILL),
//     unless live-restore is on; then they keep running under their shims
//     and the next daemon reconnects to them.
//   - A crash or kill -9 of the daemon stops nothing: the shims keep the
//     containers running, and the next daemon reconnects (restoreContainer).
//   - At the next start the restart policies decide (restartOnDaemonStart).
//     A stop by the daemon's shutdown is not a user's stop, so
//     unless-stopped comes back as always does.

// Shutdown is the daemon's end on SIGTERM: the containers are stopped
// (unless live-restore is on), then Close releases the rest.
func (d *Daemon) Shutdown() error {
	d.shuttingDown.Store(true)
	if d.cfg.LiveRestore {
		slog.Info("live-restore: leaving the containers running")
	} else {
		d.stopAllForShutdown()
	}
	return d.Close()
}

// stopAllForShutdown stops every running container at once and waits for
// all of them. A container waiting to be restarted by its policy stays
// down: the next daemon's start applies the policy again.
func (d *Daemon) stopAllForShutdown() {
	if d.containers == nil {
		return
	}
	var wg sync.WaitGroup
	for _, c := range d.Containers() {
		c.mu.Lock()
		running, restarting := c.State.Running, c.State.Restarting
		if restarting && !running {
			c.State.Restarting, c.State.Status = false, "exited"
			c.save()
		}
		c.mu.Unlock()
		if !running {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.op.Lock()
			defer c.op.Unlock()
			// stopLocked sees shuttingDown: not a manual stop
			if err := d.stopLocked(c, nil, ""); err != nil {
				slog.Warn("stopping a container at shutdown", "id", stringid.TruncateID(c.ID), "err", err)
			}
		}()
	}
	wg.Wait()
}

// restartOnDaemonStart is docker's rule for a container found stopped when
// the daemon starts: always restarts it (even after a user's stop),
// unless-stopped unless a user stopped it, on-failure after a non-zero exit
// while retries remain. A container never started stays as it is. Call
// with c.mu held.
func restartOnDaemonStart(c *Container) bool {
	if c.State.Running || c.State.Restarting || c.State.StartedAt.IsZero() || c.HostConfig.AutoRemove {
		return false
	}
	rp := c.HostConfig.RestartPolicy
	switch rp.Name {
	case "always":
		return true
	case "unless-stopped":
		return !c.ManuallyStopped
	case "on-failure":
		return c.State.ExitCode != 0 && (rp.MaximumRetryCount == 0 || c.RestartCount < rp.MaximumRetryCount)
	}
	return false
}

// restartAtStart starts the containers whose policy says so, at once, and
// waits for them, so that the API answers only once they run (dockerd
// does the same).
func (d *Daemon) restartAtStart(list []*Container) {
	var wg sync.WaitGroup
	for _, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slog.Info("restarting container by its restart policy", "id", stringid.TruncateID(c.ID))
			if err := d.startContainer(c, false); err != nil {
				slog.Error("restarting container at daemon start", "id", stringid.TruncateID(c.ID), "err", err)
			}
		}()
	}
	wg.Wait()
}

// removeCgroupParent removes the --cgroup-parent directories (one per
// hierarchy on cgroup v1) when the daemon stops and no container is left
// in them; with live-restore the running containers keep theirs. The
// next container's start makes them again.
func (d *Daemon) removeCgroupParent() {
	if left, err := cgroups.List(d.cfg.CgroupParent); err != nil || len(left) > 0 {
		return
	}
	if err := cgroups.RemoveParent(d.cfg.CgroupParent); err != nil {
		slog.Warn("removing the containers' parent cgroup", "parent", d.cfg.CgroupParent, "err", err)
	}
}

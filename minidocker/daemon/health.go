package daemon

// Healthchecks (HEALTHCHECK, --health-cmd): while a container runs, the
// daemon runs its probe command inside it on schedule, as an ordinary exec
// (so `docker events` shows the exec_create/exec_start/exec_die of each
// probe, as dockerd's do), and keeps State.Health: starting until the first
// success, healthy, or unhealthy after Retries failures in a row. A change
// of status is a health_status event; `ps` shows it after "Up …".
//
// One checker goroutine per running container: started by launch (and by
// restoreContainer for a container that kept running across a daemon
// restart with live-restore), stopped by handleExit. It holds no lock
// while a probe runs: only recordHealth takes the container's, briefly.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// docker's defaults and limits.
const (
	defaultProbeInterval = 30 * time.Second
	defaultProbeTimeout  = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultProbeRetries  = 3
	minimumProbeDuration = time.Millisecond
	healthLogEntries     = 5    // State.Health.Log keeps the last five results
	probeOutputLimit     = 4096 // bytes of a probe's output kept
)

// validateHealthcheck refuses what dockerd refuses, in its words, and a
// test kind it would not run (dockerd would accept it and never check).
func validateHealthcheck(h *container.HealthConfig) error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.value != 0 && d.value < minimumProbeDuration {
			return errdefs.Invalid("%s in Healthcheck cannot be less than %s", d.name, minimumProbeDuration)
		}
	}
	if h.Retries < 0 {
		return errdefs.Invalid("Retries in Healthcheck cannot be negative")
	}
	if len(h.Test) == 0 {
		return nil // inherits the image's test
	}
	switch h.Test[0] {
	case "NONE":
		return nil
	case "CMD", "CMD-SHELL":
		if len(h.Test) < 2 {
			return errdefs.Invalid("Healthcheck %s needs a command", h.Test[0])
		}
		return nil
	}
	return errdefs.Invalid("unknown Healthcheck type %q: use NONE, CMD or CMD-SHELL", h.Test[0])
}

// mergeHealthcheck is the request's healthcheck over the image's, field
// by field, as dockerd merges them at create: an empty Test or a zero
// duration takes the image's.
func mergeHealthcheck(req, img *container.HealthConfig) *container.HealthConfig {
	if img == nil {
		return req
	}
	if req == nil {
		h := *img
		return &h
	}
	h := *req
	if len(h.Test) == 0 {
		h.Test = img.Test
	}
	for _, f := range []struct{ dst, src *time.Duration }{
		{&h.Interval, &img.Interval}, {&h.Timeout, &img.Timeout},
		{&h.StartPeriod, &img.StartPeriod}, {&h.StartInterval, &img.StartInterval},
	} {
		if *f.dst == 0 {
			*f.dst = *f.src
		}
	}
	if h.Retries == 0 {
		h.Retries = img.Retries
	}
	return &h
}

// probeSpec is a healthcheck with docker's defaults filled in.
type probeSpec struct {
	cmd                                           []string
	interval, timeout, startPeriod, startInterval time.Duration
	retries                                       int
}

// probeSpecOf reads a container's healthcheck; false when there is none
// to run (no healthcheck, or NONE).
func probeSpecOf(h *container.HealthConfig) (probeSpec, bool) {
	if h == nil || len(h.Test) < 2 {
		return probeSpec{}, false
	}
	var cmd []string
	switch h.Test[0] {
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = append([]string{"/bin/sh", "-c"}, h.Test[1:]...)
	default:
		return probeSpec{}, false
	}
	or := func(d, def time.Duration) time.Duration {
		if d == 0 {
			return def
		}
		return d
	}
	s := probeSpec{
		cmd: cmd, interval: or(h.Interval, defaultProbeInterval), timeout: or(h.Timeout, defaultProbeTimeout),
		startPeriod: h.StartPeriod, startInterval: or(h.StartInterval, defaultStartInterval), retries: h.Retries,
	}
	if s.retries == 0 {
		s.retries = defaultProbeRetries
	}
	return s, true
}

// healthChecks holds the stop channel of each running checker, by
// container ID. Its lock is a leaf.
type healthChecks struct {
	mu   sync.Mutex
	byID map[string]chan struct{}
}

// replace registers a new checker for id, stopping an old one.
func (h *healthChecks) replace(id string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.byID[id]; ok {
		close(old)
	}
	if h.byID == nil {
		h.byID = map[string]chan struct{}{}
	}
	stop := make(chan struct{})
	h.byID[id] = stop
	return stop
}

// stop ends id's checker, if it has one ("" ends them all).
func (h *healthChecks) stop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cid, ch := range h.byID {
		if id == "" || cid == id {
			close(ch)
			delete(h.byID, cid)
		}
	}
}

// startHealthcheck starts c's checker if it has a healthcheck and runs.
// A fresh start begins at "starting"; a container reconnected after a
// daemon restart (restored) keeps the status it had.
func (d *Daemon) startHealthcheck(c *Container, restored bool) {
	c.mu.Lock()
	spec, ok := probeSpecOf(c.Config.Healthcheck)
	if !ok || !c.State.Running {
		c.mu.Unlock()
		return
	}
	if !restored || c.State.Health == nil {
		c.State.Health = &container.Health{Status: container.Starting}
		if err := c.save(); err != nil {
			slog.Warn("saving container record", "id", stringid.TruncateID(c.ID), "err", err)
		}
	}
	started := c.State.StartedAt
	c.mu.Unlock()
	stop := d.health.replace(c.ID)
	go d.runHealthcheck(c, spec, started, stop)
}

// stopHealthcheck ends c's checker (its container stopped).
func (d *Daemon) stopHealthcheck(c *Container) { d.health.stop(c.ID) }

// runHealthcheck probes on schedule until stop is closed: every interval,
// or every start interval while the container is still starting within
// its start period.
func (d *Daemon) runHealthcheck(c *Container, spec probeSpec, started time.Time, stop <-chan struct{}) {
	for {
		wait := spec.interval
		if spec.startPeriod > 0 && time.Since(started) < spec.startPeriod && c.healthStatus() == container.Starting {
			wait = spec.startInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		res := d.probe(c, spec, stop)
		if res == nil {
			return // stopped while probing
		}
		d.recordHealth(c, spec, res, started)
	}
}

// healthStatus is c's health status ("" without a healthcheck).
func (c *Container) healthStatus() container.HealthStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.State.Health == nil {
		return ""
	}
	return c.State.Health.Status
}

// probe runs the check command once as an exec in c and returns its
// result: exit code and the start of its output; -1 when it ran out of
// time (it is killed). nil when stop came meanwhile.
func (d *Daemon) probe(c *Container, spec probeSpec, stop <-chan struct{}) *container.HealthcheckResult {
	res := &container.HealthcheckResult{Start: time.Now()}
	out := &probeOutput{}
	e, err := d.startProbeExec(c, spec.cmd)
	done := make(chan int, 1)
	if err != nil {
		done <- -1
		out.Write([]byte(err.Error()))
	} else {
		defer forgetExec(e.ID) // a probe leaves no exec record behind, as in docker
		go func() {
			code, err := d.ExecStart(context.Background(), e, nil, out, out)
			if err != nil {
				out.Write([]byte(err.Error()))
			}
			done <- code
		}()
	}
	t := time.NewTimer(spec.timeout)
	defer t.Stop()
	select {
	case res.ExitCode = <-done:
		res.Output = out.String()
	case <-t.C:
		e.kill()
		res.ExitCode, res.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", spec.timeout)
	case <-stop:
		e.kill()
		return nil
	}
	res.End = time.Now()
	return res
}

// startProbeExec makes and claims the exec record of one probe.
func (d *Daemon) startProbeExec(c *Container, cmd []string) (*Exec, error) {
	id, err := d.ExecCreate(c.ID, container.ExecCreateRequest{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return nil, err
	}
	return d.ExecClaim(id)
}

// forgetExec drops an exec record.
func forgetExec(id string) {
	execStore.Lock()
	delete(execStore.byID, id)
	execStore.Unlock()
}

// kill ends the exec's process, if it got one.
func (e *Exec) kill() {
	if e == nil {
		return
	}
	e.mu.Lock()
	proc := e.proc
	e.mu.Unlock()
	if proc != nil {
		proc.Kill(syscall.SIGKILL)
	}
}

// recordHealth adds one result to c's State.Health and moves its status:
// a success makes it healthy; a failure counts towards unhealthy, except
// while a container that was never healthy is in its start period.
func (d *Daemon) recordHealth(c *Container, spec probeSpec, res *container.HealthcheckResult, started time.Time) {
	c.mu.Lock()
	h := c.State.Health
	if h == nil || !c.State.Running {
		c.mu.Unlock()
		return
	}
	before := h.Status
	h.Log = append(h.Log, res)
	if n := len(h.Log); n > healthLogEntries {
		h.Log = append([]*container.HealthcheckResult(nil), h.Log[n-healthLogEntries:]...)
	}
	switch {
	case res.ExitCode == 0:
		h.FailingStreak, h.Status = 0, container.Healthy
	case h.Status == container.Starting && res.Start.Sub(started) < spec.startPeriod:
		// still starting: failures do not count yet
	default:
		h.FailingStreak++
		if h.FailingStreak >= spec.retries {
			h.Status = container.Unhealthy
		}
	}
	if err := c.save(); err != nil {
		slog.Warn("saving container record", "id", stringid.TruncateID(c.ID), "err", err)
	}
	after := h.Status
	c.mu.Unlock()
	if after != before {
		d.containerEvent(c, "health_status: "+string(after))
	}
}

// healthCopy is a copy of h that inspect may encode after c.mu is released.
func healthCopy(h *container.Health) *container.Health {
	if h == nil {
		return nil
	}
	cp := *h
	cp.Log = append([]*container.HealthcheckResult{}, h.Log...)
	return &cp
}

// healthSuffix is what ps adds after "Up 5 minutes".
func healthSuffix(h *container.Health) string {
	if h == nil {
		return ""
	}
	if h.Status == container.Starting {
		return " (health: starting)"
	}
	return " (" + string(h.Status) + ")"
}

// healthMatches is ps's health filter: starting, healthy, unhealthy, or
// none for a container without a healthcheck (status "").
func healthMatches(status container.HealthStatus, want string) bool {
	if status == "" {
		return want == string(container.NoHealthcheck)
	}
	return string(status) == want
}

// CheckContainerFilters refuses a ps filter value dockerd refuses.
func CheckContainerFilters(f map[string][]string) error {
	for _, v := range f["health"] {
		if container.ValidateHealthStatus(container.HealthStatus(v)) != nil {
			return errdefs.Invalid("Unrecognised filter value for health: %s", v)
		}
	}
	return nil
}

// probeOutput keeps the first probeOutputLimit bytes of a probe's stdout
// and stderr (written from two goroutines).
type probeOutput struct {
	mu  sync.Mutex
	buf []byte
}

func (p *probeOutput) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := probeOutputLimit - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (p *probeOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.buf)
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/moby/sys/signal"
)

// StartContainer is `docker start`.
func (d *Daemon) StartContainer(ref string) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	return d.startContainer(c, false)
}

// startContainer makes the container run, in three steps: the inputs
// (resources, mounts, confinement, layers), the bundle (network, /etc
// files, spec) and the launch (shim, attaches, "go"). On any failure after
// the inputs everything made so far is undone (shim, cgroup, network,
// bundle), so a failed start leaves only the record. byPolicy is a restart
// by the restart policy, which a manual stop cancels.
func (d *Daemon) startContainer(c *Container, byPolicy bool) (retErr error) {
	began := time.Now()
	libcontainer.Trace("daemon: start")
	c.op.Lock()
	defer c.op.Unlock()
	cfg, hc, skip, err := c.claimStart(byPolicy)
	if err != nil || skip {
		return err
	}
	defer func() {
		if retErr != nil {
			c.failPendingAttaches(retErr)
			if hc.AutoRemove {
				// docker removes a --rm container whose start failed, for
				// any reason: `docker run --rm` waits for the removal. It
				// runs once this start's undo is done (it takes c.op).
				go d.removeContainer(c, removeOpts{force: true, volumes: true})
			}
		}
	}()
	in, err := d.startInputs(c, hc)
	if err != nil {
		return err
	}
	bundle := c.BundleDir
	defer func() {
		if retErr != nil {
			libcontainer.Cleanup(bundle)
			d.disconnect(c)
			os.RemoveAll(bundle)
		}
	}()
	libcontainer.Trace("daemon: inputs")
	spec, ip, err := d.prepareBundle(c, cfg, hc, in)
	if err != nil {
		return err
	}
	if err := libcontainer.WriteSpec(bundle, spec); err != nil {
		return err
	}
	return d.launch(c, ip, began)
}

// claimStart checks under the record's lock that the container may start.
// skip is a policy restart that a manual stop has cancelled.
func (c *Container) claimStart(byPolicy bool) (cfg *container.Config, hc *container.HostConfig, skip bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.removed:
		return nil, nil, false, errdefs.NotFound("No such container: %s", c.ID)
	case c.State.Running:
		return nil, nil, false, errdefs.NotModified("container already started")
	case byPolicy && c.ManuallyStopped:
		return nil, nil, true, nil
	}
	c.ManuallyStopped = false
	// State.Error speaks of the latest start only: a client reads it, with
	// ExitCode, to learn why this start failed (recordStartFailure)
	c.State.Error = ""
	return c.Config, c.HostConfig, false, nil
}

// failPendingAttaches answers the attaches that waited for this start.
func (c *Container) failPendingAttaches(err error) {
	c.mu.Lock()
	pend := c.attaches
	c.attaches = nil
	c.mu.Unlock()
	for _, p := range pend {
		p.ch <- attachResult{err: err}
	}
}

// startInputs is what a start needs that can be checked before anything
// is made: cgroup resources, mounts, confinement and the image's layers.
type startInputs struct {
	res         cgroups.Resources
	mounts      []libcontainer.Mount
	sec         libcontainer.Security
	lower       []string
	upper, work string
}

func (d *Daemon) startInputs(c *Container, hc *container.HostConfig) (in startInputs, err error) {
	if err := d.checkRecordedUserns(c, hc); err != nil { // userns.go
		return in, err
	}
	if in.res, err = resourcesOf(hc); err != nil {
		return in, err
	}
	c.mu.Lock()
	in.mounts, err = runtimeMounts(c.MountPoints) // mounts.go
	c.mu.Unlock()
	if err != nil {
		return in, err
	}
	if in.sec, err = containerSecurity(hc); err != nil {
		return in, err
	}
	in.lower, in.upper, in.work, err = c.RootfsDirs(d)
	return in, err
}

// prepareBundle makes the bundle directory, connects the network, writes
// /etc/hostname, /etc/hosts and /etc/resolv.conf, and returns the spec
// init will run from, with the container's IP.
func (d *Daemon) prepareBundle(c *Container, cfg *container.Config, hc *container.HostConfig, in startInputs) (*libcontainer.Spec, string, error) {
	bundle := c.BundleDir
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o700); err != nil {
		return nil, "", err
	}
	netw, ip, err := d.connect(c)
	if err != nil {
		return nil, "", err
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = c.ID[:12]
		if string(hc.NetworkMode) == "host" {
			hostname, _ = os.Hostname()
		}
	}
	if err := writeEtcFiles(c, hostname, ip, string(hc.NetworkMode) == "host"); err != nil {
		return nil, "", err
	}
	if err := d.setupNames(c); err != nil { // networks_dns.go: resolv.conf, --add-host, --link, 127.0.0.11
		return nil, "", err
	}
	d.addPeerHosts(c) // names of the containers on its user-defined network (networks.go)
	// links.go: the variables legacy links on the default bridge give
	linkEnv, err := d.linkEnv(c)
	if err != nil {
		return nil, "", err
	}
	mounts := append(in.mounts,
		libcontainer.Mount{Source: c.HostnamePath, Destination: "/etc/hostname"},
		libcontainer.Mount{Source: c.HostsPath, Destination: "/etc/hosts"},
		libcontainer.Mount{Source: c.ResolvConfPath, Destination: "/etc/resolv.conf"},
	)
	spec := &libcontainer.Spec{
		ID: c.ID,
		Rootfs: libcontainer.Rootfs{
			LowerDirs: in.lower, UpperDir: in.upper, WorkDir: in.work,
			MergedDir: filepath.Join(bundle, "rootfs"),
		},
		Process: libcontainer.Process{
			Args:          append([]string{c.Path}, c.Args...),
			Env:           withDefaultEnv(append(linkEnv, cfg.Env...), hostname, cfg.Tty),
			Cwd:           cfg.WorkingDir,
			User:          cfg.User,
			Terminal:      cfg.Tty,
			OpenStdin:     cfg.OpenStdin,
			StdinOnce:     cfg.StdinOnce,
			ConsoleHeight: uint16(hc.ConsoleSize[0]),
			ConsoleWidth:  uint16(hc.ConsoleSize[1]),
			Security:      in.sec,
		},
		Hostname:       hostname,
		Network:        netw,
		Mounts:         mounts,
		Privileged:     hc.Privileged,
		ReadonlyRootfs: hc.ReadonlyRootfs,
		Cgroup:         libcontainer.Cgroup{Parent: d.cfg.CgroupParent, Name: c.ID, Resources: in.res},
		LogPath:        c.LogPath,
		StopSignal:     cfg.StopSignal,
	}
	if err := d.applyRunOptions(c, cfg, hc, spec); err != nil { // runopts.go
		return nil, "", err
	}
	systemPathsOf(hc, spec) // security.go
	if spec.UserNamespace = c.UserNamespace; spec.UserNamespace != nil {
		if err := chownForUserns(c, spec.UserNamespace); err != nil { // userns.go
			return nil, "", err
		}
	}
	return spec, ip, nil
}

// launch starts the shim on the written bundle, hands the attaches that
// came before start their streams (so the first line of output reaches
// them), says "go", and records the running state.
func (d *Daemon) launch(c *Container, ip string, began time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer d.spares.Refill() // once this start is over (SpareShims.CreateShim says why)
	t0 := time.Now()
	libcontainer.Trace("daemon: bundle ready, CreateShim")
	shim, err := d.spares.CreateShim(ctx, c.BundleDir)
	t1 := time.Now()
	libcontainer.Trace("daemon: shim created")
	if err != nil {
		return startError(err)
	}
	c.mu.Lock()
	c.shim = shim
	pend := c.attaches
	c.attaches = nil
	c.mu.Unlock()
	for _, p := range pend {
		conn, err := shim.Attach(ctx, p.stdin, p.stdout, p.stderr)
		p.ch <- attachResult{conn: conn, err: err}
	}
	// the veth pair was made while the shim prepared init (AttachBegin);
	// it must be there before the container's first instruction
	if d.networks != nil {
		if err := d.networks.Ready(c.ID); err != nil {
			d.recordStartFailure(ctx, c, shim, err) // forgets the shim
			return fmt.Errorf("failed to set up container networking: %w", err)
		}
	}
	if err := shim.Start(ctx); err != nil {
		d.recordStartFailure(ctx, c, shim, err)
		return startError(err)
	}
	t2 := time.Now()
	libcontainer.Trace("daemon: started")
	c.mu.Lock()
	c.State = ContainerState{
		Status: "running", Running: true, Pid: shim.Pid,
		StartedAt: time.Now().UTC(),
	}
	c.IPAddress = ip
	err = c.save()
	c.mu.Unlock()
	if err != nil {
		slog.Error("saving container record", "id", c.ID, "err", err)
	}
	slog.Debug("container started", "id", c.ID[:12], "prepare", t0.Sub(began), "create-shim", t1.Sub(t0), "start", t2.Sub(t1), "record", time.Since(t2))
	// the start's events before the monitor runs: a command that ends at
	// once must not have its die and disconnect logged before them
	d.startEvents(c) // events.go: network connect, volume mount, start
	go d.monitor(c, shim)
	d.startHealthcheck(c, false) // health.go
	return nil
}

// recordStartFailure forgets the shim of a start that failed. When the
// process never ran (a StartError: no such command, not executable),
// docker keeps the container "created" with the exit code (127, 126) and
// the error (and startContainer removes a --rm one).
func (d *Daemon) recordStartFailure(ctx context.Context, c *Container, shim *libcontainer.Shim, err error) {
	var se *libcontainer.StartError
	if !errors.As(err, &se) {
		c.mu.Lock()
		c.shim = nil
		c.mu.Unlock()
		return
	}
	shim.Wait(ctx)
	c.mu.Lock()
	c.shim = nil
	c.State.ExitCode, c.State.Error = se.Code, se.Message
	c.State.FinishedAt = time.Now().UTC()
	c.save()
	close(c.exitCh)
	c.exitCh = make(chan struct{})
	c.mu.Unlock()
}

// startError gives a start failure docker's class: a command that cannot
// run is the request's fault (400), with the runtime's words.
func startError(err error) error {
	var se *libcontainer.StartError
	if errors.As(err, &se) {
		if se.Code == 126 || se.Code == 127 {
			return errdefs.Invalid("failed to create task for container: OCI runtime create failed: %s: unknown", se.Message)
		}
		return errdefs.As(errdefs.KindUnknown, fmt.Errorf("failed to create task for container: %s", se.Message))
	}
	return err
}

func withDefaultEnv(env []string, hostname string, tty bool) []string {
	has := func(k string) bool {
		for _, kv := range env {
			if strings.HasPrefix(kv, k+"=") {
				return true
			}
		}
		return false
	}
	out := append([]string{}, env...)
	if !has("PATH") {
		out = append(out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if !has("HOSTNAME") {
		out = append([]string{"HOSTNAME=" + hostname}, out...)
	}
	if tty && !has("TERM") {
		out = append(out, "TERM=xterm")
	}
	return out
}

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf (bind-mounted in), as dockerd keeps them beside the record.
func writeEtcFiles(c *Container, hostname, ip string, hostNet bool) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	if hostNet {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	} else if ip != "" {
		hosts += ip + "\t" + hostsEntryNames(hostname, c.Config.Domainname) + "\n" // runopts.go
	}
	resolv := "nameserver 127.0.0.53\n"
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		resolv = string(b)
	}
	for path, data := range map[string]string{
		c.HostnamePath:   hostname + "\n",
		c.HostsPath:      hosts,
		c.ResolvConfPath: resolv,
	} {
		// rewritten at every start, so no fsync is needed
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// monitor waits for PID 1 to end, then records the exit.
func (d *Daemon) monitor(c *Container, shim *libcontainer.Shim) {
	var st libcontainer.ExitStatus
	for {
		var err error
		st, err = shim.Wait(context.Background())
		if err == nil {
			break
		}
		if s, ok, _ := libcontainer.ReadExitStatus(c.BundleDir); ok {
			st = s
			break
		}
		if errors.Is(err, libcontainer.ErrShimGone) {
			st = libcontainer.ExitStatus{ExitCode: 255, FinishedAt: time.Now().UTC()}
			break
		}
		slog.Warn("waiting for container", "id", c.ID[:12], "err", err)
		time.Sleep(100 * time.Millisecond)
	}
	libcontainer.Trace("daemon: exit seen")
	d.handleExit(c, st)
	libcontainer.Trace("daemon: exit handled")
}

// handleExit records how the container ended, releases its runtime and
// network, and applies --rm or the restart policy. It does not take c.op:
// stop and rm hold it while they wait for this.
func (d *Daemon) handleExit(c *Container, st libcontainer.ExitStatus) {
	d.stopHealthcheck(c) // health.go
	c.mu.Lock()
	autoRemove := c.HostConfig.AutoRemove
	c.mu.Unlock()
	if autoRemove {
		// --rm: the removal below takes the runtime down once its client
		// (run --rm, waiting for it) has its answer; the network goes now
		d.disconnect(c)
	} else {
		d.releaseRuntime(c, st)
	}
	next := d.recordExit(c, st)
	d.exitEvents(c, st.ExitCode, st.OOMKilled) // events.go: oom, die, network disconnect, volume unmount

	switch {
	case next.autoRemove:
		// --rm takes the anonymous volumes too, as in docker
		if err := d.removeContainer(c, removeOpts{force: true, volumes: true}); err != nil {
			slog.Error("auto-removing container", "id", c.ID[:12], "err", err)
		}
	case next.restart:
		go d.restartAfter(c, next.delay, next.removeCh)
	}
}

// releaseRuntime takes down what the running container held on the host:
// its mounts and cgroups, its network endpoints and its bundle.
func (d *Daemon) releaseRuntime(c *Container, st libcontainer.ExitStatus) {
	t0 := time.Now()
	libcontainer.Cleanup(c.BundleDir)
	t1 := time.Now()
	d.disconnect(c)
	t2 := time.Now()
	os.RemoveAll(c.BundleDir)
	libcontainer.Trace("daemon: runtime released")
	slog.Debug("container exited", "id", c.ID[:12], "code", st.ExitCode, "cleanup", t1.Sub(t0), "disconnect", t2.Sub(t1), "bundle", time.Since(t2))
}

// afterExit is what handleExit does once the exit is recorded.
type afterExit struct {
	autoRemove bool
	restart    bool
	delay      time.Duration
	removeCh   chan struct{} // closed when the container is removed
}

// recordExit writes the exit into the container's state under c.mu, wakes
// whoever waits for it, and decides between --rm and a restart.
func (d *Daemon) recordExit(c *Container, st libcontainer.ExitStatus) afterExit {
	c.mu.Lock()
	defer c.mu.Unlock()
	ranFor := time.Since(c.State.StartedAt)
	if st.FinishedAt.IsZero() {
		st.FinishedAt = time.Now().UTC()
	}
	c.State.Running, c.State.Paused, c.State.Pid = false, false, 0
	c.State.Status = "exited"
	c.State.ExitCode, c.State.OOMKilled, c.State.Error = st.ExitCode, st.OOMKilled, st.Error
	c.State.FinishedAt = st.FinishedAt
	c.shim = nil
	next := afterExit{removeCh: c.removeCh}
	if next.restart = d.restartPolicySays(c, st.ExitCode); next.restart {
		c.State.Restarting, c.State.Status = true, "restarting"
		next.delay = c.nextRestartDelay(ranFor)
	}
	c.save()
	close(c.exitCh)
	c.exitCh = make(chan struct{})
	next.autoRemove = c.HostConfig.AutoRemove && !c.removed
	return next
}

// restartPolicySays applies docker's restart policies to an exit. A
// container stopped by hand, removed, run with --rm, or ended by the
// daemon's own shutdown never restarts. Call with c.mu held.
func (d *Daemon) restartPolicySays(c *Container, exitCode int) bool {
	if c.ManuallyStopped || c.removed || c.HostConfig.AutoRemove || d.shuttingDown.Load() {
		return false
	}
	rp := c.HostConfig.RestartPolicy
	switch rp.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return exitCode != 0 && (rp.MaximumRetryCount == 0 || c.RestartCount < rp.MaximumRetryCount)
	}
	return false
}

// nextRestartDelay is docker's back-off: 100ms doubling up to a minute,
// back to 100ms after a run of 10 seconds or more. Call with c.mu held.
func (c *Container) nextRestartDelay(ranFor time.Duration) time.Duration {
	if ranFor >= 10*time.Second || c.restartDelay == 0 {
		c.restartDelay = 100 * time.Millisecond
	} else {
		c.restartDelay = min(2*c.restartDelay, time.Minute)
	}
	return c.restartDelay
}

// restartAfter starts the container again after the back-off delay, unless
// it is stopped, removed or the daemon shuts down in the meantime.
func (d *Daemon) restartAfter(c *Container, delay time.Duration, removeCh chan struct{}) {
	select {
	case <-time.After(delay):
	case <-removeCh:
		return
	}
	c.mu.Lock()
	stop := c.ManuallyStopped || c.removed || !c.State.Restarting || d.shuttingDown.Load()
	if !stop {
		c.RestartCount++
	}
	c.mu.Unlock()
	if stop {
		return
	}
	if err := d.startContainer(c, true); err != nil {
		slog.Error("restarting container", "id", c.ID[:12], "err", err)
		c.mu.Lock()
		if c.State.Restarting {
			c.State.Restarting, c.State.Status = false, "exited"
			c.save()
		}
		c.mu.Unlock()
	}
}

// StopContainer is `docker stop`: the stop signal, then SIGKILL after
// timeout seconds (nil: the container's StopTimeout or 10; -1: forever).
func (d *Daemon) StopContainer(ref string, timeout *int, signal string) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	return d.stopped(c, d.stopLocked(c, timeout, signal)) // events.go
}

func (d *Daemon) stopLocked(c *Container, timeout *int, signal string) error {
	c.mu.Lock()
	if c.State.Restarting {
		c.ManuallyStopped = true
		c.State.Restarting, c.State.Status = false, "exited"
		c.save()
		c.mu.Unlock()
		return nil
	}
	if !c.State.Running || c.shim == nil {
		c.mu.Unlock()
		return errdefs.NotModified("container already stopped")
	}
	// the daemon's own stop at shutdown is not a user's: unless-stopped
	// comes back at the next start (containers_shutdown.go)
	c.ManuallyStopped = !d.shuttingDown.Load()
	c.save()
	shim, exitCh := c.shim, c.exitCh
	if signal == "" {
		signal = c.Config.StopSignal
	}
	t := 10
	if c.Config.StopTimeout != nil {
		t = *c.Config.StopTimeout
	}
	c.mu.Unlock()
	if timeout != nil {
		t = *timeout
	}
	sig := syscall.SIGTERM
	if signal != "" {
		s, err := ParseSignal(signal)
		if err != nil {
			return err
		}
		sig = s
	}
	d.containerEvent(c, "kill", "signal", strconv.Itoa(int(sig)))
	if err := d.signalContainer(c, shim, sig, true); err != nil { // containers_pause.go
		slog.Debug("stop signal", "id", c.ID[:12], "err", err)
	}
	if t < 0 { // -1: wait as long as it takes
		<-exitCh
		return nil
	}
	select {
	case <-exitCh:
		return nil
	case <-time.After(time.Duration(t) * time.Second):
	}
	d.containerEvent(c, "kill", "signal", strconv.Itoa(int(syscall.SIGKILL)))
	d.signalContainer(c, shim, syscall.SIGKILL, true)
	select {
	case <-exitCh:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("container %s did not stop", c.ID[:12])
	}
}

// RestartContainer is `docker restart`: stop (if running), then start.
func (d *Daemon) RestartContainer(ref string, timeout *int, signal string) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	if err := d.stopLocked(c, timeout, signal); err != nil && errdefs.KindOf(err) != errdefs.KindNotModified {
		c.op.Unlock()
		return err
	}
	c.op.Unlock()
	return d.restarted(c, d.startContainer(c, false)) // events.go
}

// ParseSignal reads "KILL", "SIGKILL", "RTMIN+3" or "9" with moby/sys/signal
// (docker's own parser), and refuses numbers outside 1-64 as dockerd does
// when it sends the signal.
func ParseSignal(s string) (syscall.Signal, error) {
	sig, err := signal.ParseSignal(s)
	if err != nil || sig <= 0 || sig > 64 {
		return 0, errdefs.Invalid("Invalid signal: %s", s)
	}
	return sig, nil
}

// KillContainer is `docker kill`.
func (d *Daemon) KillContainer(ref, signal string) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if signal != "" {
		if sig, err = ParseSignal(signal); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if !c.State.Running || c.shim == nil {
		c.mu.Unlock()
		return errdefs.Conflict("Cannot kill container: %s: Container %s is not running", ref, c.ID)
	}
	shim := c.shim
	// a signal meant to end it keeps the restart policy from undoing the
	// kill; one like HUP (reload) does not
	stopSig, _ := ParseSignal(c.Config.StopSignal)
	ending := false
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, stopSig:
		c.ManuallyStopped, ending = true, true
		c.save()
	}
	c.mu.Unlock()
	// a paused container is thawed for a signal that ends it, as dockerd does
	if err := d.signalContainer(c, shim, sig, ending); err != nil {
		return errdefs.Conflict("Cannot kill container: %s: %v", ref, err)
	}
	d.containerEvent(c, "kill", "signal", strconv.Itoa(int(sig)))
	return nil
}

// RemoveContainer is `docker rm` (force: kill it first if it runs).
func (d *Daemon) RemoveContainer(ref string, force, volumes bool) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	return d.removeContainer(c, removeOpts{force: force, volumes: volumes})
}

// removeOpts are how a removal goes: force kills a running container
// first; volumes takes its anonymous volumes with it (rm -v, and --rm).
type removeOpts struct {
	force   bool
	volumes bool
}

func (d *Daemon) removeContainer(c *Container, opts removeOpts) error {
	began := time.Now()
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil
	}
	if c.State.Running && !opts.force {
		c.mu.Unlock()
		return errdefs.Conflict("cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
	}
	c.ManuallyStopped = true
	shim, exitCh, running := c.shim, c.exitCh, c.State.Running
	c.mu.Unlock()
	if running && shim != nil {
		d.signalContainer(c, shim, syscall.SIGKILL, true)
		select {
		case <-exitCh:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("could not kill running container %s, cannot remove", c.ID)
		}
	}
	tc := time.Now()
	// What a client can see goes before it is answered: the network (the
	// next container may want its host ports), the record (renamed away
	// at once: a crash from here on cannot bring the container back) and
	// the store's entry. The host side follows, behind d.removals: ps and
	// lookups wait for it, so they never see the container gone while its
	// cgroup or bundle is still there. (A crash meanwhile leaves a bundle
	// no record owns, which the next start cleans up.)
	d.disconnect(c)
	hostDone := d.removals.begin(c.ID)
	removeDirLater(c.Dir)
	s := d.containers
	s.mu.Lock()
	delete(s.byID, c.ID)
	s.mu.Unlock()
	if opts.volumes {
		// as in docker, before the container is marked removed and before
		// its destroy: when `run --rm` returns, or `rm -v` answers, volume
		// ls no longer lists them. (Out of the store, the container no
		// longer counts as their user; its mounts were in its own mount
		// namespace, gone with its processes, so none is left to unmount.)
		d.removeAnonymousVolumes(c.MountPoints) // volumes.go
	}
	c.mu.Lock()
	c.removed = true
	c.State.Status = "removing"
	close(c.removeCh)
	pend := c.attaches
	c.attaches = nil
	c.mu.Unlock()
	for _, p := range pend {
		p.ch <- attachResult{err: errRemoved}
	}
	d.containerEvent(c, "destroy")
	libcontainer.Trace("daemon: removal answered")
	tr := time.Now()
	libcontainer.Cleanup(c.BundleDir)
	os.RemoveAll(c.BundleDir)
	hostDone()
	slog.Debug("container removed", "id", c.ID[:12], "took", time.Since(began), "lock+kill", tc.Sub(began), "record", tr.Sub(tc), "host", time.Since(tr))
	libcontainer.Trace("daemon: host side removed")
	return nil
}

// WaitChannel is what `docker wait` blocks on for a condition:
// "not-running" (the default), "next-exit" or "removed". It must be taken
// before the container is started for next-exit to see that run.
func (c *Container) WaitChannel(condition string) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch condition {
	case "", "not-running":
		if !c.State.Running && !c.State.Restarting {
			ch := make(chan struct{})
			close(ch)
			return ch, nil
		}
		return c.exitCh, nil
	case "next-exit":
		return c.exitCh, nil
	case "removed":
		return c.removeCh, nil
	}
	return nil, errdefs.Invalid("invalid condition: %q", condition)
}

// ContainerWait is `docker wait`: it checks the condition at once (so a
// bad one is an ordinary error answer) and returns a channel that yields
// the exit status when the condition is met. The channel is never sent
// on when ctx ends first.
func (d *Daemon) ContainerWait(ctx context.Context, ref, condition string) (<-chan container.WaitResponse, error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	ch, err := c.WaitChannel(condition)
	if err != nil {
		return nil, err
	}
	out := make(chan container.WaitResponse, 1)
	go func() {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
		code, msg := c.ExitStatus()
		resp := container.WaitResponse{StatusCode: int64(code)}
		if msg != "" {
			resp.Error = &container.WaitExitError{Message: msg}
		}
		out <- resp
	}()
	return out, nil
}

// ExitStatus is the last exit code and start error.
func (c *Container) ExitStatus() (code int, errMsg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.State.ExitCode, c.State.Error
}

// RenameContainer is `docker rename`.
func (d *Daemon) RenameContainer(ref, newName string) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	newName = strings.TrimPrefix(newName, "/")
	if newName == "" || !validName().MatchString(newName) {
		return errdefs.Invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", newName)
	}
	old, err := d.renameLocked(c, newName)
	if err != nil {
		return err
	}
	d.containerEvent(c, "rename", "oldName", "/"+old)
	return nil
}

// renameLocked gives c its new name under the store's lock (no other
// container may take it meanwhile) and returns the old one.
func (d *Daemon) renameLocked(c *Container, newName string) (old string, err error) {
	s := d.containers
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Name == newName {
		return "", errdefs.Invalid("Renaming a container with the same name as its current name")
	}
	for _, o := range s.byID {
		if o != c && o.Name == newName {
			return "", nameConflict(newName, o.ID)
		}
	}
	old = c.Name
	c.Name = newName
	if err := c.save(); err != nil {
		c.Name = old
		return "", err
	}
	return old, nil
}

// pendingAttach is an attach that waits for the container's next start.
type pendingAttach struct {
	stdin, stdout, stderr bool
	ch                    chan attachResult
}

type attachResult struct {
	conn net.Conn
	err  error
}

// AttachContainer checks that attaching makes sense now and returns a function that waits for the container's
// streams: at once for a running container, at its start for a created
// one. The conn carries raw tty bytes or stdcopy frames (see
// libcontainer.Shim.Attach); half-close its write side to end stdin.
func (d *Daemon) AttachContainer(c *Container, stdin, stdout, stderr bool) (func(ctx context.Context) (net.Conn, error), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return nil, errdefs.NotFound("No such container: %s", c.ID)
	}
	if c.shim != nil {
		shim := c.shim
		return func(ctx context.Context) (net.Conn, error) { return shim.Attach(ctx, stdin, stdout, stderr) }, nil
	}
	// A stopped container is attached at its next start: `docker start -a`
	// attaches first. (The CLI's `attach` refuses a stopped container itself.)
	p := &pendingAttach{stdin: stdin, stdout: stdout, stderr: stderr, ch: make(chan attachResult, 1)}
	c.attaches = append(c.attaches, p)
	return func(ctx context.Context) (net.Conn, error) {
		select {
		case r := <-p.ch:
			return r.conn, r.err
		case <-ctx.Done():
			c.mu.Lock()
			for i, q := range c.attaches {
				if q == p {
					c.attaches = append(c.attaches[:i], c.attaches[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
			select {
			case r := <-p.ch:
				if r.conn != nil {
					r.conn.Close()
				}
			default:
			}
			return nil, ctx.Err()
		}
	}, nil
}

// ContainerAttach is AttachContainer by name or ID.
func (d *Daemon) ContainerAttach(ref string, stdin, stdout, stderr bool) (func(ctx context.Context) (net.Conn, error), error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	attach, err := d.AttachContainer(c, stdin, stdout, stderr)
	if err == nil {
		d.containerEvent(c, "attach")
	}
	return attach, err
}

// ResizeContainer sets the terminal size of a running container (and the
// initial size of one not yet started).
func (d *Daemon) ResizeContainer(ref string, h, w uint) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	shim := c.shim
	if shim == nil {
		c.HostConfig.ConsoleSize = [2]uint{h, w}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := shim.Resize(uint16(h), uint16(w)); err != nil {
		return err
	}
	d.containerEvent(c, "resize", "height", strconv.FormatUint(uint64(h), 10), "width", strconv.FormatUint(uint64(w), 10))
	return nil
}

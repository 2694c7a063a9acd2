package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/storage"

	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

func timeString(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// InspectContainer is `docker inspect` of a container, docker's JSON.
func (d *Daemon) InspectContainer(ref string) (*container.InspectResponse, error) {
	c, err := d.GetContainer(ref)
	if err != nil {
		return nil, err
	}
	// the image store before c.mu, never under it (lock order: doc.go);
	// ImageID and Dir never change
	lower, upper, work, _ := c.RootfsDirs(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.State
	status := st.Status
	if status == "" {
		status = "created"
	}
	cfg := *c.Config
	hc := *c.HostConfig
	if hc.LogConfig.Type == "" { // a record made before create filled it in
		hc.LogConfig.Type = defaultLogDriver
	}
	hc.Links = inspectLinks(c.Name, hc.Links) // links.go: docker's "/name:/me/alias"
	r := &container.InspectResponse{
		ID:      c.ID,
		Created: timeString(c.Created),
		Path:    c.Path,
		Args:    append([]string{}, c.Args...),
		State: &container.State{
			Status: container.ContainerState(status), Running: st.Running, Paused: st.Paused,
			Restarting: st.Restarting, OOMKilled: st.OOMKilled, Dead: st.Dead, Pid: st.Pid,
			ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: timeString(st.StartedAt), FinishedAt: timeString(st.FinishedAt),
			Health: healthCopy(st.Health), // health.go
		},
		Image:          c.ImageID,
		ResolvConfPath: c.ResolvConfPath,
		HostnamePath:   c.HostnamePath,
		HostsPath:      c.HostsPath,
		LogPath:        c.LogPath,
		Name:           "/" + c.Name,
		RestartCount:   c.RestartCount,
		Driver:         "overlay2",
		Platform:       "linux",
		ExecIDs:        nil,
		HostConfig:     &hc,
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: map[string]string{
			"LowerDir":  strings.Join(lower, ":"),
			"UpperDir":  upper,
			"WorkDir":   work,
			"MergedDir": filepath.Join(c.BundleDir, "rootfs"),
		}},
		Mounts:          mountPointsJSON(c.MountPoints),
		Config:          &cfg,
		NetworkSettings: d.networkSettings(c),
	}
	return r, nil
}

// ListOptions are the ps settings the API passes.
type ListOptions struct {
	All     bool
	Limit   int
	Filters map[string][]string // ContainerFilters
	Size    bool                // fill SizeRw and SizeRootFs (disk_usage.go)
}

// ContainerFilters are the keys `ps --filter` understands; the API refuses others.
var ContainerFilters = []string{"id", "name", "status", "label", "ancestor", "exited", "network", "health"}

// onNetwork reports whether a ps row is on the network named or with ID
// (or ID prefix) ref.
func onNetwork(s container.Summary, ref string) bool {
	if s.NetworkSettings == nil {
		return false
	}
	for name, ep := range s.NetworkSettings.Networks {
		if name == ref || (ep != nil && ep.NetworkID != "" && strings.HasPrefix(ep.NetworkID, ref)) {
			return true
		}
	}
	return false
}

// ListContainers is `docker ps`.
func (d *Daemon) ListContainers(opts ListOptions) []container.Summary {
	d.removals.wait() // none of a removed container is left once ps omits it
	out := []container.Summary{}
	now := time.Now()
	for _, c := range d.Containers() {
		c.mu.Lock()
		s := d.summaryLocked(c, now)
		c.mu.Unlock()
		if !opts.All && s.State != container.StateRunning && s.State != container.StatePaused && s.State != container.StateRestarting && len(opts.Filters["status"]) == 0 {
			continue
		}
		if !matchFilters(opts.Filters, c, s) {
			continue
		}
		out = append(out, s)
		if opts.Limit > 0 && len(out) >= opts.Limit {
			break
		}
	}
	if opts.Size {
		d.fillSizes(out)
	}
	return out
}

// summaryLocked is one row of ps. Call with c.mu held.
func (d *Daemon) summaryLocked(c *Container, now time.Time) container.Summary {
	st := c.State
	state := st.Status
	if state == "" {
		state = "created"
	}
	var status string
	switch {
	case st.Restarting:
		status = fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case st.Running && st.Paused:
		status = "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case st.Running:
		status = "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + healthSuffix(st.Health) // health.go
	case state == "exited":
		status = fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case state == "removing":
		status = "Removal In Progress"
	default:
		status = "Created"
	}
	cmd := []string{c.Path}
	for _, a := range c.Args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'" // as dockerd shows it
		}
		cmd = append(cmd, a)
	}
	s := container.Summary{
		ID:      c.ID,
		Names:   []string{"/" + c.Name},
		Image:   c.Config.Image,
		ImageID: c.ImageID,
		Command: strings.Join(cmd, " "),
		Created: c.Created.Unix(),
		Ports:   d.portsSummary(c),
		Labels:  c.Config.Labels,
		State:   container.ContainerState(state),
		Status:  status,
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	if ns := d.networkSettings(c); ns != nil {
		s.NetworkSettings = &container.NetworkSettingsSummary{Networks: ns.Networks}
	}
	return s
}

// matchFilters applies `ps --filter` (see matchesFilters for how the
// filters combine).
func matchFilters(f map[string][]string, c *Container, s container.Summary) bool {
	return matchesFilters(f, s.Labels, func(key, v string) bool {
		switch key {
		case "id":
			return strings.HasPrefix(c.ID, v)
		case "name":
			return strings.Contains(c.Name, strings.TrimPrefix(v, "/"))
		case "status":
			return string(s.State) == v
		case "ancestor":
			return c.Config.Image == v || strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), strings.TrimPrefix(v, "sha256:"))
		case "exited":
			return s.State == container.StateExited && fmt.Sprint(c.State.ExitCode) == v
		case "network":
			return onNetwork(s, v)
		case "health":
			return healthMatches(c.healthStatus(), v) // health.go; takes c.mu
		}
		return true
	})
}

// LogsOptions are `docker logs` settings.
type LogsOptions struct {
	Follow     bool
	Tail       int // < 0: all
	Since      time.Time
	Until      time.Time
	Stdout     bool
	Stderr     bool
	Timestamps bool
}

// ContainerLogs reads the container's json-file log and calls fn for each
// entry the options select. Following ends when the container exits.
func (d *Daemon) ContainerLogs(ctx context.Context, ref string, opts LogsOptions, fn func(libcontainer.LogEntry) error) error {
	c, err := d.GetContainer(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	path := c.LogPath
	done := c.exitCh
	if !c.State.Running {
		ch := make(chan struct{})
		close(ch)
		done = ch
	}
	c.mu.Unlock()
	return libcontainer.ReadLog(ctx, path, libcontainer.LogOptions{
		Tail: opts.Tail, Since: opts.Since, Until: opts.Until, Follow: opts.Follow, Done: done,
	}, func(e libcontainer.LogEntry) error {
		if (e.Stream == "stdout" && !opts.Stdout) || (e.Stream == "stderr" && !opts.Stderr) {
			return nil
		}
		return fn(e)
	})
}

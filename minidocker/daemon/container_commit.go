package daemon

// docker commit: a container's changes are exactly its overlay upper
// directory. image.Store.CommitLayer turns that directory back into a
// layer (whiteout devices → .wh. files, opaque dirs → .wh..wh..opq) and
// writes a new image whose parent is the container's image and whose
// config is the container's (with the request's overrides and --change
// instructions on top).

import (
	"context"
	"fmt"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// CommitOptions is POST /commit.
type CommitOptions struct {
	Container string
	Repo, Tag string // Repo "" = an untagged image
	Comment   string
	Author    string
	Changes   []string          // Dockerfile instructions (CMD, ENV, …)
	Config    *container.Config // overrides, may be nil
	NoPause   bool              // do not freeze a running container meanwhile
}

// Commit makes an image of a container and returns its ID ("sha256:…").
func (d *Daemon) Commit(ctx context.Context, opts CommitOptions) (string, error) {
	c, err := d.GetContainer(opts.Container)
	if err != nil {
		return "", err
	}
	ref := ""
	if opts.Repo != "" {
		ref = opts.Repo
		if opts.Tag != "" {
			ref += ":" + opts.Tag
		}
		named, err := image.ParseRepositoryTag(ref)
		if err != nil {
			return "", errdefs.Invalid("%v", err)
		}
		ref = named.String()
	}
	c.Lock()
	cfg := *c.Config
	imageID, cid := c.ImageID, c.ID
	c.Unlock()
	_, upper, _, err := c.RootfsDirs(d)
	if err != nil {
		return "", err
	}
	if !opts.NoPause && c.IsRunning() {
		// docker pauses the container so that the layer is one moment's state
		defer d.freezeContainer(c)()
	}
	newCfg := imageConfigOf(&cfg)
	if opts.Config != nil {
		mergeCommitConfig(&newCfg, opts.Config)
	}
	if err := image.ApplyChanges(&newCfg, opts.Changes); err != nil {
		return "", errdefs.Invalid("%v", err)
	}
	id, err := d.images.CommitLayer(ctx, imageID, upper, image.CommitOptions{
		Config:          newCfg,
		CreatedBy:       strings.Join(cfg.Cmd, " "),
		Comment:         opts.Comment,
		Author:          opts.Author,
		Container:       cid,
		ContainerConfig: &cfg,
		MapIDs:          d.archiveIDs(c), // userns.go
	})
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", cid[:12], err)
	}
	if ref != "" {
		if err := d.images.Tag(id, ref); err != nil {
			return "", err
		}
	}
	d.commitEvents(c, id, ref, opts.Comment) // events.go
	return id, nil
}

// imageConfigOf is the image config that runs like the container did.
func imageConfigOf(c *container.Config) dockerspec.DockerOCIImageConfig {
	var ic dockerspec.DockerOCIImageConfig
	ic.User = c.User
	ic.Env = append([]string(nil), c.Env...)
	ic.Entrypoint = append([]string(nil), c.Entrypoint...)
	ic.Cmd = append([]string(nil), c.Cmd...)
	ic.WorkingDir = c.WorkingDir
	ic.StopSignal = c.StopSignal
	ic.ArgsEscaped = c.ArgsEscaped
	if len(c.Labels) > 0 {
		ic.Labels = map[string]string{}
		for k, v := range c.Labels {
			ic.Labels[k] = v
		}
	}
	if len(c.ExposedPorts) > 0 {
		ic.ExposedPorts = map[string]struct{}{}
		for p := range c.ExposedPorts {
			ic.ExposedPorts[fmt.Sprint(p)] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		ic.Volumes = map[string]struct{}{}
		for v := range c.Volumes {
			ic.Volumes[v] = struct{}{}
		}
	}
	ic.OnBuild = append([]string(nil), c.OnBuild...)
	ic.Shell = append([]string(nil), c.Shell...)
	ic.Healthcheck = c.Healthcheck
	return ic
}

// mergeCommitConfig puts the request body's non-empty fields over the
// container's config, as dockerd's merge does.
func mergeCommitConfig(ic *dockerspec.DockerOCIImageConfig, o *container.Config) {
	over := imageConfigOf(o)
	if over.User != "" {
		ic.User = over.User
	}
	if len(over.Env) > 0 {
		ic.Env = mergeEnv(ic.Env, over.Env)
	}
	if len(over.Entrypoint) > 0 {
		ic.Entrypoint = over.Entrypoint
	}
	if len(over.Cmd) > 0 {
		ic.Cmd = over.Cmd
	}
	if over.WorkingDir != "" {
		ic.WorkingDir = over.WorkingDir
	}
	if over.StopSignal != "" {
		ic.StopSignal = over.StopSignal
	}
	for k, v := range over.Labels {
		if ic.Labels == nil {
			ic.Labels = map[string]string{}
		}
		ic.Labels[k] = v
	}
	for k := range over.ExposedPorts {
		if ic.ExposedPorts == nil {
			ic.ExposedPorts = map[string]struct{}{}
		}
		ic.ExposedPorts[k] = struct{}{}
	}
	for k := range over.Volumes {
		if ic.Volumes == nil {
			ic.Volumes = map[string]struct{}{}
		}
		ic.Volumes[k] = struct{}{}
	}
	if len(over.OnBuild) > 0 {
		ic.OnBuild = over.OnBuild
	}
	if len(over.Shell) > 0 {
		ic.Shell = over.Shell
	}
	if over.Healthcheck != nil {
		ic.Healthcheck = over.Healthcheck
	}
}

// freezeContainer freezes a running container (cgroups.Cgroup.Freeze)
// and returns the function that thaws it. A container the user paused
// stays paused; without a freezer the commit goes on with the container
// running.
func (d *Daemon) freezeContainer(c *Container) (thaw func()) {
	noop := func() {}
	c.mu.Lock()
	paused := c.State.Paused
	c.mu.Unlock()
	cg, err := d.containerCgroup(c)
	if err != nil || paused || cg.Freeze() != nil {
		return noop
	}
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.State.Paused { // a pause meanwhile is the user's: keep it
			cg.Thaw()
		}
	}
}

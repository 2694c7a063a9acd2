package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

func contextBackground() context.Context { return context.Background() }

// CreateOptions is POST /containers/create: a name (may be empty) and the
// request body.
type CreateOptions struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	// NetworkingConfig names the networks beyond the network mode's, and
	// the aliases on each.
	NetworkingConfig *mobynet.NetworkingConfig
	// Platform is the "platform" query parameter (API 1.41+): the image
	// must have been built for it. Empty: any.
	Platform string
}

// validName is compiled on first use (package inits run in every
// minidocker process, the CLI and the container init included).
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })

// CreateContainer is `docker create`: it checks everything that can be
// checked (name, image, resources, restart policy, mounts, network) before
// it makes anything, so a refused request leaves nothing behind.
func (d *Daemon) CreateContainer(opts CreateOptions) (id string, warnings []string, err error) {
	libcontainer.Trace("daemon: create")
	defer libcontainer.Trace("daemon: created")
	cfg, hc, err := checkCreateRequest(opts)
	if err != nil {
		return "", nil, err
	}
	warnings, err = checkCpusetAndBlkio(&hc.Resources) // resources_cpuset.go
	if err != nil {
		return "", nil, err
	}
	// rmi must not delete the image between here and the container's
	// being in the store (lock order: doc.go)
	d.imageUse.RLock()
	defer d.imageUse.RUnlock()
	imageID, merged, err := d.resolveCreateImage(cfg, opts.Platform)
	if err != nil {
		return "", nil, err
	}
	endpoints, err := d.validateCreate(merged, hc, opts.NetworkingConfig)
	if err != nil {
		return "", nil, err
	}
	mps, undoMounts, err := d.resolveMounts(merged, hc) // mounts.go; makes the volumes
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if err != nil {
			undoMounts()
		}
	}()
	c := &Container{
		Created:     time.Now().UTC(),
		Config:      merged,
		HostConfig:  hc,
		MountPoints: mps,
		Endpoints:   endpoints,
		ImageID:     imageID,
		// merged: the record carries what it needs of the image
		ImageConfigMerged: true,
		UserNamespace:     d.usernsOf(hc), // userns.go: kept for every start
		UsernsRecorded:    true,
		State:             ContainerState{Status: "created"},
		exitCh:            make(chan struct{}),
		removeCh:          make(chan struct{}),
	}
	argv := append(append([]string{}, merged.Entrypoint...), merged.Cmd...)
	c.Path, c.Args = argv[0], argv[1:]
	if err = d.containers.register(c, strings.TrimPrefix(opts.Name, "/"), d); err != nil {
		return "", nil, err
	}
	if err = c.makeDirs(); err != nil {
		d.containers.unregister(c)
		return "", nil, err
	}
	d.containerEvent(c, "create")
	return c.ID, append([]string{}, warnings...), nil
}

// checkCreateRequest is what can be refused from the request alone.
func checkCreateRequest(opts CreateOptions) (*container.Config, *container.HostConfig, error) {
	cfg, hc := opts.Config, opts.HostConfig
	if cfg == nil {
		return nil, nil, errdefs.Invalid("config cannot be empty in order to create a container")
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if opts.Name != "" && !validName().MatchString(opts.Name) {
		return nil, nil, errdefs.Invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", opts.Name)
	}
	if cfg.Image == "" {
		return nil, nil, errdefs.Invalid("no image specified")
	}
	if err := refuseUnsupported(cfg, hc); err != nil {
		return nil, nil, err // before the image's config is merged in (its Volumes)
	}
	if err := validateHealthcheck(cfg.Healthcheck); err != nil { // health.go
		return nil, nil, err
	}
	if err := validateEnv(cfg.Env); err != nil {
		return nil, nil, err
	}
	if opts.Platform != "" {
		if _, err := image.ParsePlatform(opts.Platform); err != nil {
			return nil, nil, err
		}
	}
	return cfg, hc, nil
}

// validateEnv refuses an entry with no variable name ("" or "=x"), as
// dockerd does: the process would get an environment it cannot read.
func validateEnv(env []string) error {
	for _, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == "" {
			return errdefs.Invalid("invalid environment variable: %s", e)
		}
	}
	return nil
}

// resolveCreateImage finds the image and merges its config under the
// request's, as dockerd does at create: the record then never needs the
// image store again (ps and inspect must not take its lock).
// A platform, when the client names one, must be the image's.
func (d *Daemon) resolveCreateImage(cfg *container.Config, platform string) (string, *container.Config, error) {
	imageID, err := d.images.Resolve(cfg.Image)
	if err != nil {
		if errdefs.IsNotFound(err) {
			ref := cfg.Image
			if named, perr := image.ParseReference(ref); perr == nil && !strings.HasPrefix(ref, "sha256:") {
				ref = image.FamiliarString(named)
			}
			return "", nil, errdefs.NotFound("No such image: %s", ref)
		}
		return "", nil, err
	}
	imgCfg, err := d.images.Config(imageID)
	if err != nil {
		return "", nil, err
	}
	if platform != "" {
		want, _ := image.ParsePlatform(platform) // checkCreateRequest refused a bad one
		if err := image.CheckPlatform(cfg.Image, imgCfg, want); err != nil {
			return "", nil, err
		}
	}
	merged := mergeImageConfig(cfg, &imgCfg.Config)
	if len(merged.Entrypoint) == 0 && len(merged.Cmd) == 0 {
		return "", nil, errdefs.Invalid("no command specified")
	}
	return imageID, merged, nil
}

// validateCreate checks the host config, confinement and networking, and
// returns the networks the container will be on with their aliases.
func (d *Daemon) validateCreate(merged *container.Config, hc *container.HostConfig, nc *mobynet.NetworkingConfig) (map[string]*EndpointConfig, error) {
	if err := validateHostConfig(hc); err != nil {
		return nil, err
	}
	if err := validateSecurity(hc); err != nil {
		return nil, err
	}
	if err := d.validateRunOptions(merged, hc); err != nil { // runopts.go
		return nil, err
	}
	if err := d.validateUserns(merged, hc); err != nil { // userns.go
		return nil, err
	}
	if hc.NetworkMode == "" {
		hc.NetworkMode = "default"
	}
	if err := d.checkNetworking(merged, hc); err != nil {
		return nil, errdefs.As(errdefs.KindOf(err), err)
	}
	endpoints, err := d.checkEndpoints(hc, nc) // networks_connect.go
	if err != nil {
		return nil, err
	}
	if err := d.checkNameOptions(hc); err != nil { // networks_dns.go
		return nil, err
	}
	return endpoints, nil
}

// register reserves a new ID and the name (or a generated one) together,
// under the store lock, and sets the record's paths.
func (s *containerStore) register(c *Container, name string, d *Daemon) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		c.ID = stringid.GenerateRandomID()
		if _, taken := s.byID[c.ID]; !taken {
			break
		}
	}
	taken := func(n string) *Container {
		for _, o := range s.byID {
			if o.Name == n {
				return o
			}
		}
		return nil
	}
	if name != "" {
		if o := taken(name); o != nil {
			return nameConflict(name, o.ID)
		}
	} else {
		for i := 0; ; i++ {
			name = generateName(i > 5)
			if taken(name) == nil {
				break
			}
		}
	}
	c.Name = name
	c.Dir = filepath.Join(d.containersDir(), c.ID)
	c.BundleDir = filepath.Join(d.bundlesDir(), c.ID)
	c.LogPath = filepath.Join(c.Dir, c.ID+"-json.log")
	c.HostnamePath = filepath.Join(c.Dir, "hostname")
	c.HostsPath = filepath.Join(c.Dir, "hosts")
	c.ResolvConfPath = filepath.Join(c.Dir, "resolv.conf")
	s.byID[c.ID] = c
	return nil
}

// unregister undoes register for a create that failed after it.
func (s *containerStore) unregister(c *Container) {
	s.mu.Lock()
	delete(s.byID, c.ID)
	s.mu.Unlock()
	os.RemoveAll(c.Dir)
}

// makeDirs makes the container's directory with the overlay's upper and
// work dirs, and saves the record. diff/ is the overlay's upper dir, and
// its mode becomes the mode of the container's "/": 0755 like docker's, so
// a non-root user can list it.
func (c *Container) makeDirs() error {
	for sub, mode := range map[string]os.FileMode{"diff": 0o755, "work": 0o700} {
		err := os.MkdirAll(c.Dir, 0o711)
		if err == nil {
			err = os.Mkdir(filepath.Join(c.Dir, sub), mode)
		}
		if err == nil {
			err = os.Chmod(filepath.Join(c.Dir, sub), mode) // umask must not narrow it
		}
		if err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.save()
}

func nameConflict(name, id string) error {
	return errdefs.Conflict(`Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name.`, name, id)
}

// mergeImageConfig fills what the request left out from the image, as
// dockerd does: env is the image's with the request's on top, Cmd comes
// from the image unless the request gave an entrypoint of its own.
func mergeImageConfig(req *container.Config, img *image.ImageConfigRuntime) *container.Config {
	c := *req
	c.Env = mergeEnv(img.Env, req.Env)
	if c.WorkingDir == "" {
		c.WorkingDir = img.WorkingDir
	}
	if c.User == "" {
		c.User = img.User
	}
	if c.StopSignal == "" {
		c.StopSignal = img.StopSignal
	}
	switch {
	case len(req.Entrypoint) == 1 && req.Entrypoint[0] == "":
		c.Entrypoint = nil // --entrypoint "" clears the image's
	case len(req.Entrypoint) > 0:
		// the request's entrypoint, with the request's cmd only
	default:
		c.Entrypoint = img.Entrypoint
		if len(req.Cmd) == 0 {
			c.Cmd = img.Cmd
		}
	}
	c.ExposedPorts = mergeExposedPorts(req.ExposedPorts, img.ExposedPorts)
	c.Labels = mergeMaps(img.Labels, req.Labels)
	c.Volumes = mergeMaps(img.Volumes, req.Volumes)
	c.Healthcheck = mergeHealthcheck(req.Healthcheck, img.Healthcheck) // health.go
	return &c
}

// mergeExposedPorts is the union of the request's exposed ports (-p,
// --expose) and the image's EXPOSE list. The container keeps the result,
// so that ps and inspect never read the image again (see doc.go).
func mergeExposedPorts(req mobynet.PortSet, img map[string]struct{}) mobynet.PortSet {
	if len(req)+len(img) == 0 {
		return nil
	}
	out := mobynet.PortSet{}
	for p := range req {
		out[p] = struct{}{}
	}
	for spec := range img {
		if p, err := mobynet.ParsePort(spec); err == nil {
			out[p] = struct{}{}
		}
	}
	return out
}

// mergeMaps is base with over's entries on top (nil when both are empty):
// labels and volumes, the image's under the request's, as dockerd merges them.
func mergeMaps[V any](base, over map[string]V) map[string]V {
	if len(base)+len(over) == 0 {
		return over
	}
	out := make(map[string]V, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// mergeEnv is base with each KEY=value of over in place of base's entry
// for KEY, or appended when base has none (create: the image's Env under
// the container's; commit: the image's under the changes).
func mergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, o := range out {
			if ok, _, _ := strings.Cut(o, "="); ok == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// validateHostConfig refuses what dockerd refuses, in its words.
func validateHostConfig(hc *container.HostConfig) error {
	if _, err := resourcesOf(hc); err != nil {
		return err
	}
	if err := validateRestartPolicy(hc.RestartPolicy); err != nil {
		return err
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != "no" {
		return errdefs.Invalid("can't create 'AutoRemove' container with restart policy")
	}
	return nil
}

// validateRestartPolicy checks a restart policy's name and retry count
// (create and update).
func validateRestartPolicy(rp container.RestartPolicy) error {
	switch rp.Name {
	case "", "no", "always", "unless-stopped":
		if rp.MaximumRetryCount != 0 {
			return errdefs.Invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'")
		}
	case "on-failure":
		if rp.MaximumRetryCount < 0 {
			return errdefs.Invalid("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return errdefs.Invalid("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'", rp.Name)
	}
	return nil
}

// resourcesOf turns docker's resource settings into the cgroup's.
func resourcesOf(hc *container.HostConfig) (cgroups.Resources, error) {
	ncpu := runtime.NumCPU()
	r := cgroups.Resources{
		Memory:      hc.Memory,
		MemorySwap:  hc.MemorySwap,
		CPUQuota:    hc.CPUQuota,
		CPUPeriod:   uint64(hc.CPUPeriod),
		CPUShares:   hc.CPUShares,
		CpusetCpus:  hc.CpusetCpus,
		CpusetMems:  hc.CpusetMems,
		BlkioWeight: hc.BlkioWeight,
	}
	if hc.NanoCPUs != 0 {
		if hc.CPUQuota != 0 || hc.CPUPeriod != 0 {
			return r, errdefs.Invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
		}
		if err := cgroups.ValidateNanoCPUs(hc.NanoCPUs, ncpu); err != nil {
			return r, errdefs.Invalid("%s", err.Error())
		}
		r.CPUQuota, r.CPUPeriod = cgroups.QuotaFromNanoCPUs(hc.NanoCPUs)
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		r.PidsLimit = *hc.PidsLimit
	}
	if err := cgroups.Validate(r, ncpu); err != nil {
		return r, errdefs.Invalid("%s", err.Error())
	}
	return r, nil
}

// bind is one parsed -v host:container[:ro].
type bind struct {
	Source, Destination string
	ReadOnly            bool
	Named               string // volume name for -v name:/path
}

// parseBinds parses HostConfig.Binds; a bind with a name instead of a host
// path has Named set (the volume is found or made by mounts.go).
func parseBinds(binds []string) ([]bind, error) {
	var out []bind
	for _, spec := range binds {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, errdefs.Invalid("invalid volume specification: '%s'", spec)
		}
		b := bind{Source: parts[0], Destination: filepath.Clean(parts[1])}
		if !filepath.IsAbs(parts[1]) {
			return nil, errdefs.Invalid("invalid volume specification: '%s': invalid mount config for type \"bind\": invalid mount path: '%s' mount path must be absolute", spec, parts[1])
		}
		if b.Destination == "/" {
			return nil, errdefs.Invalid("invalid volume specification: '%s': invalid mount config for type \"bind\": invalid specification: destination can't be '/'", spec)
		}
		if len(parts) == 3 {
			for _, m := range strings.Split(parts[2], ",") {
				switch m {
				case "ro":
					b.ReadOnly = true
				case "rw", "z", "Z", "private", "rprivate", "shared", "rshared", "slave", "rslave", "nocopy":
				default:
					return nil, errdefs.Invalid("invalid mode: %s", parts[2])
				}
			}
		}
		if !filepath.IsAbs(b.Source) {
			if !validName().MatchString(b.Source) {
				return nil, errdefs.Invalid("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", b.Source, b.Source)
			}
			b.Named, b.Source = b.Source, ""
		}
		out = append(out, b)
	}
	return out, nil
}

// generateName makes a docker-style name: adjective_scientist (with a
// number appended once the plain names keep colliding).
func generateName(withNumber bool) string {
	pick := func(l []string) string {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(l))))
		return l[n.Int64()]
	}
	name := pick(adjectives) + "_" + pick(surnames)
	if name == "boring_wozniak" { // docker's own joke, kept
		name = "clever_wozniak"
	}
	if withNumber {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		name = fmt.Sprintf("%s%d", name, n.Int64())
	}
	return name
}

var adjectives = []string{
	"agile", "amazing", "awesome", "blissful", "bold", "brave", "busy", "calm", "charming",
	"clever", "cool", "crazy", "dazzling", "determined", "eager", "ecstatic", "elastic",
	"elegant", "epic", "fervent", "festive", "focused", "friendly", "gallant", "gifted",
	"happy", "hopeful", "jolly", "keen", "kind", "laughing", "loving", "lucid", "magical",
	"modest", "nice", "nifty", "optimistic", "peaceful", "pensive", "quirky", "relaxed",
	"serene", "sharp", "stoic", "sweet", "tender", "trusting", "upbeat", "vibrant",
	"wizardly", "youthful", "zealous", "zen",
}

var surnames = []string{
	"agnesi", "babbage", "bardeen", "bohr", "borg", "cerf", "curie", "darwin", "dijkstra",
	"einstein", "euler", "faraday", "fermi", "feynman", "gauss", "goldberg", "hamilton",
	"hawking", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "leakey",
	"lovelace", "meitner", "mendel", "newton", "noether", "pascal", "pike", "ritchie",
	"shannon", "sinoussi", "thompson", "torvalds", "turing", "wilson", "wozniak", "wu",
}

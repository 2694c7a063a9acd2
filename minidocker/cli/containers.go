package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/minidocker/minidocker/minidocker/reference"
	"io"
	"os"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	units "github.com/docker/go-units"
	mdnetwork "github.com/minidocker/minidocker/minidocker/network"
)

// ContainerCommands are the container commands of the article (section 3).
type ContainerCommands struct {
	Create  CreateCmd  `cmd:"" help:"Create a new container."`
	Run     RunCmd     `cmd:"" help:"Create and run a new container from an image."`
	Start   StartCmd   `cmd:"" help:"Start one or more stopped containers."`
	Stop    StopCmd    `cmd:"" help:"Stop one or more running containers."`
	Restart RestartCmd `cmd:"" help:"Restart one or more containers."`
	Kill    KillCmd    `cmd:"" help:"Kill one or more running containers."`
	Rm      RmCmd      `cmd:"" help:"Remove one or more containers."`
	Ps      PsCmd      `cmd:"" help:"List containers."`
	Logs    LogsCmd    `cmd:"" help:"Fetch the logs of a container."`
	Wait    WaitCmd    `cmd:"" help:"Block until one or more containers stop, then print their exit codes."`
	Attach  AttachCmd  `cmd:"" help:"Attach local standard input, output, and error streams to a running container."`
	Rename  RenameCmd  `cmd:"" help:"Rename a container."`
	Inspect InspectCmd `cmd:"" help:"Return low-level information on containers (and images)."`
	Pause   PauseCmd   `cmd:"" help:"Pause all processes within one or more containers."`
	Unpause UnpauseCmd `cmd:"" help:"Unpause all processes within one or more containers."`
	Update  UpdateCmd  `cmd:"" help:"Update configuration of one or more containers."`
}

// ContainerFlags are the flags create and run share, named as docker's.
type ContainerFlags struct {
	Name          string   `help:"Assign a name to the container."`
	Env           []string `short:"e" sep:"none" help:"Set environment variables."`
	EnvFile       []string `name:"env-file" sep:"none" help:"Read in a file of environment variables."`
	Volume        []string `short:"v" sep:"none" help:"Bind mount a volume (host-path|name:container-path[:ro], or container-path for an anonymous volume)."`
	Workdir       string   `short:"w" help:"Working directory inside the container."`
	User          string   `short:"u" help:"Username or UID (format: <name|uid>[:<group|gid>])."`
	Entrypoint    *string  `help:"Overwrite the default ENTRYPOINT of the image."`
	Interactive   bool     `short:"i" help:"Keep STDIN open even if not attached."`
	TTY           bool     `short:"t" name:"tty" help:"Allocate a pseudo-TTY."`
	Hostname      string   `help:"Container host name (docker's -h; here -h is --help)."`
	Memory        string   `short:"m" help:"Memory limit."`
	MemorySwap    string   `name:"memory-swap" help:"Swap limit equal to memory plus swap: '-1' to enable unlimited swap."`
	CPUs          float64  `name:"cpus" help:"Number of CPUs."`
	PidsLimit     *int64   `name:"pids-limit" help:"Tune container pids limit (set -1 for unlimited)."`
	CPUShares     int64    `name:"cpu-shares" short:"c" help:"CPU shares (relative weight)."`
	CpusetCpus    string   `name:"cpuset-cpus" help:"CPUs in which to allow execution (0-3, 0,1)."`
	CpusetMems    string   `name:"cpuset-mems" help:"MEMs in which to allow execution (0-3, 0,1)."`
	BlkioWeight   uint16   `name:"blkio-weight" help:"Block IO (relative weight), between 10 and 1000, or 0 to disable."`
	Restart       string   `default:"no" help:"Restart policy to apply when a container exits."`
	Network       string   `name:"network" aliases:"net" default:"default" help:"Connect a container to a network."`
	Publish       []string `short:"p" sep:"none" help:"Publish a container's port(s) to the host."`
	PublishAll    bool     `short:"P" name:"publish-all" help:"Publish all exposed ports to random ports."`
	Label         []string `short:"l" sep:"none" help:"Set meta data on a container."`
	StopSignal    string   `name:"stop-signal" help:"Signal to stop the container."`
	StopTimeout   *int     `name:"stop-timeout" help:"Timeout (in seconds) to stop a container."`
	Rm            bool     `help:"Automatically remove the container and its associated anonymous volumes when it exits."`
	SecurityFlags `embed:""`
	MountFlags    `embed:""`
	NameFlags     `embed:""`
	HealthFlags   `embed:""` // containers_health.go

	RunOptionFlags `embed:""` // containers_runopts.go

	Image string   `arg:"" help:"Image to run."`
	Cmd   []string `arg:"" optional:"" passthrough:"" help:"Command and its arguments."`
}

// config turns the flags into the create request: the container's own
// settings, its host settings, then each group of flags in turn.
func (f *ContainerFlags) config(attach bool) (*container.Config, *container.HostConfig, error) {
	cfg, err := f.containerConfig(attach)
	if err != nil {
		return nil, nil, err
	}
	hc := &container.HostConfig{
		AutoRemove: f.Rm, NetworkMode: container.NetworkMode(f.Network),
		PublishAllPorts: f.PublishAll,
	}
	if err := f.resources(hc); err != nil {
		return nil, nil, err
	}
	for _, apply := range []func() error{
		func() error { return f.SecurityFlags.apply(hc) },
		func() error { return volumeFlags(f.Volume, cfg, hc) },
		func() error { return f.MountFlags.apply(hc) },
		func() error { return f.NameFlags.apply(hc) },
		func() error { return f.RunOptionFlags.apply(cfg, hc) },
		func() error { return f.HealthFlags.apply(cfg) },
		func() error { return f.publish(cfg, hc) },
	} {
		if err := apply(); err != nil {
			return nil, nil, err
		}
	}
	return cfg, hc, nil
}

// containerConfig is the Config part: image, command, environment (the
// --env-file files first, then -e), labels, and what run attaches to.
func (f *ContainerFlags) containerConfig(attach bool) (*container.Config, error) {
	cfg := &container.Config{
		Image: f.Image, Cmd: f.Cmd, Hostname: f.Hostname, WorkingDir: f.Workdir, User: f.User,
		Tty: f.TTY, OpenStdin: f.Interactive, StopSignal: f.StopSignal, StopTimeout: f.StopTimeout,
		Labels: keyValueMap(f.Label),
	}
	if attach {
		cfg.AttachStdout, cfg.AttachStderr = true, true
		if f.Interactive {
			cfg.AttachStdin, cfg.StdinOnce = true, true
		}
	}
	if f.Entrypoint != nil {
		cfg.Entrypoint = []string{*f.Entrypoint}
	}
	for _, file := range f.EnvFile {
		env, err := readEnvFile(file)
		if err != nil {
			return nil, err
		}
		cfg.Env = append(cfg.Env, env...)
	}
	for _, e := range f.Env {
		if kv, ok := envValue(e); ok {
			cfg.Env = append(cfg.Env, kv)
		}
	}
	return cfg, nil
}

// resources reads the limits (-m, --memory-swap, --cpus, --pids-limit,
// --cpu-shares, --cpuset-*, --blkio-weight) and the restart policy, with
// docker's sizes and words.
func (f *ContainerFlags) resources(hc *container.HostConfig) error {
	var err error
	if f.Memory != "" {
		if hc.Memory, err = units.RAMInBytes(f.Memory); err != nil {
			return fmt.Errorf("invalid argument %q for \"-m, --memory\" flag: %v", f.Memory, err)
		}
	}
	if f.MemorySwap != "" {
		if f.MemorySwap == "-1" {
			hc.MemorySwap = -1
		} else if hc.MemorySwap, err = units.RAMInBytes(f.MemorySwap); err != nil {
			return fmt.Errorf("invalid argument %q for \"--memory-swap\" flag: %v", f.MemorySwap, err)
		}
	}
	if f.CPUs != 0 {
		hc.NanoCPUs = int64(f.CPUs * 1e9)
	}
	hc.PidsLimit = f.PidsLimit
	hc.CPUShares, hc.CpusetCpus, hc.CpusetMems, hc.BlkioWeight = f.CPUShares, f.CpusetCpus, f.CpusetMems, f.BlkioWeight
	hc.RestartPolicy, err = parseRestart(f.Restart)
	return err
}

// publish is -p, parsed here, once: the daemon gets the typed PortMap,
// and every published port is exposed.
func (f *ContainerFlags) publish(cfg *container.Config, hc *container.HostConfig) error {
	if len(f.Publish) == 0 {
		return nil
	}
	bs, err := mdnetwork.ParsePorts(f.Publish)
	if err != nil {
		return fmt.Errorf("invalid argument %q for \"-p, --publish\" flag: %v", strings.Join(f.Publish, ","), err)
	}
	hc.PortBindings = mdnetwork.PublishMap(bs)
	cfg.ExposedPorts = network.PortSet{}
	for port := range hc.PortBindings {
		cfg.ExposedPorts[port] = struct{}{}
	}
	return nil
}

func parseRestart(s string) (container.RestartPolicy, error) {
	var p container.RestartPolicy
	if s == "" {
		return p, nil
	}
	name, count, hasCount := strings.Cut(s, ":")
	p.Name = container.RestartPolicyMode(name)
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, fmt.Errorf("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}

// envValue reads -e KEY=VAL, or -e KEY (the client's own value, dropped
// when unset), as docker does.
func envValue(e string) (string, bool) {
	if strings.Contains(e, "=") {
		return e, true
	}
	if v, ok := os.LookupEnv(e); ok {
		return e + "=" + v, true
	}
	return "", false
}

func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if kv, ok := envValue(line); ok {
			out = append(out, kv)
		}
	}
	return out, sc.Err()
}

// daemonError is how docker's CLI reports a daemon refusal of run/create/start: 125.
func daemonError(cmd string, err error) error {
	return StatusError{Status: fmt.Sprintf("minidocker: %v\n\nRun 'minidocker %s --help' for more information", err, cmd), Code: 125}
}

// imageMissing tells whether a create's 404 was about the image (rather
// than, say, a network or a container it refers to): only then is the image
// pulled. It asks the daemon instead of reading the error's message.
func (g *Globals) imageMissing(ctx context.Context, cli *client.Client, ref string) bool {
	_, err := cli.ImageInspect(ctx, ref)
	return cerrdefs.IsNotFound(err)
}

// createContainer creates, pulling the image first when it is missing.
func (g *Globals) createContainer(ctx context.Context, f *ContainerFlags, attach bool, cmd string) (string, error) {
	cfg, hc, err := f.config(attach)
	if err != nil {
		return "", daemonError(cmd, err)
	}
	nc, err := f.networkingConfig(f.Network)
	if err != nil {
		return "", daemonError(cmd, err)
	}
	cli, err := g.Client()
	if err != nil {
		return "", err
	}
	opts := client.ContainerCreateOptions{Config: cfg, HostConfig: hc, NetworkingConfig: nc, Name: f.Name}
	res, err := cli.ContainerCreate(ctx, opts)
	if err != nil && cerrdefs.IsNotFound(err) && g.imageMissing(ctx, cli, f.Image) {
		ref := f.Image
		if !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") && !strings.Contains(ref, "@") {
			ref += ":latest"
		}
		fmt.Fprintf(g.stderr, "Unable to find image '%s' locally\n", ref)
		if perr := g.pullImage(ctx, cli, ref); perr != nil {
			return "", daemonError(cmd, perr)
		}
		res, err = cli.ContainerCreate(ctx, opts)
	}
	if err != nil {
		if client.IsErrConnectionFailed(err) {
			return "", err
		}
		return "", daemonError(cmd, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(g.stderr, "WARNING:", w)
	}
	return res.ID, nil
}

func (g *Globals) pullImage(ctx context.Context, cli *client.Client, ref string) error {
	opts := client.ImagePullOptions{}
	if named, err := reference.ParseNormalizedNamed(ref); err == nil {
		opts.RegistryAuth = encodedAuthFor(named) // the credentials `login` stored, as `pull` sends them
	}
	resp, err := cli.ImagePull(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	return showProgress(resp, g.stderr)
}

func terminalFd(w io.Writer) (uintptr, bool) {
	if f, ok := w.(*os.File); ok {
		fd := f.Fd()
		return fd, isTerminal(fd)
	}
	return 0, false
}

// CreateCmd is `docker create`.
type CreateCmd struct {
	ContainerFlags `embed:""`
}

// Run creates the container (pulling a missing image) and prints its ID.
func (c *CreateCmd) Run(g *Globals) error {
	id, err := g.createContainer(g.ctx, &c.ContainerFlags, false, "create")
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, id)
	return nil
}

// each runs fn for every container argument, printing errors as docker
// does and failing at the end if one failed.
func (g *Globals) each(ids []string, fn func(id string) error) error {
	failed := false
	for _, id := range ids {
		if err := fn(id); err != nil {
			if client.IsErrConnectionFailed(err) {
				return err
			}
			fmt.Fprintln(g.stderr, err)
			failed = true
		}
	}
	if failed {
		return StatusError{Code: 1}
	}
	return nil
}

var errStop = errors.New("stop")

package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"

	"github.com/minidocker/minidocker/minidocker/version"
)

// SystemCommands are the article's "is it installed and running?" commands.
type SystemCommands struct {
	Version VersionCmd `cmd:"" help:"Show the minidocker version information."`
	Info    InfoCmd    `cmd:"" help:"Display system-wide information."`
	Events  EventsCmd  `cmd:"" help:"Get real time events from the server."`
}

// VersionCmd prints the client's version and, when a daemon answers, the
// server's, in docker's layout.
type VersionCmd struct{}

// Run prints the client's version and the daemon's.
func (VersionCmd) Run(g *Globals) error {
	c, err := g.Client()
	if err != nil {
		return err
	}
	out := g.stdout
	v, err := c.ServerVersion(g.ctx, client.ServerVersionOptions{})
	printClientVersion(out, c) // after the request: the API version is negotiated by then
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nServer: %s\n", v.Platform.Name)
	for _, comp := range v.Components {
		d := comp.Details
		fmt.Fprintf(out, " %s:\n", comp.Name)
		fmt.Fprintf(out, "  Version:          %s\n", comp.Version)
		fmt.Fprintf(out, "  API version:      %s (minimum version %s)\n", d["ApiVersion"], d["MinAPIVersion"])
		fmt.Fprintf(out, "  Go version:       %s\n", d["GoVersion"])
		fmt.Fprintf(out, "  Git commit:       %s\n", d["GitCommit"])
		fmt.Fprintf(out, "  Built:            %s\n", builtAt(d["BuildTime"]))
		fmt.Fprintf(out, "  OS/Arch:          %s/%s\n", d["Os"], d["Arch"])
		fmt.Fprintf(out, "  Experimental:     %s\n", d["Experimental"])
	}
	return nil
}

func printClientVersion(out io.Writer, c *client.Client) {
	fmt.Fprintln(out, "Client:")
	fmt.Fprintf(out, " Version:           %s\n", version.Version)
	fmt.Fprintf(out, " API version:       %s\n", apiVersionLine(c))
	fmt.Fprintf(out, " Go version:        %s\n", version.GoVersion())
	fmt.Fprintf(out, " Git commit:        %s\n", version.Commit())
	fmt.Fprintf(out, " Built:             %s\n", builtAt(version.Built()))
	fmt.Fprintf(out, " OS/Arch:           %s\n", version.Platform())
}

// apiVersionLine shows the negotiated version, and what we came down
// from when the daemon speaks an older one (docker's "downgraded from").
func apiVersionLine(c *client.Client) string {
	v := c.ClientVersion()
	if v == "" || compareAPI(v, version.APIVersion) >= 0 {
		return version.APIVersion
	}
	return fmt.Sprintf("%s (downgraded from %s)", v, version.APIVersion)
}

func builtAt(rfc string) string {
	if t, err := time.Parse(time.RFC3339Nano, rfc); err == nil {
		return t.Format(time.ANSIC)
	}
	if rfc == "" {
		return "unknown"
	}
	return rfc
}

// InfoCmd prints `docker info` from the daemon's /info.
type InfoCmd struct{}

// Run prints the daemon's /info in docker's layout.
func (InfoCmd) Run(g *Globals) error {
	c, err := g.Client()
	if err != nil {
		return err
	}
	res, err := c.Info(g.ctx, client.InfoOptions{})
	if err != nil {
		return err
	}
	i := res.Info
	w := g.stdout
	fmt.Fprintf(w, "Client:\n Version:    %s\n Debug Mode: %v\n\nServer:\n", version.Version, g.Debug)
	fmt.Fprintf(w, " Containers: %d\n  Running: %d\n  Paused: %d\n  Stopped: %d\n", i.Containers, i.ContainersRunning, i.ContainersPaused, i.ContainersStopped)
	fmt.Fprintf(w, " Images: %d\n", i.Images)
	fmt.Fprintf(w, " Server Version: %s\n", i.ServerVersion)
	fmt.Fprintf(w, " Storage Driver: %s\n", i.Driver)
	for _, kv := range i.DriverStatus {
		fmt.Fprintf(w, "  %s: %s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, " Logging Driver: %s\n", i.LoggingDriver)
	fmt.Fprintf(w, " Cgroup Driver: %s\n", i.CgroupDriver)
	fmt.Fprintf(w, " Cgroup Version: %s\n", i.CgroupVersion)
	fmt.Fprintf(w, " Plugins:\n  Volume: %s\n  Network: %s\n  Log: %s\n",
		strings.Join(i.Plugins.Volume, " "), strings.Join(i.Plugins.Network, " "), strings.Join(i.Plugins.Log, " "))
	fmt.Fprintf(w, " Default Runtime: %s\n", i.DefaultRuntime)
	fmt.Fprintf(w, " Init Binary: %s\n", i.InitBinary)
	printSecurityOptions(w, i.SecurityOptions)
	fmt.Fprintf(w, " Kernel Version: %s\n", i.KernelVersion)
	fmt.Fprintf(w, " Operating System: %s\n", i.OperatingSystem)
	fmt.Fprintf(w, " OSType: %s\n", i.OSType)
	fmt.Fprintf(w, " Architecture: %s\n", i.Architecture)
	fmt.Fprintf(w, " CPUs: %d\n", i.NCPU)
	fmt.Fprintf(w, " Total Memory: %s\n", units.BytesSize(float64(i.MemTotal)))
	fmt.Fprintf(w, " Name: %s\n", i.Name)
	fmt.Fprintf(w, " ID: %s\n", i.ID)
	fmt.Fprintf(w, " Docker Root Dir: %s\n", i.DockerRootDir)
	fmt.Fprintf(w, " Debug Mode: %v\n", i.Debug)
	if rc := i.RegistryConfig; rc != nil {
		fmt.Fprintln(w, " Insecure Registries:")
		for name, idx := range rc.IndexConfigs {
			if !idx.Secure {
				fmt.Fprintf(w, "  %s\n", name)
			}
		}
		for _, cidr := range rc.InsecureRegistryCIDRs {
			fmt.Fprintf(w, "  %s\n", cidr)
		}
		if len(rc.Mirrors) > 0 {
			fmt.Fprintln(w, " Registry Mirrors:")
			for _, m := range rc.Mirrors {
				fmt.Fprintf(w, "  %s\n", m)
			}
		}
	}
	fmt.Fprintf(w, " Live Restore Enabled: %v\n", i.LiveRestoreEnabled)
	for _, warn := range i.Warnings {
		fmt.Fprintf(g.stderr, "WARNING: %s\n", warn)
	}
	return nil
}

// compareAPI compares "1.NN" API versions numerically.
func compareAPI(a, b string) int {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	if am != bm {
		return am - bm
	}
	return an - bn
}

// printSecurityOptions prints info's "name=seccomp,profile=builtin" list
// as docker's CLI does: the name, then each other key as "Key: value".
func printSecurityOptions(w io.Writer, opts []string) {
	if len(opts) == 0 {
		return
	}
	fmt.Fprintln(w, " Security Options:")
	for _, o := range opts {
		for _, kv := range strings.Split(o, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "name" {
				fmt.Fprintf(w, "  %s\n", v)
			} else {
				fmt.Fprintf(w, "   %s: %s\n", strings.ToUpper(k[:1])+k[1:], v)
			}
		}
	}
}

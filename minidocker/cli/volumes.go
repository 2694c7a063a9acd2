package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/go-units"
	"github.com/fvbommel/sortorder"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/volume"
)

// VolumeCommands are the volume commands of the article's section 5:
// `volume create|ls|inspect|rm|prune`. Docker has no top-level short form
// for them.
type VolumeCommands struct {
	Volume VolumeCmd `cmd:"" help:"Manage volumes."`
}

// VolumeCmd groups docker's `volume` subcommands.
type VolumeCmd struct {
	Create  VolumeCreateCmd  `cmd:"" help:"Create a volume."`
	Ls      VolumeLsCmd      `cmd:"" aliases:"list" help:"List volumes."`
	Inspect VolumeInspectCmd `cmd:"" help:"Display detailed information on one or more volumes."`
	Rm      VolumeRmCmd      `cmd:"" aliases:"remove" help:"Remove one or more volumes."`
	Prune   VolumePruneCmd   `cmd:"" help:"Remove unused local volumes."`
}

// VolumeCreateCmd is `docker volume create [--driver] [--label] [--opt] [NAME]`.
type VolumeCreateCmd struct {
	Driver  string   `short:"d" default:"local" help:"Specify volume driver name."`
	Label   []string `sep:"none" help:"Set metadata for a volume."`
	Opt     []string `short:"o" sep:"none" help:"Set driver specific options."`
	NameOpt string   `name:"name" hidden:"" help:"Specify volume name."`
	Name    string   `arg:"" optional:"" name:"volume" help:"Name of the volume (a random one when empty)."`
}

// Run creates the volume and prints its name.
func (c *VolumeCreateCmd) Run(g *Globals) error {
	name := c.Name
	if c.NameOpt != "" {
		if name != "" {
			return fmt.Errorf("conflicting options: cannot specify a volume-name through both --name and as a positional arg")
		}
		name = c.NameOpt
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.VolumeCreate(g.ctx, client.VolumeCreateOptions{
		Name: name, Driver: c.Driver, DriverOpts: keyValueMap(c.Opt), Labels: keyValueMap(c.Label),
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, res.Volume.Name)
	return nil
}

// keyValueMap reads --label and --opt k=v (or k alone, an empty value) as
// docker does.
func keyValueMap(list []string) map[string]string {
	out := map[string]string{}
	for _, l := range list {
		k, v, _ := strings.Cut(l, "=")
		out[k] = v
	}
	return out
}

// VolumeLsCmd is `docker volume ls`.
type VolumeLsCmd struct {
	Quiet  bool     `short:"q" help:"Only display volume names."`
	Filter []string `short:"f" sep:"none" help:"Provide filter values (e.g. 'dangling=true', 'label=k=v', 'name=x', 'driver=local')."`
	Format string   `help:"Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template."`
}

// volumeFormat is volume ls's table and the titles of its columns.
var volumeFormat = listFormat{
	table: "{{.Driver}}\t{{.Name}}",
	quiet: "{{.Name}}",
	header: headerContext{
		"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
		"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Group": "GROUP",
		"Availability": "AVAILABILITY", "Status": "STATUS",
	},
}

// Run lists the volumes in docker's order (names compared as people
// read numbers: v2 before v10).
func (c *VolumeLsCmd) Run(g *Globals) error {
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.VolumeList(g.ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return err
	}
	vols := res.Items
	sort.SliceStable(vols, func(i, j int) bool { return sortorder.NaturalLess(vols[i].Name, vols[j].Name) })
	rows := make([]any, len(vols))
	for i, v := range vols {
		rows[i] = volumeRow{v}
	}
	return volumeFormat.write(g.stdout, c.Format, c.Quiet, rows)
}

// volumeRow is one volume for --format: each method is a field.
type volumeRow struct{ v volume.Volume }

// Name is the volume's name.
func (r volumeRow) Name() string { return r.v.Name }

// Driver is the volume driver ("local").
func (r volumeRow) Driver() string { return r.v.Driver }

// Scope is "local" or "global".
func (r volumeRow) Scope() string { return r.v.Scope }

// Mountpoint is where the volume's data lives on the daemon's host.
func (r volumeRow) Mountpoint() string { return r.v.Mountpoint }

// Labels are all the labels, "k=v,k2=v2".
func (r volumeRow) Labels() string { return labelList(r.v.Labels) }

// Label is the value of one label.
func (r volumeRow) Label(name string) string { return r.v.Labels[name] }

// Links is how many containers use the volume, when the daemon said.
func (r volumeRow) Links() string {
	if r.v.UsageData == nil {
		return "N/A"
	}
	return fmt.Sprint(r.v.UsageData.RefCount)
}

// Size is the size of the volume's data, when the daemon said.
func (r volumeRow) Size() string {
	if r.v.UsageData == nil || r.v.UsageData.Size < 0 {
		return "N/A"
	}
	return units.HumanSize(float64(r.v.UsageData.Size))
}

// Group, Availability and Status belong to swarm's cluster volumes, which
// minidocker does not have: "N/A" as docker prints for a local volume.
func (r volumeRow) Group() string { return "N/A" }

// Availability is a cluster volume's; see Group.
func (r volumeRow) Availability() string { return "N/A" }

// Status is a cluster volume's; see Group.
func (r volumeRow) Status() string { return "N/A" }

// VolumeInspectCmd is `docker volume inspect`.
type VolumeInspectCmd struct {
	Format  string   `short:"f" help:"Format output using a custom template."`
	Volumes []string `arg:"" name:"volume"`
}

// Run prints each volume as the daemon describes it.
func (c *VolumeInspectCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return inspectEach(g, c.Format, c.Volumes, func(name string) (json.RawMessage, error) {
		res, err := cli.VolumeInspect(g.ctx, name, client.VolumeInspectOptions{})
		return res.Raw, err
	})
}

// VolumeRmCmd is `docker volume rm`.
type VolumeRmCmd struct {
	Force   bool     `short:"f" help:"Force the removal of one or more volumes."`
	Volumes []string `arg:"" name:"volume"`
}

// Run removes each volume, printing its name; a volume in use stays.
func (c *VolumeRmCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Volumes, func(name string) error {
		if _, err := cli.VolumeRemove(g.ctx, name, client.VolumeRemoveOptions{Force: c.Force}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, name)
		return nil
	})
}

// VolumePruneCmd is `docker volume prune`.
type VolumePruneCmd struct {
	All    bool     `short:"a" help:"Remove all unused volumes, not just anonymous ones."`
	Filter []string `sep:"none" help:"Provide filter values (e.g. 'label=<label>')."`
	Force  bool     `short:"f" help:"Do not prompt for confirmation."`
}

// Run asks (unless -f), removes the unused volumes and says what went.
func (c *VolumePruneCmd) Run(g *Globals) error {
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
	if c.All {
		warning = "WARNING! This will remove all local volumes not used by at least one container."
	}
	if !c.Force && !g.confirm(warning) {
		return nil
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.VolumePrune(g.ctx, client.VolumePruneOptions{All: c.All, Filters: f})
	if err != nil {
		return err
	}
	printPruned(g, "Deleted Volumes:", res.Report.VolumesDeleted, res.Report.SpaceReclaimed)
	return nil
}

// printPruned is the report of docker's prune commands: the names removed
// under a title, then the space given back.
func printPruned(g *Globals, title string, names []string, reclaimed uint64) {
	if len(names) > 0 {
		fmt.Fprintln(g.stdout, title)
		for _, n := range names {
			fmt.Fprintln(g.stdout, n)
		}
		fmt.Fprintln(g.stdout)
	}
	fmt.Fprintf(g.stdout, "Total reclaimed space: %s\n", units.HumanSize(float64(reclaimed)))
}

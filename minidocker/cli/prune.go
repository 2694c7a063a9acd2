package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	units "github.com/docker/go-units"

	"github.com/minidocker/minidocker/minidocker/client"
)

// ContainerPruneCmd is `docker container prune`: every stopped container.
type ContainerPruneCmd struct {
	Filter []string `sep:"none" help:"Provide filter values (e.g. 'until=<timestamp>')."`
	Force  bool     `short:"f" help:"Do not prompt for confirmation."`
}

// Run asks (unless -f), prunes and reports the IDs removed.
func (c *ContainerPruneCmd) Run(g *Globals) error {
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	if !c.Force && !g.confirm("WARNING! This will remove all stopped containers.") {
		return nil
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ContainerPrune(g.ctx, client.ContainerPruneOptions{Filters: f})
	if err != nil {
		return err
	}
	printPruned(g, "Deleted Containers:", res.Report.ContainersDeleted, res.Report.SpaceReclaimed) // volumes.go
	return nil
}

// NetworkPruneCmd is `docker network prune`: every user-defined network
// no running container is on.
type NetworkPruneCmd struct {
	Filter []string `sep:"none" help:"Provide filter values (e.g. 'until=<timestamp>')."`
	Force  bool     `short:"f" help:"Do not prompt for confirmation."`
}

// Run asks (unless -f), prunes and names the networks removed.
func (c *NetworkPruneCmd) Run(g *Globals) error {
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	if !c.Force && !g.confirm("WARNING! This will remove all custom networks not used by at least one container.") {
		return nil
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.NetworkPrune(g.ctx, client.NetworkPruneOptions{Filters: f})
	if err != nil {
		return err
	}
	if names := res.Report.NetworksDeleted; len(names) > 0 {
		fmt.Fprintln(g.stdout, "Deleted Networks:")
		fmt.Fprintln(g.stdout, strings.Join(names, "\n"))
	}
	return nil
}

// SystemDfCmd is `docker system df`: what images, containers, volumes and
// the build cache take on disk, and what a prune would give back.
type SystemDfCmd struct{}

// Run prints docker's table.
func (SystemDfCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	du, err := cli.DiskUsage(g.ctx, client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	row := func(name string, total, active, size, reclaimable int64) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", name, total, active, units.HumanSize(float64(size)), reclaimableText(size, reclaimable))
	}
	row("Images", du.Images.TotalCount, du.Images.ActiveCount, du.Images.TotalSize, du.Images.Reclaimable)
	row("Containers", du.Containers.TotalCount, du.Containers.ActiveCount, du.Containers.TotalSize, du.Containers.Reclaimable)
	row("Local Volumes", du.Volumes.TotalCount, du.Volumes.ActiveCount, du.Volumes.TotalSize, du.Volumes.Reclaimable)
	row("Build Cache", du.BuildCache.TotalCount, du.BuildCache.ActiveCount, du.BuildCache.TotalSize, du.BuildCache.Reclaimable)
	return tw.Flush()
}

// reclaimableText is docker's RECLAIMABLE column: the bytes and, when
// anything is used at all, their share.
func reclaimableText(size, reclaimable int64) string {
	if size <= 0 {
		return units.HumanSize(float64(reclaimable))
	}
	return fmt.Sprintf("%s (%d%%)", units.HumanSize(float64(reclaimable)), reclaimable*100/size)
}

// SystemPruneCmd is `docker system prune`: container, network, (with
// --volumes) volume, image and build cache prune in turn, as docker's CLI
// does it: the daemon has no single endpoint for it.
type SystemPruneCmd struct {
	All     bool     `short:"a" help:"Remove all unused images not just dangling ones."`
	Filter  []string `sep:"none" help:"Provide filter values (e.g. 'label=<key>=<value>')."`
	Force   bool     `short:"f" help:"Do not prompt for confirmation."`
	Volumes bool     `help:"Prune anonymous volumes."`
}

// Run asks (unless -f) with docker's list of what goes, then prunes.
func (c *SystemPruneCmd) Run(g *Globals) error {
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	if !c.Force && !g.confirm(c.warning()) {
		return nil
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	var reclaimed uint64
	cres, err := cli.ContainerPrune(g.ctx, client.ContainerPruneOptions{Filters: f})
	if err != nil {
		return err
	}
	printNames(g, "Deleted Containers:", cres.Report.ContainersDeleted)
	reclaimed += cres.Report.SpaceReclaimed
	nres, err := cli.NetworkPrune(g.ctx, client.NetworkPruneOptions{Filters: f})
	if err != nil {
		return err
	}
	printNames(g, "Deleted Networks:", nres.Report.NetworksDeleted)
	if c.Volumes {
		vres, err := cli.VolumePrune(g.ctx, client.VolumePruneOptions{Filters: f})
		if err != nil {
			return err
		}
		printNames(g, "Deleted Volumes:", vres.Report.VolumesDeleted)
		reclaimed += vres.Report.SpaceReclaimed
	}
	n, err := c.pruneImagesAndCache(g, cli, f)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, "Total reclaimed space:", units.HumanSize(float64(reclaimed+n)))
	return nil
}

// pruneImagesAndCache is the second half of system prune.
func (c *SystemPruneCmd) pruneImagesAndCache(g *Globals, cli *client.Client, f client.Filters) (uint64, error) {
	imf := client.Filters{}
	for k, vs := range f {
		for v := range vs {
			imf.Add(k, v)
		}
	}
	if c.All {
		imf.Add("dangling", "false")
	}
	ires, err := cli.ImagePrune(g.ctx, client.ImagePruneOptions{Filters: imf})
	if err != nil {
		return 0, err
	}
	var lines []string
	for _, it := range ires.Report.ImagesDeleted {
		if it.Untagged != "" {
			lines = append(lines, "untagged: "+it.Untagged)
		}
		if it.Deleted != "" {
			lines = append(lines, "deleted: "+it.Deleted)
		}
	}
	printNames(g, "Deleted Images:", lines)
	bres, err := cli.BuildCachePrune(g.ctx, client.BuildCachePruneOptions{All: c.All, Filters: f})
	if err != nil {
		return 0, err
	}
	printNames(g, "Deleted build cache objects:", bres.Report.CachesDeleted)
	return ires.Report.SpaceReclaimed + bres.Report.SpaceReclaimed, nil
}

// warning is docker's confirmation text for the options given.
func (c *SystemPruneCmd) warning() string {
	lines := []string{"WARNING! This will remove:", "  - all stopped containers", "  - all networks not used by at least one container"}
	if c.Volumes {
		lines = append(lines, "  - all anonymous volumes not used by at least one container")
	}
	if c.All {
		lines = append(lines, "  - all images without at least one container associated to them", "  - all build cache")
	} else {
		lines = append(lines, "  - all dangling images", "  - unused build cache")
	}
	return strings.Join(lines, "\n") + "\n"
}

// printNames prints a title and one name a line, then a blank line;
// nothing when there are no names.
func printNames(g *Globals, title string, names []string) {
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(g.stdout, title)
	for _, n := range names {
		fmt.Fprintln(g.stdout, n)
	}
	fmt.Fprintln(g.stdout)
}

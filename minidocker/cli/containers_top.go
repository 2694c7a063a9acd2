package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/minidocker/minidocker/minidocker/client"
)

// TopCmd is `docker top CONTAINER [ps OPTIONS]`.
type TopCmd struct {
	Container string   `arg:"" help:"Container."`
	PsArgs    []string `arg:"" optional:"" passthrough:"" name:"ps-options" help:"Options for ps (default -ef)."`
}

// Run prints the container's processes in ps's columns.
func (c *TopCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ContainerTop(g.ctx, c.Container, client.ContainerTopOptions{Arguments: c.PsArgs})
	if err != nil {
		return err
	}
	// docker's columns: at least 20 wide, 3 spaces between
	w := tabwriter.NewWriter(g.stdout, 20, 1, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
	for _, p := range res.Processes {
		fmt.Fprintln(w, strings.Join(p, "\t"))
	}
	return w.Flush()
}

package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/minidocker/minidocker/minidocker/client"
)

// ExportCmd is `docker export`: the container's file system as a tar.
type ExportCmd struct {
	Output    string `short:"o" help:"Write to a file, instead of STDOUT."`
	Container string `arg:"" name:"container"`
}

// Run streams the tar to -o (written atomically) or to stdout, which must
// not be a terminal.
func (c *ExportCmd) Run(g *Globals) error {
	if c.Output == "" {
		if _, isTerm := terminalFd(g.stdout); isTerm {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	rc, err := cli.ContainerExport(g.ctx, c.Container, client.ContainerExportOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	if c.Output == "" {
		_, err = io.Copy(g.stdout, rc)
		return err
	}
	return writeFileAtomically(c.Output, rc, "failed to export container") // images.go
}

// DiffCmd is `docker diff`: what the container changed in its image's
// files, one "A|C|D path" a line.
type DiffCmd struct {
	Container string `arg:"" name:"container"`
}

// Run prints the changes in the daemon's order.
func (c *DiffCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ContainerDiff(g.ctx, c.Container, client.ContainerDiffOptions{})
	if err != nil {
		return err
	}
	for _, ch := range res.Changes {
		fmt.Fprintf(g.stdout, "%s %s\n", ch.Kind, ch.Path)
	}
	return nil
}

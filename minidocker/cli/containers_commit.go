package cli

import (
	"fmt"

	"github.com/minidocker/minidocker/minidocker/client"
)

// CommitCmd is `docker commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`.
type CommitCmd struct {
	Author    string   `short:"a" help:"Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")."`
	Change    []string `short:"c" sep:"none" help:"Apply Dockerfile instruction to the created image."`
	Message   string   `short:"m" help:"Commit message."`
	Pause     bool     `short:"p" default:"true" negatable:"" help:"Pause container during commit."`
	Container string   `arg:"" help:"Container."`
	Reference string   `arg:"" optional:"" name:"repository[:tag]" help:"Repository and tag of the new image."`
}

// Run makes an image of the container's changes and prints its ID.
func (c *CommitCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ContainerCommit(g.ctx, c.Container, client.ContainerCommitOptions{
		Reference: c.Reference, Comment: c.Message, Author: c.Author, Changes: c.Change, NoPause: !c.Pause,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, res.ID)
	return nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/stringid"
)

// StopCmd is `docker stop`.
type StopCmd struct {
	Time       *int     `short:"t" name:"time" aliases:"timeout" help:"Seconds to wait before killing the container."`
	Signal     string   `short:"s" help:"Signal to send to the container."`
	Containers []string `arg:"" name:"container"`
}

// Run stops each container (its stop signal, then SIGKILL after the timeout), printing its name.
func (c *StopCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerStop(context.Background(), id, client.ContainerStopOptions{Timeout: c.Time, Signal: c.Signal}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// RestartCmd is `docker restart`.
type RestartCmd struct {
	Time       *int     `short:"t" name:"time" aliases:"timeout" help:"Seconds to wait before killing the container."`
	Signal     string   `short:"s" help:"Signal to send to the container."`
	Containers []string `arg:"" name:"container"`
}

// Run stops and starts each container, printing its name.
func (c *RestartCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerRestart(context.Background(), id, client.ContainerRestartOptions{Timeout: c.Time, Signal: c.Signal}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// KillCmd is `docker kill`.
type KillCmd struct {
	Signal     string   `short:"s" help:"Signal to send to the container."`
	Containers []string `arg:"" name:"container"`
}

// Run sends the signal to each container, printing its name.
func (c *KillCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerKill(g.ctx, id, client.ContainerKillOptions{Signal: c.Signal}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// RmCmd is `docker rm`.
type RmCmd struct {
	Force      bool     `short:"f" help:"Force the removal of a running container (uses SIGKILL)."`
	Volumes    bool     `short:"v" help:"Remove anonymous volumes associated with the container."`
	Link       bool     `short:"l" help:"Remove the specified link."`
	Containers []string `arg:"" name:"container"`
}

// Run removes each container, printing its name.
func (c *RmCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		if _, err := cli.ContainerRemove(g.ctx, id, client.ContainerRemoveOptions{Force: c.Force, RemoveVolumes: c.Volumes, RemoveLinks: c.Link}); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, id)
		return nil
	})
}

// RenameCmd is `docker rename`.
type RenameCmd struct {
	Container string `arg:""`
	NewName   string `arg:"" name:"new-name"`
}

// Run gives the container its new name.
func (c *RenameCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	_, err = cli.ContainerRename(g.ctx, c.Container, client.ContainerRenameOptions{NewName: c.NewName})
	return err
}

// WaitCmd is `docker wait`.
type WaitCmd struct {
	Containers []string `arg:"" name:"container"`
}

// Run prints each container's exit code once it has stopped.
func (c *WaitCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Containers, func(id string) error {
		w := cli.ContainerWait(g.ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case res := <-w.Result:
			fmt.Fprintln(g.stdout, res.StatusCode)
			return nil
		case err := <-w.Error:
			return err
		}
	})
}

// PsCmd is `docker ps`.
type PsCmd struct {
	All     bool     `short:"a" help:"Show all containers (default shows just running)."`
	Quiet   bool     `short:"q" help:"Only display container IDs."`
	NoTrunc bool     `name:"no-trunc" help:"Don't truncate output."`
	Last    int      `short:"n" default:"-1" help:"Show n last created containers (includes all states)."`
	Latest  bool     `short:"l" help:"Show the latest created container (includes all states)."`
	Filter  []string `short:"f" help:"Filter output based on conditions provided."`
}

// Run lists the containers in docker's columns.
func (c *PsCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	opts := client.ContainerListOptions{All: c.All, Filters: client.Filters{}}
	if c.Last > 0 {
		opts.Limit, opts.All = c.Last, true
	}
	if c.Latest {
		opts.Limit, opts.All = 1, true
	}
	for _, f := range c.Filter {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("bad format of filter (expected name=value)")
		}
		opts.Filters.Add(k, v)
	}
	res, err := cli.ContainerList(g.ctx, opts)
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, ct := range res.Items {
			fmt.Fprintln(g.stdout, shortID(ct.ID, c.NoTrunc))
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	now := time.Now()
	for _, ct := range res.Items {
		cmd := ct.Command
		img := ct.Image
		if !c.NoTrunc {
			cmd = ellipsis(cmd, 20)
			if strings.HasPrefix(img, "sha256:") {
				img = img[7:19]
			}
		}
		names := make([]string, 0, len(ct.Names))
		for _, n := range ct.Names {
			names = append(names, strings.TrimPrefix(n, "/"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shortID(ct.ID, c.NoTrunc), img, strconv.Quote(cmd),
			units.HumanDuration(now.Sub(time.Unix(ct.Created, 0)))+" ago", ct.Status, formatPorts(ct.Ports), strings.Join(names, ","))
	}
	return tw.Flush()
}

// shortID is a container's or network's ID as docker's tables print it:
// its first 12 characters, or all of it with --no-trunc.
func shortID(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	return stringid.TruncateID(id)
}

func formatPorts(ports []container.PortSummary) string {
	var out []string
	for _, p := range ports {
		if p.PublicPort != 0 {
			ip := "0.0.0.0"
			if p.IP.IsValid() {
				ip = p.IP.String()
			}
			if strings.Contains(ip, ":") {
				ip = "[" + ip + "]"
			}
			out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.PublicPort, p.PrivatePort, p.Type))
		} else {
			out = append(out, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
		}
	}
	return strings.Join(out, ", ")
}

// LogsCmd is `docker logs`.
type LogsCmd struct {
	Follow     bool   `short:"f" help:"Follow log output."`
	Tail       string `short:"n" default:"all" help:"Number of lines to show from the end of the logs."`
	Timestamps bool   `short:"t" help:"Show timestamps."`
	Details    bool   `help:"Show extra details provided to logs."`
	Since      string `help:"Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)."`
	Until      string `help:"Show logs before a timestamp or relative time."`
	Container  string `arg:""`
}

// Run prints the container's log, following it with -f.
func (c *LogsCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	insp, err := cli.ContainerInspect(g.ctx, c.Container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	since, err := logTime(c.Since)
	if err != nil {
		return err
	}
	until, err := logTime(c.Until)
	if err != nil {
		return err
	}
	rc, err := cli.ContainerLogs(g.ctx, insp.Container.ID, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: c.Follow, Tail: c.Tail,
		Timestamps: c.Timestamps, Details: c.Details, Since: since, Until: until,
	})
	if err != nil {
		return err
	}
	defer rc.Close()
	if insp.Container.Config.Tty {
		_, err = io.Copy(g.stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(g.stdout, g.stderr, rc)
	}
	if g.ctx.Err() != nil {
		return nil
	}
	return err
}

// logTime turns --since/--until (a duration ago, RFC 3339, or Unix
// seconds) into the Unix timestamp the API takes.
func logTime(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		t := time.Now().Add(-d)
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s, nil
	}
	return "", fmt.Errorf("invalid value for \"since\": failed to parse value as time or duration: %q", s)
}

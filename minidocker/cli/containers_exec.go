package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// ContainerToolCommands work on an existing container: exec, cp, top,
// stats, commit.
type ContainerToolCommands struct {
	Exec   ExecCmd   `cmd:"" help:"Execute a command in a running container."`
	Cp     CpCmd     `cmd:"" help:"Copy files/folders between a container and the local filesystem."`
	Top    TopCmd    `cmd:"" help:"Display the running processes of a container."`
	Stats  StatsCmd  `cmd:"" help:"Display a live stream of container(s) resource usage statistics."`
	Commit CommitCmd `cmd:"" help:"Create a new image from a container's changes."`
	Export ExportCmd `cmd:"" help:"Export a container's filesystem as a tar archive."`
	Diff   DiffCmd   `cmd:"" help:"Inspect changes to files or directories on a container's filesystem."`
}

// ExecCmd is `docker exec`.
type ExecCmd struct {
	Detach      bool     `short:"d" help:"Detached mode: run command in the background."`
	DetachKeys  string   `name:"detach-keys" help:"Override the key sequence for detaching a container."`
	Env         []string `short:"e" sep:"none" help:"Set environment variables."`
	EnvFile     []string `name:"env-file" sep:"none" help:"Read in a file of environment variables."`
	Interactive bool     `short:"i" help:"Keep STDIN open even if not attached."`
	Privileged  bool     `help:"Give extended privileges to the command."`
	TTY         bool     `short:"t" name:"tty" help:"Allocate a pseudo-TTY."`
	User        string   `short:"u" help:"Username or UID (format: \"<name|uid>[:<group|gid>]\")."`
	Workdir     string   `short:"w" help:"Working directory inside the container."`
	Container   string   `arg:"" help:"Container."`
	Command     []string `arg:"" passthrough:"" help:"Command and its arguments."`
}

func (c *ExecCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ctx := g.ctx
	env, err := execEnvFlags(c.Env, c.EnvFile)
	if err != nil {
		return err
	}
	opts := client.ExecCreateOptions{
		User: c.User, Privileged: c.Privileged, TTY: c.TTY, DetachKeys: c.DetachKeys,
		Env: env, WorkingDir: c.Workdir, Cmd: c.Command,
	}
	if !c.Detach {
		opts.AttachStdin, opts.AttachStdout, opts.AttachStderr = c.Interactive, true, true
	}
	if c.Interactive && c.TTY && !c.Detach {
		if fd, ok := term.GetFdInfo(g.stdin); !ok || !term.IsTerminal(fd) {
			return errors.New("the input device is not a TTY")
		}
	}
	var ttyFd uintptr
	hasTerm := false
	if c.TTY {
		if fd, ok := terminalOf(g.stdout); ok {
			ttyFd, hasTerm = fd, true
			if ws, err := term.GetWinsize(fd); err == nil && ws.Height > 0 {
				opts.ConsoleSize = client.ConsoleSize{Height: uint(ws.Height), Width: uint(ws.Width)}
			}
		}
	}
	created, err := cli.ExecCreate(ctx, c.Container, opts)
	if err != nil {
		return err
	}
	if c.Detach {
		_, err := cli.ExecStart(ctx, created.ID, client.ExecStartOptions{Detach: true, TTY: c.TTY})
		return err
	}
	if c.Interactive && c.TTY {
		if fd, ok := term.GetFdInfo(g.stdin); ok && term.IsTerminal(fd) {
			if st, err := term.SetRawTerminal(fd); err == nil {
				defer term.RestoreTerminal(fd, st)
			}
		}
	}
	resp, err := cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: c.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return err
	}
	defer resp.Close()
	if hasTerm {
		resize := func() {
			if ws, err := term.GetWinsize(ttyFd); err == nil && ws.Height > 0 {
				cli.ExecResize(ctx, created.ID, client.ExecResizeOptions{Height: uint(ws.Height), Width: uint(ws.Width)})
			}
		}
		resize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	outDone := make(chan error, 1)
	go func() {
		var err error
		if c.TTY {
			_, err = io.Copy(g.stdout, resp.Reader)
		} else {
			_, err = stdcopy.StdCopy(g.stdout, g.stderr, resp.Reader)
		}
		outDone <- err
	}()
	if c.Interactive {
		go func() {
			io.Copy(resp.Conn, g.stdin)
			resp.CloseWrite()
		}()
	} else {
		resp.CloseWrite()
	}
	select {
	case <-outDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	ins, err := cli.ExecInspect(context.Background(), created.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if ins.ExitCode != 0 {
		return StatusError{Code: ins.ExitCode}
	}
	return nil
}

// terminalOf is the fd of w when it is a terminal.
func terminalOf(w any) (uintptr, bool) {
	fd, ok := term.GetFdInfo(w)
	if !ok || !term.IsTerminal(fd) {
		return 0, false
	}
	return fd, true
}

// execEnvFlags turns -e and --env-file into NAME=value pairs; a bare NAME
// takes the value from this environment (dropped when unset), as docker.
func execEnvFlags(env, files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			env = append(env, line)
		}
	}
	for _, e := range env {
		if strings.HasPrefix(e, "=") {
			return nil, errors.New(fmt.Sprintf("invalid environment variable: %s", e))
		}
		if !strings.Contains(e, "=") {
			if v, ok := os.LookupEnv(e); ok {
				out = append(out, e+"="+v)
			}
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

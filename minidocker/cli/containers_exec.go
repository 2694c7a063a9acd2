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

	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/term"

	"github.com/minidocker/minidocker/minidocker/detachkeys"
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

// Run runs the command in the container, attached unless -d, and exits with its code.
func (c *ExecCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ctx := g.ctx
	opts, err := c.createOptions(g)
	if err != nil {
		return err
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
	if fd, ok := terminalOf(g.stdout); ok && c.TTY {
		defer followWindowSize(ctx, cli, created.ID, fd)()
	}
	if err := c.stream(ctx, g, resp); err != nil {
		return err
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

// createOptions checks the flags and turns them into the create request,
// with the terminal's size for -t.
func (c *ExecCmd) createOptions(g *Globals) (client.ExecCreateOptions, error) {
	env, err := execEnvFlags(c.Env, c.EnvFile)
	if err != nil {
		return client.ExecCreateOptions{}, err
	}
	if err := validateDetachKeys(c.DetachKeys); err != nil {
		return client.ExecCreateOptions{}, err
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
			return opts, errors.New("the input device is not a TTY")
		}
	}
	if fd, ok := terminalOf(g.stdout); ok && c.TTY {
		if ws, err := term.GetWinsize(fd); err == nil && ws.Height > 0 {
			opts.ConsoleSize = client.ConsoleSize{Height: uint(ws.Height), Width: uint(ws.Width)}
		}
	}
	return opts, nil
}

// followWindowSize sends the terminal's size now and on every SIGWINCH;
// the function it returns stops that.
func followWindowSize(ctx context.Context, cli *client.Client, execID string, fd uintptr) (stop func()) {
	resize := func() {
		if ws, err := term.GetWinsize(fd); err == nil && ws.Height > 0 {
			cli.ExecResize(ctx, execID, client.ExecResizeOptions{Height: uint(ws.Height), Width: uint(ws.Width)})
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			resize()
		}
	}()
	return func() { signal.Stop(winch) }
}

// stream copies the exec's output to ours, and our stdin to it with -i,
// until the output ends or the user detaches (detachkeys.ErrDetached,
// which docker's exec reports: exit 1).
func (c *ExecCmd) stream(ctx context.Context, g *Globals, resp client.ExecAttachResult) error {
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
	detached := make(chan struct{})
	if c.Interactive {
		go func() {
			in := g.stdin
			if c.TTY { // watch for the detach keys, as docker's CLI does
				keys, _ := detachkeys.Parse(c.DetachKeys)
				in = detachkeys.NewReader(in, keys)
			}
			if _, err := io.Copy(resp.Conn, in); errors.Is(err, detachkeys.ErrDetached) {
				close(detached)
				return
			}
			resp.CloseWrite()
		}()
	} else {
		resp.CloseWrite()
	}
	select {
	case <-outDone:
		return nil
	case <-detached:
		return detachkeys.ErrDetached
	case <-ctx.Done():
		return ctx.Err()
	}
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

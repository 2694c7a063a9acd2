package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/minidocker/minidocker/minidocker/client"

	"github.com/minidocker/minidocker/minidocker/config"
)

// Globals are the flags every command accepts.
type Globals struct {
	Host  string `short:"H" env:"MINIDOCKER_HOST" placeholder:"unix://PATH" help:"Daemon socket to connect to."` // its default: see helpValue
	Debug bool   `short:"D" help:"Enable debug output."`

	ctx    context.Context `kong:"-"`
	client *client.Client  `kong:"-"`
	stdout io.Writer       `kong:"-"`
	stderr io.Writer       `kong:"-"`
	stdin  io.Reader       `kong:"-"`

	serveDaemon ServeDaemon `kong:"-"` // see Main
}

// CLI is every minidocker command. Each area embeds its own group so that
// its commands live in its own file.
type CLI struct {
	Globals

	SystemCommands        `embed:""`
	ImageCommands         `embed:""`
	ContainerCommands     `embed:""`
	NetworkCommands       `embed:""`
	VolumeCommands        `embed:""`
	GroupCommands         `embed:""`
	BuildCommands         `embed:""`
	ContainerToolCommands `embed:""`

	Daemon   DaemonCmd   `cmd:"" help:"Run the minidocker daemon (dockerd + containerd)."`
	Registry RegistryCmd `cmd:"" help:"Run an image registry (registry:2)."`
}

// StatusError makes the process exit with Code after printing Status (if
// any): docker's CLI uses it for `run` (the container's exit code) and for
// 125/126/127.
type StatusError struct {
	Status string
	Code   int
}

// Error is the message printed before exiting with Code.
func (e StatusError) Error() string { return e.Status }

// Main runs the command line and returns the process's exit code. serve
// runs the daemon for `minidocker daemon` (nil: a client without one).
func Main(args []string, serve ServeDaemon) int {
	return run(args, os.Stdin, os.Stdout, os.Stderr, serve)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, serve ServeDaemon) int {
	root, globals := model(args)
	if prepare := preparation(commandType(root)); prepare != nil {
		go prepare() // on the other core, while kong builds its parser and parses
	}
	exitCode := -1
	parser, err := newParser(root, stdout, stderr, func(code int) { exitCode = code })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help was printed
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "minidocker: error: %v\nRun 'minidocker --help' for usage.\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	globals.ctx, globals.stdout, globals.stderr, globals.stdin = ctx, stdout, stderr, stdin
	globals.serveDaemon = serve
	defer globals.closeClient()
	cmd, ok := runnable(kctx.Selected())
	if !ok { // TestEveryCommandRuns keeps this from happening
		fmt.Fprintf(stderr, "minidocker: %s has no Run method\n", kctx.Command())
		return 1
	}
	return globals.report(cmd.Run(globals))
}

// preparation is work the Run of a command of type t will need whatever
// the line's flags say, and that can start before kong parses them: run's
// and create's first encode of a create body is as much work as kong's
// parse of run's line.
func preparation(t reflect.Type) func() {
	switch t {
	case reflect.TypeFor[RunCmd](), reflect.TypeFor[CreateCmd]():
		return client.PrepareContainerCreate
	}
	return nil
}

// newParser builds kong's parser for root (see model); exit receives the
// exit code after --help.
func newParser(root any, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(root,
		kong.Name("minidocker"),
		kong.Description("A small Docker, built to be read."),
		kong.UsageOnError(),
		vars(root),
		kong.ValueFormatter(helpValue),
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
}

// vars are the ${variables} root's tags use: only daemon's --config-file
// default does. kong interpolates every variable it is given into every
// flag's strings, which for `run`'s hundred flags cost more than parsing
// the line, so a model without daemon gets none.
func vars(root any) kong.Vars {
	if _, ok := reflect.TypeOf(root).Elem().FieldByName("Daemon"); ok {
		return kong.Vars{"config_file": config.DefaultFile}
	}
	return kong.Vars{}
}

// helpValue is a flag's text in help: kong's, with the default socket in
// -H's. The help tag cannot name it without a ${variable}, which would make
// kong interpolate it on every line (see vars); this runs only for help.
func helpValue(v *kong.Value) string {
	if v.Flag == nil || v.Name != "host" { // the global -H is the only --host
		return kong.DefaultHelpValueFormatter(v)
	}
	withDefault := *v
	withDefault.Help = strings.TrimSuffix(v.Help, ".") + " (default " + config.DefaultHost + ")."
	return kong.DefaultHelpValueFormatter(&withDefault)
}

// report prints err the way docker does and picks the exit code.
func (g *Globals) report(err error) int {
	if err == nil {
		return 0
	}
	var se StatusError
	if errors.As(err, &se) {
		if se.Status != "" {
			fmt.Fprintln(g.stderr, se.Status)
		}
		return se.Code
	}
	if client.IsErrConnectionFailed(err) {
		err = fmt.Errorf("Cannot connect to the minidocker daemon at %s. Is the minidocker daemon running?", g.host())
	}
	fmt.Fprintln(g.stderr, err)
	return 1
}

func (g *Globals) host() string {
	if g.Host != "" {
		return g.Host
	}
	return config.DefaultHost
}

// Client opens (once) the Engine API client for the daemon at -H.
func (g *Globals) Client() (*client.Client, error) {
	if g.client != nil {
		return g.client, nil
	}
	c, err := client.New(client.WithHost(g.host()))
	if err != nil {
		return nil, err
	}
	g.client = c
	return c, nil
}

func (g *Globals) closeClient() {
	if g.client != nil {
		g.client.Close()
	}
}

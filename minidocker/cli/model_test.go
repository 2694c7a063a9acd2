package cli

import (
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/minidocker/minidocker/minidocker/config"
)

// parseWith parses args into root as run does, and describes the outcome:
// the command kong selected and the global flags, or kong's error; cmd is
// the command run would Run, with the values kong parsed (nil on error).
func parseWith(t *testing.T, root any, globals *Globals, args []string) (outcome string, cmd runner) {
	t.Helper()
	p, err := newParser(root, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	kctx, err := p.Parse(args)
	if err != nil {
		return "error: " + err.Error(), nil
	}
	cmd, ok := runnable(kctx.Selected())
	if !ok {
		t.Fatalf("%q: %s cannot Run", args, kctx.Command())
	}
	return "command " + kctx.Command() + " host=" + globals.Host + " debug=" + map[bool]string{true: "1", false: "0"}[globals.Debug], cmd
}

// The struct model makes for a line parses it exactly as the full CLI does:
// the same command with the same values in the same type, the same global
// flags, the same error word for word (kong's "did you mean" included).
func TestModelParsesLikeTheFullCLI(t *testing.T) {
	lines := []string{
		"", "-D", "nosuchcmd", "pss", "imag", "--bogus", "-H", "-H unix:///x", "image", "image frob", "image ls -q",
		"network", "volume ls", "run", "run -d busybox true", "ps -a", "ps --bogus", "-D ps -q", "--host=unix:///y info",
		"-H unix:///z -D version", "registry", "registry serve", "daemon --bogus", "rm", "exec -it c sh", "ps extra",
		// words that are no command: kong suggests by prefix and by edit distance (in runes)
		"psx", "biuld", "contaner", "i", "im", "rn", "imagesss", "ïmages", "volumez", "x", "-D netwrk", "topp a",
		// the lines the bench times (no help text, no ${vars} in their model)
		"run --rm -d -p 80:80 busybox true", "-H unix:///nonexistent.sock run --rm busybox true",
		"-H unix:///nonexistent.sock ps", "exec -it c sh", "daemon --config-file /x", "run --net none busybox",
		// values in every embedded group of run's flags, and commands two levels down
		"run -d --name web -e A=1 -e B=2 -v /a:/b:ro --mount type=tmpfs,target=/t --entrypoint sh -m 64m --restart always " +
			"--cap-add NET_ADMIN --security-opt no-new-privileges --network-alias w --dns 10.0.0.1 --health-cmd true " +
			"--init --ulimit nofile=10:20 --stop-timeout 3 busybox sh -c true",
		"create --pids-limit 10 -p 8080:80 --add-host h:10.0.0.2 busybox", "container run -it --rm busybox",
		"image ls -q", "network create --driver bridge n", "volume rm -f v", "container ls -a --format {{.ID}}",
		// a group narrowed to the command named, and the lines that keep it whole
		"container ls --bogus", "container lss", "image ls extra", "container run", "-D network -H unix:///x create",
		"system info -x", "container -D list -q", "container --bogus ls", "container remove -f a b", "volume",
	}
	for _, cmd := range topCommands() {
		lines = append(lines, cmd.names[0], cmd.names[0]+" --no-such-flag", "-D "+cmd.names[len(cmd.names)-1]+" a b c d")
	}
	for _, line := range lines {
		args := strings.Fields(line)
		full := &CLI{}
		want, wantCmd := parseWith(t, full, &full.Globals, args)
		root, globals := model(args)
		got, gotCmd := parseWith(t, root, globals, args)
		if got != want {
			t.Errorf("%q:\n model %s\n full  %s", line, got, want)
		}
		if !reflect.DeepEqual(gotCmd, wantCmd) {
			t.Errorf("%q: the model's command\n%#v\nthe full CLI's\n%#v", line, gotCmd, wantCmd)
		}
	}
}

// A line that shows no help gives kong no help text to read: the command's
// flags, arguments and subcommands come without it. Only the global flags
// (two, on every line) and kong's own --help keep theirs.
func TestModelOfANamedCommandHasNoHelp(t *testing.T) {
	for _, cmd := range topCommands() {
		args := []string{cmd.names[0]}
		root, _ := model(args)
		p, err := newParser(root, io.Discard, io.Discard, func(int) {})
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		global := map[string]bool{"help": true, "host": true, "debug": true}
		err = kong.Visit(p.Model.Node, func(node kong.Visitable, next kong.Next) error {
			switch n := node.(type) {
			case *kong.Node:
				if n.Type != kong.ApplicationNode && n.Help != "" {
					t.Errorf("%q: %s has help %q", args, n.Path(), n.Help)
				}
			case *kong.Value:
				if n.Help != "" && !(n.Flag != nil && global[n.Name]) {
					t.Errorf("%q: %s has help %q", args, n.Name, n.Help)
				}
			}
			return next(nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// withoutHelp drops the help key wherever it is in a tag, and only it,
// leaving quoted quotes and other keys as they were.
func TestWithoutHelp(t *testing.T) {
	for tag, want := range map[reflect.StructTag]reflect.StructTag{
		`short:"f" help:"Format output using a Go template (e.g. '{{.State.Pid}}')."`: `short:"f"`,
		`help:"a \"quoted\" help:\"x\" word" name:"x"`:                                `name:"x"`,
		`cmd:"" help:"Run."  aliases:"a,b"`:                                           `cmd:"" aliases:"a,b"`,
		`name:"helpful" default:"help:\"no\""`:                                        `name:"helpful" default:"help:\"no\""`,
		`help:"only"`:                                                                 ``,
		`embed:""`:                                                                    `embed:""`,
		``:                                                                            ``,
	} {
		if got := withoutHelp(tag); got != want {
			t.Errorf("withoutHelp(%s) = %s, want %s", tag, got, want)
		}
		if got := withoutHelp(tag); got.Get("help") != "" {
			t.Errorf("withoutHelp(%s) kept help %q", tag, got.Get("help"))
		}
	}
}

// run calls the selected command's Run itself (kong's Run would call the
// Run of every command on the way to it, with kong's bindings): so every
// command kong can select has Run(*Globals), and no command with
// subcommands has a Run of its own.
func TestEveryCommandRuns(t *testing.T) {
	p, err := newParser(&CLI{}, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, child := range n.Children {
			_, runs := child.Target.Addr().Interface().(runner)
			if leaf := len(child.Children) == 0; runs != leaf {
				t.Errorf("%s: has a Run method %v, is a command without subcommands %v", child.Path(), runs, leaf)
			}
			if group := len(child.Children) > 0; isGroup(child.Target.Type()) != group {
				t.Errorf("%s: isGroup says %v, has subcommands %v", child.Path(), !group, group)
			}
			walk(child)
		}
	}
	walk(p.Model.Node)
}

// topCommands names the commands as kong does.
func TestTopCommandsAreKongs(t *testing.T) {
	p, err := newParser(&CLI{}, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var kong, ours []string
	for _, n := range p.Model.Children {
		kong = append(kong, strings.Join(append([]string{n.Name}, n.Aliases...), ","))
	}
	for _, c := range topCommands() {
		ours = append(ours, strings.Join(c.names, ","))
	}
	if !slices.Equal(kong, ours) {
		t.Errorf("kong's commands %v\nours %v", kong, ours)
	}
}

// Help lists every command, so it is given the full CLI.
func TestHelpGetsTheFullCLI(t *testing.T) {
	for _, line := range []string{"--help", "-h", "ps --help", "nosuchcmd -h"} {
		if root, _ := model(strings.Fields(line)); func() bool { _, ok := root.(*CLI); return !ok }() {
			t.Errorf("%q: model %T, want *CLI", line, root)
		}
	}
	out, _, code := runCLI("--help")
	if code != 0 || !strings.Contains(out, "image ls (list)") || !strings.Contains(out, "network create") {
		t.Errorf("top-level help lacks the subcommands:\n%s", out)
	}
}

// -H's help names the default socket although its tag does not (helpValue
// adds it, so that kong interpolates no variable on lines without help).
func TestHostHelpNamesTheDefaultSocket(t *testing.T) {
	for _, line := range []string{"--help", "ps --help", "run --help", "daemon --help"} {
		out, _, code := runCLI(strings.Fields(line)...)
		if flat := strings.Join(strings.Fields(out), " "); code != 0 || !strings.Contains(flat, "Daemon socket to connect to (default "+config.DefaultHost+") ($MINIDOCKER_HOST).") {
			t.Errorf("%q: -H's help lacks the default socket:\n%s", line, out)
		}
	}
}

// daemon's --config-file defaults to config.DefaultFile, the one ${variable}
// the tags use, which vars gives only models that have daemon.
func TestDaemonConfigFileDefault(t *testing.T) {
	for _, line := range []string{"daemon", "-D daemon"} {
		args := strings.Fields(line)
		root, globals := model(args)
		_, cmd := parseWith(t, root, globals, args)
		got := cmd.(*DaemonCmd).ConfigFile
		if got != config.DefaultFile {
			t.Errorf("%q: --config-file %q, want %q", line, got, config.DefaultFile)
		}
	}
	if v := vars(&PsCmd{}); len(v) != 0 {
		t.Errorf("vars for a model without daemon: %v", v)
	}
}

// A line that names a group's command gives kong that command only; a
// group named alone, or with a word that is none of its commands, stays
// whole for kong's error.
func TestModelOfAGroupHasTheCommandNamed(t *testing.T) {
	for line, want := range map[string][]string{
		"container ls -a": {"ls"}, "-D image -H unix:///x list": {"ls"}, "network create n": {"create"},
		"registry serve": {"serve"}, "container": nil, "container frob": nil,
	} {
		args := strings.Fields(line)
		root, _ := model(args)
		p, err := newParser(root, io.Discard, io.Discard, func(int) {})
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		var got []string
		for _, cmd := range p.Model.Children[0].Children {
			got = append(got, cmd.Name)
		}
		if want == nil && len(got) < 2 || want != nil && !slices.Equal(got, want) {
			t.Errorf("%q: kong has %v, want %v", line, got, want)
		}
	}
}

// commandType names the command of a line's model by its own type: what
// run picks the command's preparation by.
func TestCommandType(t *testing.T) {
	for line, want := range map[string]reflect.Type{
		"run busybox": reflect.TypeFor[RunCmd](), "-D create busybox": reflect.TypeFor[CreateCmd](),
		"ps": reflect.TypeFor[PsCmd](), "container ls": reflect.TypeFor[PsCmd](), "container": reflect.TypeFor[ContainerCmd](),
		"container run busybox": reflect.TypeFor[RunCmd](), "--help": nil, "": nil, "nosuchcmd": nil, "pss": nil,
	} {
		root, _ := model(strings.Fields(line))
		if got := commandType(root); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}

// A line that names a command finds its field without listing every
// command: findCommand allocates less than topCommands does alone.
func TestModelOfANamedCommandListsNothing(t *testing.T) {
	listing := testing.AllocsPerRun(20, func() { topCommands() })
	for _, line := range []string{"run busybox", "ps", "exec c true", "-D container ls"} {
		words, _ := commandWords(strings.Fields(line))
		if got := testing.AllocsPerRun(20, func() { findCommand(reflect.TypeFor[CLI](), words[0]) }); got >= listing {
			t.Errorf("%q: findCommand makes %.0f allocations, listing the commands %.0f", line, got, listing)
		}
	}
}

// parseLine builds the parser for args as run does and parses them.
func parseLine(b testing.TB, args []string) {
	root, _ := model(args)
	p, err := newParser(root, io.Discard, io.Discard, func(int) {})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Parse(args); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkParse measures what building kong's model and parsing costs
// for real command lines (issue 14: the CLI's own start).
func BenchmarkParse(b *testing.B) {
	for _, line := range []string{"run --rm -d -p 80:80 busybox true", "ps", "exec -it c sh", "container ls -a"} {
		args := strings.Fields(line)
		b.Run(strings.Fields(line)[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parseLine(b, args)
			}
		})
	}
}

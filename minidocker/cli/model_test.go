package cli

import (
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/config"
)

// parseWith parses args into root as run does, and describes the outcome:
// the command kong selected and the global flags, or kong's error.
func parseWith(t *testing.T, root any, globals *Globals, args []string) string {
	t.Helper()
	p, err := newParser(root, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	kctx, err := p.Parse(args)
	if err != nil {
		return "error: " + err.Error()
	}
	return "command " + kctx.Command() + " host=" + globals.Host + " debug=" + map[bool]string{true: "1", false: "0"}[globals.Debug]
}

// The struct model makes for a line parses it exactly as the full CLI does:
// the same command, the same global flags, the same error word for word
// (kong's "did you mean" included).
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
	}
	for _, cmd := range topCommands() {
		lines = append(lines, cmd.names[0], cmd.names[0]+" --no-such-flag", "-D "+cmd.names[len(cmd.names)-1]+" a b c d")
	}
	for _, line := range lines {
		args := strings.Fields(line)
		full := &CLI{}
		want := parseWith(t, full, &full.Globals, args)
		root, globals := model(args)
		if got := parseWith(t, root, globals, args); got != want {
			t.Errorf("%q:\n model %s\n full  %s", line, got, want)
		}
	}
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
		parseWith(t, root, globals, args)
		got := reflect.ValueOf(root).Elem().FieldByName("Daemon").FieldByName("ConfigFile").String()
		if got != config.DefaultFile {
			t.Errorf("%q: --config-file %q, want %q", line, got, config.DefaultFile)
		}
	}
	if v := vars(&PsCmd{}); len(v) != 0 {
		t.Errorf("vars for a model without daemon: %v", v)
	}
}

// A line that names a command finds its field without listing every
// command: model allocates less for it than topCommands does alone.
func TestModelOfANamedCommandListsNothing(t *testing.T) {
	listing := testing.AllocsPerRun(20, func() { topCommands() })
	for _, line := range []string{"run busybox", "ps", "exec c true", "-D container ls"} {
		args := strings.Fields(line)
		if got := testing.AllocsPerRun(20, func() { model(args) }); got >= listing {
			t.Errorf("%q: model makes %.0f allocations, listing the commands %.0f", line, got, listing)
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
	for _, line := range []string{"run --rm -d -p 80:80 busybox true", "ps", "exec -it c sh"} {
		args := strings.Fields(line)
		b.Run(strings.Fields(line)[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parseLine(b, args)
			}
		})
	}
}

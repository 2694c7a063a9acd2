package dockerfile

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// instructionNames are the instructions docker knows, for "did you mean".
var instructionNames = []string{"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
	"HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// instruction gives a raw line its type: a *Stage for FROM, a Command for
// the others. Each instruction checks its arguments and flags in docker's
// order, so that a line with two faults gets docker's message.
func instruction(ri *rawInstruction) (any, error) {
	src := source{name: ri.name, code: strings.TrimSpace(ri.original)}
	fs := newFlagSet(ri.flags)
	args := ri.args
	if args == nil {
		args = []string{}
	}
	switch strings.ToLower(ri.name) {
	case "from":
		return parseFrom(src, fs, args)
	case "env", "label":
		return parsePairs(src, fs, args)
	case "maintainer":
		if err := exactlyOne("MAINTAINER", args); err != nil {
			return nil, err
		}
		return &MaintainerCommand{source: src, Maintainer: args[0]}, fs.parse()
	case "add", "copy":
		return parseCopy(src, fs, ri)
	case "onbuild":
		return parseOnbuild(src, fs, ri)
	case "workdir", "user", "stopsignal":
		return parseOneWord(src, fs, args)
	case "run", "cmd", "entrypoint":
		return parseCommandLine(src, fs, ri)
	case "healthcheck":
		return parseHealthcheck(src, fs, ri)
	case "expose":
		return parseExpose(src, fs, args)
	case "volume":
		return parseVolume(src, fs, args)
	case "arg":
		return parseArg(src, args)
	case "shell":
		return parseShell(src, fs, ri)
	}
	return nil, withSuggestion(fmt.Errorf("unknown instruction: %s", ri.name), ri.name, instructionNames, false)
}

func atLeastOne(name string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s requires at least one argument", name)
	}
	return nil
}

func exactlyOne(name string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s requires exactly one argument", name)
	}
	return nil
}

// stageName is a valid name after FROM … AS: a lower-case letter, then
// lower-case letters, digits, '-', '_' and '.'.
func validStageName(s string) bool {
	for i, c := range []byte(s) {
		letter := c >= 'a' && c <= 'z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func parseFrom(src source, fs *flagSet, args []string) (*Stage, error) {
	name := ""
	switch {
	case len(args) == 3 && strings.EqualFold(args[1], "as"):
		name = strings.ToLower(args[2])
		if !validStageName(name) {
			return nil, fmt.Errorf("invalid name for build stage: %q, name can't start with a number or contain symbols", args[2])
		}
	case len(args) != 1:
		return nil, errors.New("FROM requires either one or three arguments")
	}
	fs.declare(stringFlag, "platform")
	if err := fs.parse(); err != nil {
		return nil, err
	}
	return &Stage{Name: name, BaseName: args[0], Platform: fs.str("platform"), SourceCode: src.code, Commands: []Command{}}, nil
}

// parsePairs is ENV and LABEL: the line reader made triples of name,
// value and separator.
func parsePairs(src source, fs *flagSet, args []string) (Command, error) {
	if err := fs.parse(); err != nil {
		return nil, err
	}
	upper := strings.ToUpper(src.name)
	if err := atLeastOne(upper, args); err != nil {
		return nil, err
	}
	if len(args)%3 != 0 {
		return nil, fmt.Errorf("Bad input to %s, too many arguments", upper)
	}
	var kvs []KeyValue
	for i := 0; i < len(args); i += 3 {
		if args[i] == "" {
			return nil, fmt.Errorf("%s names can not be blank", upper)
		}
		kvs = append(kvs, KeyValue{Key: args[i], Value: args[i+1]})
	}
	if upper == "ENV" {
		return &EnvCommand{source: src, Env: kvs}, nil
	}
	return &LabelCommand{source: src, Labels: kvs}, nil
}

// parseOneWord is WORKDIR, USER and STOPSIGNAL. STOPSIGNAL reads no flags:
// docker ignores any it is given.
func parseOneWord(src source, fs *flagSet, args []string) (Command, error) {
	upper := strings.ToUpper(src.name)
	if err := exactlyOne(upper, args); err != nil {
		return nil, err
	}
	switch upper {
	case "WORKDIR":
		return &WorkdirCommand{source: src, Path: args[0]}, fs.parse()
	case "USER":
		return &UserCommand{source: src, User: args[0]}, fs.parse()
	}
	return &StopSignalCommand{source: src, Signal: args[0]}, nil
}

// parseArg is ARG. Like docker it reads no flags (and ignores any).
func parseArg(src source, args []string) (*ArgCommand, error) {
	if err := atLeastOne("ARG", args); err != nil {
		return nil, err
	}
	decls := make([]ArgDecl, len(args))
	for i, a := range args {
		key, value, hasValue := strings.Cut(a, "=")
		if hasValue && key == "" {
			return nil, errors.New("ARG names can not be blank")
		}
		decls[i].Key = key
		if hasValue {
			decls[i].Value = &value
		}
	}
	return &ArgCommand{source: src, Args: decls}, nil
}

// parseCopy is COPY and ADD. A source written as "<<NAME" is a heredoc
// of the line; the destination cannot be one.
func parseCopy(src source, fs *flagSet, ri *rawInstruction) (Command, error) {
	upper := strings.ToUpper(src.name)
	if len(ri.args) < 2 {
		return nil, fmt.Errorf("%s requires at least two arguments, but only one was provided. Destination could not be determined", upper)
	}
	fs.declare(stringFlag, "chown", "chmod")
	fs.declare(boolFlag, "link")
	fs.declare(stringsFlag, "exclude")
	if upper == "COPY" {
		fs.declare(stringFlag, "from")
		fs.declare(boolFlag, "parents")
	} else {
		fs.declare(boolFlag, "keep-git-dir", "unpack")
		fs.declare(stringFlag, "checksum")
	}
	if err := fs.parse(); err != nil {
		return nil, err
	}
	sd, err := sourcesAndDest(ri, upper)
	if err != nil {
		return nil, err
	}
	if upper == "COPY" {
		return &CopyCommand{source: src, SourcesAndDest: sd, From: fs.str("from"), Chown: fs.str("chown"),
			Chmod: fs.str("chmod"), Link: fs.bool("link"), Parents: fs.bool("parents"), Excludes: fs.list("exclude")}, nil
	}
	return &AddCommand{source: src, SourcesAndDest: sd, Chown: fs.str("chown"), Chmod: fs.str("chmod"),
		Link: fs.bool("link"), Checksum: fs.str("checksum"), KeepGitDir: fs.optBool("keep-git-dir"),
		Unpack: fs.optBool("unpack"), Excludes: fs.list("exclude")}, nil
}

func sourcesAndDest(ri *rawInstruction, upper string) (SourcesAndDest, error) {
	srcs, dest := ri.args[:len(ri.args)-1], ri.args[len(ri.args)-1]
	if h, _ := heredocWord(dest); h != nil {
		return SourcesAndDest{}, fmt.Errorf("%s cannot accept a heredoc as a destination", upper)
	}
	sd := SourcesAndDest{DestPath: dest}
	for _, s := range srcs {
		h, _ := heredocWord(s)
		if h == nil {
			sd.SourcePaths = append(sd.SourcePaths, s)
			continue
		}
		for _, doc := range ri.heredocs {
			if doc.Name == h.Name {
				h.Content = doc.Content
			}
		}
		if h.Chomp {
			h.Content = chompTabs(h.Content)
		}
		sd.Heredocs = append(sd.Heredocs, *h)
	}
	return sd, nil
}

func parseOnbuild(src source, fs *flagSet, ri *rawInstruction) (*OnbuildCommand, error) {
	if err := atLeastOne("ONBUILD", ri.args); err != nil {
		return nil, err
	}
	if err := fs.parse(); err != nil {
		return nil, err
	}
	switch trigger := strings.ToUpper(strings.TrimSpace(ri.args[0])); trigger {
	case "ONBUILD":
		return nil, errors.New("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
	case "MAINTAINER", "FROM":
		return nil, fmt.Errorf("%s isn't allowed as an ONBUILD trigger", trigger)
	}
	var b strings.Builder
	b.WriteString(cutOnbuild(ri.original))
	for _, h := range ri.heredocs {
		b.WriteString("\n" + h.Content + h.Name)
	}
	return &OnbuildCommand{source: src, Expression: b.String()}, nil
}

// cutOnbuild removes "ONBUILD" (any case) and the white space around it
// from the front of a line.
func cutOnbuild(line string) string {
	rest := strings.TrimLeft(line, reSpace)
	if len(rest) >= 7 && strings.EqualFold(rest[:7], "onbuild") {
		return strings.TrimLeft(rest[7:], reSpace)
	}
	return line
}

// parseCommandLine is RUN, CMD and ENTRYPOINT. RUN declares BuildKit's
// flags so that the builder can refuse them by name.
func parseCommandLine(src source, fs *flagSet, ri *rawInstruction) (Command, error) {
	upper := strings.ToUpper(src.name)
	if upper == "RUN" {
		fs.declare(stringsFlag, "mount", "device")
		fs.declare(stringFlag, "network", "security")
	}
	if err := fs.parse(); err != nil {
		return nil, err
	}
	cl := CmdLine{Args: joinShellForm(ri.args, ri.json), Shell: !ri.json}
	switch upper {
	case "RUN":
		return &RunCommand{source: src, CmdLine: cl, Heredocs: ri.heredocs, FlagsUsed: fs.order}, nil
	case "CMD":
		return &CmdCommand{source: src, CmdLine: cl}, nil
	}
	if len(cl.Args) == 0 {
		cl.Args = nil
	}
	return &EntrypointCommand{source: src, CmdLine: cl}, nil
}

// joinShellForm is a command's words: the exec form's as they are, the
// shell form's line as one word.
func joinShellForm(args []string, isJSON bool) []string {
	if len(args) == 0 {
		return []string{}
	}
	if isJSON {
		return args
	}
	return []string{strings.Join(args, " ")}
}

func parseHealthcheck(src source, fs *flagSet, ri *rawInstruction) (*HealthCheckCommand, error) {
	if err := atLeastOne("HEALTHCHECK", ri.args); err != nil {
		return nil, err
	}
	typ, rest := strings.ToUpper(ri.args[0]), ri.args[1:]
	if typ == "NONE" {
		if len(rest) != 0 {
			return nil, errors.New("HEALTHCHECK NONE takes no arguments")
		}
		return &HealthCheckCommand{source: src, Health: &dockerspec.HealthcheckConfig{Test: []string{typ}}}, nil
	}
	fs.declare(stringFlag, "interval", "timeout", "start-period", "start-interval", "retries")
	if err := fs.parse(); err != nil {
		return nil, err
	}
	if typ != "CMD" {
		return nil, fmt.Errorf("Unknown type %#v in HEALTHCHECK (try CMD)", typ)
	}
	cmd := joinShellForm(rest, ri.json)
	if len(cmd) == 0 {
		return nil, errors.New("Missing command after HEALTHCHECK CMD")
	}
	if !ri.json {
		typ = "CMD-SHELL"
	}
	hc := &dockerspec.HealthcheckConfig{Test: append([]string{typ}, cmd...)}
	if err := healthTimes(fs, hc); err != nil {
		return nil, err
	}
	return &HealthCheckCommand{source: src, Health: hc}, nil
}

// healthTimes reads HEALTHCHECK's durations and --retries.
func healthTimes(fs *flagSet, hc *dockerspec.HealthcheckConfig) error {
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"interval", &hc.Interval}, {"timeout", &hc.Timeout}, {"start-period", &hc.StartPeriod}, {"start-interval", &hc.StartInterval}} {
		d, err := healthDuration(f.name, fs.str(f.name))
		if err != nil {
			return err
		}
		*f.dst = d
	}
	if v := fs.str("retries"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("--retries cannot be negative (%d)", n)
		}
		hc.Retries = int(n)
	}
	return nil
}

// healthDuration is one HEALTHCHECK duration: 0 when unset or zero, else
// at least a millisecond.
func healthDuration(name, value string) (time.Duration, error) {
	if value == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d == 0 {
		return 0, err
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("Interval %#v cannot be less than %s", name, time.Millisecond)
	}
	return d, nil
}

func parseExpose(src source, fs *flagSet, args []string) (*ExposeCommand, error) {
	if err := atLeastOne("EXPOSE", args); err != nil {
		return nil, err
	}
	if err := fs.parse(); err != nil {
		return nil, err
	}
	slices.Sort(args)
	return &ExposeCommand{source: src, Ports: args}, nil
}

func parseVolume(src source, fs *flagSet, args []string) (*VolumeCommand, error) {
	if err := atLeastOne("VOLUME", args); err != nil {
		return nil, err
	}
	if err := fs.parse(); err != nil {
		return nil, err
	}
	c := &VolumeCommand{source: src}
	for _, v := range args {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, errors.New("VOLUME specified can not be an empty string")
		}
		c.Volumes = append(c.Volumes, v)
	}
	return c, nil
}

func parseShell(src source, fs *flagSet, ri *rawInstruction) (*ShellCommand, error) {
	if err := fs.parse(); err != nil {
		return nil, err
	}
	words := joinShellForm(ri.args, ri.json)
	if len(words) == 0 {
		return nil, errors.New("SHELL requires at least one argument")
	}
	if !ri.json {
		return nil, errors.New("SHELL requires the arguments to be in JSON form")
	}
	return &ShellCommand{source: src, Shell: words}, nil
}

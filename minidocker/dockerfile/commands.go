package dockerfile

import (
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Command is one instruction of a stage (anything but FROM).
type Command interface {
	// Name is the instruction's name as written ("RUN", "run").
	Name() string
	// String is the instruction's source line, trimmed: what the builder
	// prints after "Step 2/5 : ".
	String() string
}

// Expander replaces $VAR in one word (the builder's shell lexer).
type Expander func(word string) (string, error)

// Expandable is a command whose words take $VAR expansion before it runs.
// RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, EXPOSE, ONBUILD and MAINTAINER
// are not: their words are kept as written (the shell expands RUN's).
type Expandable interface {
	Expand(ex Expander) error
}

// source is what every command keeps of its line.
type source struct {
	name string
	code string
}

// Name is the instruction's name as written.
func (s *source) Name() string { return s.name }

// String is the instruction's line, trimmed.
func (s *source) String() string { return s.code }

// KeyValue is one name=value of ENV or LABEL.
type KeyValue struct {
	Key   string
	Value string
}

// ArgDecl is one name of an ARG, with its default (nil: none).
type ArgDecl struct {
	Key   string
	Value *string
}

// Heredoc is a here-document ("<<EOF" … "EOF") after RUN, COPY or ADD.
type Heredoc struct {
	Name    string // the terminator word, quotes removed
	Chomp   bool   // "<<-": leading tabs are removed from the body's lines
	Expand  bool   // the name was not quoted: $VAR in the body is expanded
	Content string // the body, line ends included
}

// EnvCommand is ENV name=value ….
type EnvCommand struct {
	source
	Env []KeyValue
}

// MaintainerCommand is MAINTAINER name (deprecated, still honoured).
type MaintainerCommand struct {
	source
	Maintainer string
}

// LabelCommand is LABEL name=value ….
type LabelCommand struct {
	source
	Labels   []KeyValue
	noExpand bool
}

// NewLabelCommand is a LABEL the builder adds itself (docker build
// --label): its words are taken as they are, never expanded.
func NewLabelCommand(key, value string) *LabelCommand {
	return &LabelCommand{source: source{name: "label", code: "LABEL " + key + "=" + value},
		Labels: []KeyValue{{Key: key, Value: value}}, noExpand: true}
}

// ArgCommand is ARG name[=default] ….
type ArgCommand struct {
	source
	Args []ArgDecl
}

// WorkdirCommand is WORKDIR path.
type WorkdirCommand struct {
	source
	Path string
}

// SourcesAndDest are COPY's and ADD's paths: sources, then the destination.
type SourcesAndDest struct {
	SourcePaths []string
	DestPath    string
	// Heredocs are sources written inline ("COPY <<EOF /dst").
	Heredocs []Heredoc
}

// CopyCommand is COPY [--from=…] [--chown=…] [--chmod=…] src… dest.
type CopyCommand struct {
	source
	SourcesAndDest
	From, Chown, Chmod string
	// BuildKit's flags, read so that they are refused by name.
	Link, Parents bool
	Excludes      []string
}

// AddCommand is ADD, COPY that also fetches URLs and unpacks archives.
type AddCommand struct {
	source
	SourcesAndDest
	Chown, Chmod string
	// BuildKit's flags, read so that they are refused by name.
	Link               bool
	Checksum           string
	KeepGitDir, Unpack *bool
	Excludes           []string
}

// CmdLine is the command of RUN, CMD or ENTRYPOINT: the exec form's words,
// or (Shell true) the shell form's line as its single word.
type CmdLine struct {
	Args  []string
	Shell bool
}

// RunCommand is RUN.
type RunCommand struct {
	source
	CmdLine
	Heredocs  []Heredoc
	FlagsUsed []string // BuildKit's --mount, --network, --security, --device
}

// CmdCommand is CMD.
type CmdCommand struct {
	source
	CmdLine
}

// EntrypointCommand is ENTRYPOINT.
type EntrypointCommand struct {
	source
	CmdLine
}

// HealthCheckCommand is HEALTHCHECK NONE or HEALTHCHECK [flags] CMD ….
type HealthCheckCommand struct {
	source
	Health *dockerspec.HealthcheckConfig
}

// ExposeCommand is EXPOSE port…, sorted as docker sorts them.
type ExposeCommand struct {
	source
	Ports []string
}

// UserCommand is USER user[:group].
type UserCommand struct {
	source
	User string
}

// VolumeCommand is VOLUME path….
type VolumeCommand struct {
	source
	Volumes []string
}

// StopSignalCommand is STOPSIGNAL signal.
type StopSignalCommand struct {
	source
	Signal string
}

// ShellCommand is SHELL ["exe", "arg"…] (JSON form only).
type ShellCommand struct {
	source
	Shell []string
}

// OnbuildCommand is ONBUILD instruction: the instruction is kept as text
// and parsed when an image built FROM this one runs it (ParseTrigger).
type OnbuildCommand struct {
	source
	Expression string
}

// Stage is FROM and the commands after it up to the next FROM.
type Stage struct {
	Name       string // after AS, lower-cased; "" when unnamed
	BaseName   string // the image or stage, before expansion
	Platform   string // --platform, before expansion
	SourceCode string // the FROM line, trimmed
	Commands   []Command
}

// Expand expands names and values.
func (c *EnvCommand) Expand(ex Expander) error { return expandPairs(c.Env, ex) }

// Expand expands names and values, unless the builder made the label.
func (c *LabelCommand) Expand(ex Expander) error {
	if c.noExpand {
		return nil
	}
	return expandPairs(c.Labels, ex)
}

// Expand expands names and defaults.
func (c *ArgCommand) Expand(ex Expander) error {
	for i := range c.Args {
		a := &c.Args[i]
		if err := expandOne(&a.Key, ex); err != nil {
			return err
		}
		if a.Value != nil {
			v := *a.Value
			if err := expandOne(&v, ex); err != nil {
				return err
			}
			a.Value = &v
		}
	}
	return nil
}

// Expand expands the path.
func (c *WorkdirCommand) Expand(ex Expander) error { return expandOne(&c.Path, ex) }

// Expand expands the user.
func (c *UserCommand) Expand(ex Expander) error { return expandOne(&c.User, ex) }

// Expand expands every path.
func (c *VolumeCommand) Expand(ex Expander) error { return expandAll(c.Volumes, ex) }

// Expand expands the signal.
func (c *StopSignalCommand) Expand(ex Expander) error { return expandOne(&c.Signal, ex) }

// Expand expands --chown, --chmod and the paths (not --from, as in docker).
func (c *CopyCommand) Expand(ex Expander) error {
	if err := expandOne(&c.Chown, ex); err != nil {
		return err
	}
	if err := expandOne(&c.Chmod, ex); err != nil {
		return err
	}
	return c.SourcesAndDest.expand(ex)
}

// Expand expands --chown, --chmod, --checksum and the paths.
func (c *AddCommand) Expand(ex Expander) error {
	for _, p := range []*string{&c.Chown, &c.Chmod, &c.Checksum} {
		if err := expandOne(p, ex); err != nil {
			return err
		}
	}
	return c.SourcesAndDest.expand(ex)
}

func (s *SourcesAndDest) expand(ex Expander) error {
	if err := expandAll(s.SourcePaths, ex); err != nil {
		return err
	}
	return expandOne(&s.DestPath, ex)
}

func expandOne(w *string, ex Expander) error {
	v, err := ex(*w)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

func expandAll(words []string, ex Expander) error {
	for i := range words {
		if err := expandOne(&words[i], ex); err != nil {
			return err
		}
	}
	return nil
}

func expandPairs(kvs []KeyValue, ex Expander) error {
	for i := range kvs {
		if err := expandOne(&kvs[i].Key, ex); err != nil {
			return err
		}
		if err := expandOne(&kvs[i].Value, ex); err != nil {
			return err
		}
	}
	return nil
}

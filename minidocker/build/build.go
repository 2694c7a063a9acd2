package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/minidocker/minidocker/dockerfile"
	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/moby/sys/signal"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// Options are the knobs of POST /build that the classic builder honours.
type Options struct {
	Tags       []string           // -t, each "name[:tag]"; validated before anything runs
	Dockerfile string             // path inside the context; default "Dockerfile"
	NoCache    bool               // --no-cache
	BuildArgs  map[string]*string // --build-arg K=V (nil value: K taken from the client env and absent)
	Target     string             // --target stage
	Labels     map[string]string  // --label, added as a LABEL step to the last stage
	Quiet      bool               // -q: print only the image ID (and the full log on failure)
	Out        io.Writer          // docker's classic text; each Write is one {"stream":…} message
	Pull       bool               // --pull: pull FROM images even when present locally
	Network    string             // --network (networkmode) for RUN; "" = the daemon's default

	// Aux, when set, is called with the final image ID just before
	// "Successfully built" (the API sends it as {"aux":{"ID":…}}).
	Aux func(imageID string)

	// StateDir holds the cache index (cache.jsonl) and the scratch
	// upperdirs (tmp/). It must be on the same filesystem as the layer
	// store for RUN's overlay. "" means a temporary dir: no cache survives
	// the build.
	StateDir string
}

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// stage is the state of the stage being built.
type stage struct {
	name    string
	imageID string // "" while a FROM scratch stage has no commit yet
	img     dockerspec.DockerOCIImage
	args    *buildArgs
	cmdSet  bool
}

type builder struct {
	be       Backend
	opts     Options
	out      io.Writer
	ctxDir   string
	ctxView  *dirView
	lex      *shell.Lex
	cache    *cacheIndex
	scratch  string
	byName   map[string]string // stage name → image ID
	byIndex  []string
	step     int
	total    int
	args     *buildArgs
	ctxCache map[string]string // source hash cache (context is immutable during a build)
}

// Build runs the Dockerfile at opts.Dockerfile inside contextDir and returns
// the final image ID ("sha256:…").
func Build(ctx context.Context, be Backend, contextDir string, opts Options) (imageID string, err error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	var quietBuf *bytes.Buffer
	if opts.Quiet {
		quietBuf = &bytes.Buffer{}
		defer func() {
			if err != nil {
				opts.Out.Write(quietBuf.Bytes())
			}
		}()
		out = quietBuf
		if opts.Out == nil {
			opts.Out = io.Discard
		}
	}

	tags, err := normalizeTags(opts.Tags)
	if err != nil {
		return "", err
	}

	bd := &builder{be: be, opts: opts, out: out, ctxDir: contextDir, byName: map[string]string{}, ctxCache: map[string]string{}}
	bd.ctxView, err = openDirView(contextDir)
	if err != nil {
		return "", errdefs.Invalid("unable to prepare context: %v", err)
	}
	defer bd.ctxView.Close()

	df, err := bd.parse()
	if err != nil {
		return "", err
	}
	dfNames := []string{cleanRel(opts.Dockerfile)}
	if opts.Dockerfile == "" {
		dfNames = []string{"Dockerfile", "dockerfile"}
	}
	if err := bd.ctxView.hideIgnored(dfNames...); err != nil {
		return "", errdefs.Invalid("unable to prepare context: reading .dockerignore: %v", err)
	}

	if opts.StateDir != "" {
		bd.scratch = filepath.Join(opts.StateDir, "tmp")
		if err := os.MkdirAll(bd.scratch, 0o700); err != nil {
			return "", err
		}
		bd.cache = openCache(filepath.Join(opts.StateDir, "cache.jsonl"))
	} else {
		tmp, err := os.MkdirTemp("", "minidocker-build-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		bd.scratch = tmp
		bd.cache = openCache("")
	}
	bd.lex = shell.NewLex(df.Escape)

	id, err := bd.run(ctx, df.Stages, df.MetaArgs)
	if err != nil {
		return "", err
	}
	if opts.Aux != nil {
		opts.Aux(id)
	}
	fmt.Fprintf(out, "Successfully built %s\n", stringid.TruncateID(id))
	for _, t := range tags {
		if err := be.Tag(ctx, id, t); err != nil {
			return "", err
		}
		fmt.Fprintf(out, "Successfully tagged %s\n", t)
	}
	if opts.Quiet {
		fmt.Fprintf(opts.Out, "%s\n", id)
	}
	return id, nil
}

func normalizeTags(tags []string) ([]string, error) {
	var out []string
	for _, t := range tags {
		if t == "" {
			continue
		}
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return nil, errdefs.Invalid("invalid reference format: %s", strings.TrimPrefix(err.Error(), "invalid reference format: "))
		}
		if _, ok := named.(reference.Digested); ok {
			return nil, errdefs.Invalid("build tag cannot contain a digest")
		}
		out = append(out, reference.FamiliarString(reference.TagNameOnly(named)))
	}
	return out, nil
}

// parse reads and parses the Dockerfile.
func (bd *builder) parse() (*dockerfile.File, error) {
	name := bd.opts.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	rel := cleanRel(name)
	f, err := bd.ctxView.root.Open(rel)
	if err != nil && bd.opts.Dockerfile == "" {
		if f2, err2 := bd.ctxView.root.Open("dockerfile"); err2 == nil {
			f, err = f2, nil
		}
	}
	if err != nil {
		return nil, errdefs.Invalid("Cannot locate specified Dockerfile: %s", name)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errdefs.Invalid("the Dockerfile (%s) cannot be empty", name)
	}
	df, err := dockerfile.Parse(data)
	if err != nil {
		return nil, errdefs.Invalid("%v", err)
	}
	if len(df.Stages) == 0 {
		return nil, errdefs.Invalid("No image was generated. Is your Dockerfile empty?")
	}
	if bd.opts.Target != "" {
		ix, ok := df.HasStage(bd.opts.Target)
		if !ok {
			return nil, errdefs.Invalid("target stage %q could not be found", bd.opts.Target)
		}
		df.Stages = df.Stages[:ix+1]
	}
	if len(bd.opts.Labels) > 0 {
		keys := make([]string, 0, len(bd.opts.Labels))
		for k := range bd.opts.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		last := &df.Stages[len(df.Stages)-1]
		for _, k := range keys {
			last.Commands = append(last.Commands, dockerfile.NewLabelCommand(k, bd.opts.Labels[k]))
		}
	}
	df.WriteWarnings(bd.out) // e.g. "[WARNING]: Empty continuation line found in: …"
	return df, nil
}

func (bd *builder) printStep(text string) {
	bd.step++
	// two writes, as dockerd does: "Step …" and "\n" are separate messages
	fmt.Fprintf(bd.out, "Step %d/%d : %s", bd.step, bd.total, text)
	fmt.Fprint(bd.out, "\n")
}

func (bd *builder) run(ctx context.Context, stages []dockerfile.Stage, metaArgs []*dockerfile.ArgCommand) (string, error) {
	bd.total = len(metaArgs) + len(stages)
	for _, s := range stages {
		bd.total += len(s.Commands)
	}
	bd.args = newBuildArgs(bd.opts.BuildArgs)
	for _, m := range metaArgs {
		bd.printStep(m.String())
		env := shell.EnvsFromSlice(bd.args.globals())
		if err := m.Expand(func(w string) (string, error) {
			s, _, err := bd.lex.ProcessWord(w, env)
			return s, err
		}); err != nil {
			return "", errdefs.Invalid("%v", err)
		}
		for _, a := range m.Args {
			bd.args.declareGlobal(a.Key, a.Value)
		}
	}
	var st *stage
	for i := range stages {
		s := &stages[i]
		if s.Name != "" {
			if _, dup := bd.byName[s.Name]; dup {
				return "", errdefs.Invalid("%s stage name already used", s.Name)
			}
		}
		bd.printStep(s.SourceCode)
		var err error
		st, err = bd.from(ctx, s)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(bd.out, " ---> %s\n", stringid.TruncateID(st.imageID))
		for _, cmd := range s.Commands {
			if err := ctx.Err(); err != nil {
				fmt.Fprint(bd.out, "Build cancelled\n")
				return "", errors.New("Build cancelled")
			}
			bd.printStep(cmd.String())
			if err := bd.dispatch(ctx, st, cmd); err != nil {
				return "", err
			}
			fmt.Fprintf(bd.out, " ---> %s\n", stringid.TruncateID(st.imageID))
		}
		if st.name != "" {
			bd.byName[st.name] = st.imageID
		}
		bd.byIndex = append(bd.byIndex, st.imageID)
	}
	bd.args.warnUnused(bd.out)
	if st.imageID == "" {
		return "", errors.New("No image was generated. Is your Dockerfile empty?")
	}
	return st.imageID, nil
}

// from starts a stage: FROM scratch, an earlier stage, or an image (pulled
// when missing).
func (bd *builder) from(ctx context.Context, s *dockerfile.Stage) (*stage, error) {
	st := &stage{name: s.Name, args: bd.args}
	bd.args.newStage()
	base, _, err := bd.lex.ProcessWord(s.BaseName, shell.EnvsFromSlice(bd.args.globals()))
	if err != nil {
		return nil, errdefs.Invalid("%v", err)
	}
	if base == "" {
		return nil, errdefs.Invalid("base name (%s) should not be blank", s.BaseName)
	}
	if err := bd.checkStagePlatform(s.Platform); err != nil {
		return nil, err
	}
	if strings.EqualFold(base, "scratch") {
		st.img = dockerspec.DockerOCIImage{}
		st.img.OS = "linux"
		st.img.Architecture = runtime.GOARCH
		return st, nil
	}
	var img Image
	if id, ok := bd.byName[strings.ToLower(base)]; ok {
		if id == "" {
			st.img.OS, st.img.Architecture = "linux", runtime.GOARCH
			return st, nil
		}
		img, err = bd.be.GetImage(ctx, id)
	} else {
		img, err = bd.getOrPull(ctx, base)
	}
	if err != nil {
		return nil, err
	}
	st.imageID = img.ID
	st.img = img.Config
	if trig := st.img.Config.OnBuild; len(trig) > 0 {
		st.img.Config.OnBuild = nil
		if err := bd.onbuildTriggers(ctx, st, trig); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// checkStagePlatform accepts FROM --platform only when it names this
// machine's platform: the builder runs RUN steps here, without emulation,
// and pulls only this platform.
func (bd *builder) checkStagePlatform(platform string) error {
	if platform == "" {
		return nil
	}
	p, _, err := bd.lex.ProcessWord(platform, shell.EnvsFromSlice(bd.args.globals()))
	if err != nil {
		return errdefs.Invalid("%v", err)
	}
	if p == "" {
		return nil
	}
	return CheckPlatform("FROM --platform", p)
}

// CheckPlatform accepts a build platform (FROM --platform, or docker build
// --platform, named by flag) only when it is this machine's: the builder
// runs RUN steps here, without emulation, and pulls only this platform, so
// for this machine's platform the flag changes nothing.
func CheckPlatform(flag, platform string) error {
	want, err := image.ParsePlatform(platform)
	if err != nil {
		return err
	}
	if !want.Matches(image.Platform{OS: "linux", Architecture: runtime.GOARCH}) {
		return errdefs.Invalid("%s=%s: this builder builds for linux/%s only", flag, platform, runtime.GOARCH)
	}
	return nil
}

// buildKitOnly refuses a COPY or ADD flag that only BuildKit implements, in
// the words of docker's legacy builder (the one minidocker's builder is).
func buildKitOnly(flags map[string]bool) error {
	for _, name := range []string{"link", "parents", "exclude", "checksum", "keep-git-dir", "unpack"} {
		if flags[name] {
			return errdefs.Invalid("the --%s option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to set up BuildKit", name)
		}
	}
	return nil
}

func (bd *builder) getOrPull(ctx context.Context, ref string) (Image, error) {
	if bd.opts.Pull {
		if img, err := bd.be.PullImage(ctx, ref, bd.out); err == nil {
			return img, nil
		} else if !errdefs.IsNotFound(err) {
			return Image{}, err
		}
	}
	img, err := bd.be.GetImage(ctx, ref)
	if err == nil {
		return img, nil
	}
	if !errdefs.IsNotFound(err) {
		return Image{}, err
	}
	return bd.be.PullImage(ctx, ref, bd.out)
}

func (bd *builder) onbuildTriggers(ctx context.Context, st *stage, triggers []string) error {
	fmt.Fprintf(bd.out, "# Executing %d build trigger", len(triggers))
	if len(triggers) > 1 {
		fmt.Fprint(bd.out, "s")
	}
	fmt.Fprintln(bd.out)
	for _, t := range triggers {
		cmd, err := dockerfile.ParseTrigger(t)
		if err != nil {
			return errdefs.Invalid("%v", err)
		}
		if err := bd.dispatch(ctx, st, cmd); err != nil {
			return err
		}
	}
	return nil
}

// expandEnv is the variable set for expansion: ENV plus ARGs in effect.
func (st *stage) expandEnv() shell.EnvGetter {
	env := st.img.Config.Env
	return shell.EnvsFromSlice(append(slices.Clone(env), st.args.inEffect(env)...))
}

func (st *stage) shell() []string {
	if len(st.img.Config.Shell) > 0 {
		return slices.Clone(st.img.Config.Shell)
	}
	return []string{"/bin/sh", "-c"}
}

// dispatch runs one Dockerfile instruction on a stage: it expands the
// instruction's words, then hands it to the instruction's own function
// (one per instruction, as moby's dispatchers are). Each of them changes
// the stage's image config and commits a history entry (commitMeta), or
// makes a layer (COPY, ADD, RUN).
func (bd *builder) dispatch(ctx context.Context, st *stage, cmd dockerfile.Command) error {
	if err := bd.expandWords(st, cmd); err != nil {
		return err
	}
	// the config may share maps and slices with the parent's (e.g. the
	// backend's cached Image): never modify those in place
	st.img.Config = cloneConfig(st.img.Config)
	st.img.History = slices.Clone(st.img.History)
	switch c := cmd.(type) {
	case *dockerfile.EnvCommand:
		return bd.dispatchEnv(ctx, st, c)
	case *dockerfile.MaintainerCommand:
		st.img.Author = c.Maintainer
		return bd.commitMeta(ctx, st, "MAINTAINER "+c.Maintainer)
	case *dockerfile.LabelCommand:
		return bd.dispatchLabel(ctx, st, c)
	case *dockerfile.ArgCommand:
		return bd.dispatchArg(ctx, st, c)
	case *dockerfile.WorkdirCommand:
		return bd.workdir(ctx, st, c)
	case *dockerfile.CopyCommand:
		if err := buildKitOnly(map[string]bool{"link": c.Link, "parents": c.Parents, "exclude": len(c.Excludes) > 0}); err != nil {
			return err
		}
		return bd.copy(ctx, st, copyReq{name: "COPY", sd: c.SourcesAndDest, from: c.From, chown: c.Chown, chmod: c.Chmod})
	case *dockerfile.AddCommand:
		if err := buildKitOnly(map[string]bool{"link": c.Link, "exclude": len(c.Excludes) > 0, "checksum": c.Checksum != "",
			"keep-git-dir": c.KeepGitDir != nil, "unpack": c.Unpack != nil}); err != nil {
			return err
		}
		return bd.copy(ctx, st, copyReq{name: "ADD", sd: c.SourcesAndDest, chown: c.Chown, chmod: c.Chmod, add: true})
	case *dockerfile.RunCommand:
		return bd.runStep(ctx, st, c)
	case *dockerfile.CmdCommand:
		return bd.dispatchCmd(ctx, st, c)
	case *dockerfile.EntrypointCommand:
		return bd.dispatchEntrypoint(ctx, st, c)
	case *dockerfile.HealthCheckCommand:
		return bd.dispatchHealthcheck(ctx, st, c)
	case *dockerfile.ExposeCommand:
		return bd.dispatchExpose(ctx, st, c)
	case *dockerfile.UserCommand:
		st.img.Config.User = c.User
		return bd.commitMeta(ctx, st, fmt.Sprintf("USER %v", c.User))
	case *dockerfile.VolumeCommand:
		return bd.dispatchVolume(ctx, st, c)
	case *dockerfile.StopSignalCommand:
		return bd.dispatchStopSignal(ctx, st, c)
	case *dockerfile.ShellCommand:
		st.img.Config.Shell = slices.Clone(c.Shell)
		return bd.commitMeta(ctx, st, fmt.Sprintf("SHELL %v", st.img.Config.Shell))
	case *dockerfile.OnbuildCommand:
		st.img.Config.OnBuild = append(st.img.Config.OnBuild, c.Expression)
		return bd.commitMeta(ctx, st, "ONBUILD "+c.Expression)
	}
	return errdefs.Invalid("unsupported command type: %T", cmd)
}

// expandWords replaces $VAR in the instructions that allow it, with the
// stage's ENV and the ARGs in effect.
func (bd *builder) expandWords(st *stage, cmd dockerfile.Command) error {
	ex, ok := cmd.(dockerfile.Expandable)
	if !ok {
		return nil
	}
	envs := st.expandEnv()
	err := ex.Expand(func(w string) (string, error) {
		s, _, err := bd.lex.ProcessWord(w, envs)
		return s, err
	})
	if err != nil {
		return errdefs.Invalid("%v", err)
	}
	return nil
}

func (bd *builder) dispatchEnv(ctx context.Context, st *stage, c *dockerfile.EnvCommand) error {
	msg := "ENV"
	for _, kv := range c.Env {
		msg += " " + kv.Key + "=" + kv.Value
		st.img.Config.Env = setEnv(st.img.Config.Env, kv.Key, kv.Value)
	}
	return bd.commitMeta(ctx, st, msg)
}

func (bd *builder) dispatchLabel(ctx context.Context, st *stage, c *dockerfile.LabelCommand) error {
	cfg := &st.img.Config
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	msg := "LABEL"
	for _, kv := range c.Labels {
		msg += " " + kv.Key + "=" + kv.Value
		cfg.Labels[kv.Key] = kv.Value
	}
	return bd.commitMeta(ctx, st, msg)
}

// dispatchArg declares build arguments; their values come into effect for
// the instructions after it (see args.go).
func (bd *builder) dispatchArg(ctx context.Context, st *stage, c *dockerfile.ArgCommand) error {
	words := make([]string, 0, len(c.Args))
	for _, a := range c.Args {
		w := a.Key
		if a.Value != nil {
			w += "=" + *a.Value
		}
		words = append(words, w)
		st.args.declare(a.Key, a.Value)
	}
	return bd.commitMeta(ctx, st, "ARG "+strings.Join(words, " "))
}

// dispatchCmd sets the default command. A CMD in this stage is remembered
// so that a later ENTRYPOINT does not reset it (an inherited CMD is reset).
func (bd *builder) dispatchCmd(ctx context.Context, st *stage, c *dockerfile.CmdCommand) error {
	// exercise:begin 04-entrypoint-cmd
	cfg := &st.img.Config
	cfg.Cmd = st.resolveCmdLine(c.CmdLine)
	cfg.ArgsEscaped = false
	if err := bd.commitMeta(ctx, st, fmt.Sprintf("CMD %q", cfg.Cmd)); err != nil {
		return err
	}
	if len(c.Args) != 0 {
		st.cmdSet = true
	}
	return nil
	// exercise:end 04-entrypoint-cmd
}

// dispatchEntrypoint sets the entrypoint. As in docker, a new ENTRYPOINT
// clears a CMD inherited from the base image, and an empty shell-form
// ENTRYPOINT clears the entrypoint.
func (bd *builder) dispatchEntrypoint(ctx context.Context, st *stage, c *dockerfile.EntrypointCommand) error {
	// exercise:begin 04-entrypoint-cmd
	cfg := &st.img.Config
	cfg.Entrypoint = st.resolveCmdLine(c.CmdLine)
	if len(c.Args) == 0 && c.Shell {
		cfg.Entrypoint = nil
	}
	if !st.cmdSet {
		cfg.Cmd = nil
	}
	return bd.commitMeta(ctx, st, fmt.Sprintf("ENTRYPOINT %q", cfg.Entrypoint))
	// exercise:end 04-entrypoint-cmd
}

func (bd *builder) dispatchHealthcheck(ctx context.Context, st *stage, c *dockerfile.HealthCheckCommand) error {
	cfg := &st.img.Config
	if old := cfg.Healthcheck; old != nil && len(old.Test) > 0 && old.Test[0] != "NONE" {
		fmt.Fprintf(bd.out, "Note: overriding previous HEALTHCHECK: %v\n", old.Test)
	}
	cfg.Healthcheck = c.Health
	return bd.commitMeta(ctx, st, "HEALTHCHECK "+healthText(cfg.Healthcheck))
}

// dispatchExpose adds ports to the image's ExposedPorts. Its words are
// expanded here, not by expandWords: one word may become several ports.
func (bd *builder) dispatchExpose(ctx context.Context, st *stage, c *dockerfile.ExposeCommand) error {
	envs := st.expandEnv()
	var raw []string
	for _, p := range c.Ports {
		words, err := bd.lex.ProcessWords(p, envs)
		if err != nil {
			return errdefs.Invalid("%v", err)
		}
		raw = append(raw, words...)
	}
	cfg := &st.img.Config
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	uniq := map[string]bool{}
	for _, p := range raw {
		ports, err := network.ParseExposed(p)
		if err != nil {
			return err
		}
		for _, port := range ports {
			cfg.ExposedPorts[port.String()] = struct{}{}
		}
		uniq[p] = true
	}
	keys := make([]string, 0, len(uniq))
	for k := range uniq {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return bd.commitMeta(ctx, st, "EXPOSE "+strings.Join(keys, " "))
}

func (bd *builder) dispatchVolume(ctx context.Context, st *stage, c *dockerfile.VolumeCommand) error {
	cfg := &st.img.Config
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, v := range c.Volumes {
		if v == "" {
			return errdefs.Invalid("VOLUME specified can not be an empty string")
		}
		cfg.Volumes[v] = struct{}{}
	}
	return bd.commitMeta(ctx, st, fmt.Sprintf("VOLUME %v", c.Volumes))
}

func (bd *builder) dispatchStopSignal(ctx context.Context, st *stage, c *dockerfile.StopSignalCommand) error {
	if err := checkSignal(c.Signal); err != nil {
		return err
	}
	st.img.Config.StopSignal = c.Signal
	return bd.commitMeta(ctx, st, fmt.Sprintf("STOPSIGNAL %v", c.Signal))
}

func setEnv(env []string, key, val string) []string {
	for i, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if k == key {
			env = slices.Clone(env)
			env[i] = key + "=" + val
			return env
		}
	}
	return append(slices.Clone(env), key+"="+val)
}

// resolveCmdLine turns a shell-form line into [shell… line]; exec form is
// used as is.
// resolveCmdLine turns a CMD/ENTRYPOINT/RUN line into argv: the exec form
// as written, the shell form behind the stage's SHELL.
func (st *stage) resolveCmdLine(c dockerfile.CmdLine) []string {
	// exercise:begin 04-entrypoint-cmd
	if c.Shell {
		return append(st.shell(), strings.Join(c.Args, " "))
	}
	return slices.Clone(c.Args)
	// exercise:end 04-entrypoint-cmd
}

// checkSignal accepts what docker accepts for STOPSIGNAL: a name moby/sys/signal
// (docker's parser) knows, or a number from 1 to 64.
func checkSignal(s string) error {
	if sig, err := signal.ParseSignal(s); err != nil || sig <= 0 || sig > 64 {
		return errdefs.Invalid("Invalid signal: %s", s)
	}
	return nil
}

// createdBy renders a history/cache line the way the classic builder does:
// "<shell> #(nop)  <comment>" (two spaces: "#(nop) " and the comment are
// two argv words joined with a space).
func (st *stage) nop(comment string) string {
	return strings.Join(append(st.shell(), "#(nop) ", comment), " ")
}

// nop1 is the single-word variant used by WORKDIR, COPY and ADD.
func (st *stage) nop1(comment string) string {
	return strings.Join(append(st.shell(), "#(nop) "+comment), " ")
}

// commitMeta commits a config-only step (empty_layer history entry).
func (bd *builder) commitMeta(ctx context.Context, st *stage, comment string) error {
	return bd.commitStep(ctx, st, st.nop(comment), append(st.shell(), "#(nop) ", comment), nil, true)
}

// commitStep finishes a step: cache probe, then (on a miss) produce the
// layer with makeLayer (nil: no layer), commit and record in the cache.
// container says whether docker shows an intermediate container.
func (bd *builder) commitStep(ctx context.Context, st *stage, createdBy string, ccmd []string, makeLayer func(cid, upper string) error, container bool) error {
	key := bd.cacheKey(st, createdBy)
	if !bd.opts.NoCache {
		if id, ok := bd.cache.get(key); ok {
			if img, err := bd.be.GetImage(ctx, id); err == nil {
				fmt.Fprint(bd.out, " ---> Using cache\n")
				st.imageID, st.img = img.ID, img.Config
				return nil
			}
		}
	}
	cid := stringid.GenerateRandomID()
	if container {
		fmt.Fprintf(bd.out, " ---> Running in %s\n", cid[:12])
	}
	upper := ""
	if makeLayer != nil {
		dir, err := os.MkdirTemp(bd.scratch, "step-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		upper = filepath.Join(dir, "upper")
		if err := os.Mkdir(upper, 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(dir, "merged"), 0o755); err != nil {
			return err
		}
		if err := makeLayer(cid, upper); err != nil {
			return err
		}
		if empty, err := dirEmpty(upper); err != nil {
			return err
		} else if empty {
			upper = ""
		}
	}
	cc := st.containerConfig(createdBy, ccmd, cid)
	req := CommitRequest{
		Config:          st.img.Config,
		CreatedBy:       createdBy,
		Author:          st.img.Author,
		Created:         time.Now().UTC(),
		ContainerConfig: cc,
		OS:              st.img.OS,
		Architecture:    st.img.Architecture,
	}
	if container {
		req.Container = cid
	}
	if req.OS == "" {
		req.OS = "linux"
	}
	if req.Architecture == "" {
		req.Architecture = runtime.GOARCH
	}
	id, err := bd.be.Commit(ctx, st.imageID, upper, req)
	if err != nil {
		return err
	}
	if container {
		fmt.Fprintf(bd.out, "Removing intermediate container %s\n", cid[:12])
	}
	got, err := bd.be.GetImage(ctx, id)
	if err != nil {
		return err
	}
	st.imageID, st.img = got.ID, got.Config
	return bd.cache.put(key, id)
}

// cacheKey: parent image + history line + resulting config (which covers
// --label, MAINTAINER and everything else a step changes).
func (bd *builder) cacheKey(st *stage, createdBy string) string {
	// exercise:begin 04-cache-key
	cfg, _ := json.Marshal(struct {
		A string
		C dockerspec.DockerOCIImageConfig
	}{st.img.Author, st.img.Config})
	return cacheKeyOf(st.imageID, createdBy, string(cfg))
	// exercise:end 04-cache-key
}

func dirEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return len(names) == 0, err
}

// workdir sets WorkingDir and, like the legacy builder, commits a layer
// holding the directory when the parent image lacks it.
func (bd *builder) workdir(ctx context.Context, st *stage, c *dockerfile.WorkdirCommand) error {
	cur := st.img.Config.WorkingDir
	p := c.Path
	if !path.IsAbs(p) {
		if cur == "" {
			cur = "/"
		}
		p = path.Join(cur, p)
	}
	p = path.Clean(p)
	st.img.Config.WorkingDir = p
	return bd.commitStep(ctx, st, st.nop1("WORKDIR "+p), append(st.shell(), "#(nop) WORKDIR "+p), func(cid, upper string) error {
		v, err := bd.imageView(ctx, st.imageID)
		if err != nil {
			return err
		}
		defer v.Close()
		rel, err := resolveInScope(v, p, true)
		if err != nil {
			return err
		}
		if fi, err := v.Lstat(rel); err == nil && fi.IsDir() {
			return nil
		}
		w, err := newLayerWriter(upper, v)
		if err != nil {
			return err
		}
		defer w.Close()
		return w.mkdirAll(rel, 0, 0)
	}, true)
}

// imageView is the merged read-only view of an image ("" = empty).
func (bd *builder) imageView(ctx context.Context, imageID string) (*layerView, error) {
	if imageID == "" {
		return openLayerView(nil)
	}
	dirs, err := bd.be.LayerDirs(ctx, imageID)
	if err != nil {
		return nil, err
	}
	return openLayerView(dirs)
}

// runStep is RUN: a build container on top of the current image.
func (bd *builder) runStep(ctx context.Context, st *stage, c *dockerfile.RunCommand) error {
	if len(c.Heredocs) > 0 {
		return errdefs.Invalid("RUN with heredocs is not supported by the classic builder")
	}
	if len(c.FlagsUsed) > 0 {
		return errdefs.Invalid("the --%s option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled", c.FlagsUsed[0])
	}
	cmd := st.resolveCmdLine(c.CmdLine)
	env := st.img.Config.Env
	inEffect := st.args.inEffect(env)
	save := cmd
	if len(inEffect) > 0 {
		rec := st.args.recorded(env)
		save = append(append([]string{fmt.Sprintf("|%d", len(rec))}, rec...), cmd...)
	}
	return bd.commitStep(ctx, st, strings.Join(save, " "), save, func(cid, upper string) error {
		runEnv := append(slices.Clone(env), inEffect...)
		if !hasEnv(runEnv, "PATH") {
			runEnv = append([]string{defaultPath}, runEnv...)
		}
		code, err := bd.be.Run(ctx, RunSpec{
			ID: cid, ImageID: st.imageID,
			UpperDir: upper, WorkDir: filepath.Join(filepath.Dir(upper), "work"),
			MergedDir: filepath.Join(filepath.Dir(upper), "merged"), Hostname: cid[:12],
			Args: cmd, Env: runEnv, WorkingDir: st.img.Config.WorkingDir, User: st.img.Config.User,
			Network: bd.opts.Network,
			Stdout:  bd.out, Stderr: bd.out,
		})
		if err != nil {
			return err
		}
		if code != 0 {
			return &StatusError{Message: fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(cmd, " "), code), Code: code}
		}
		return nil
	}, true)
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// StatusError is a RUN step that exited non-zero; the API sends it as
// {"errorDetail":{"code":Code,"message":Message},"error":Message}.
type StatusError struct {
	Message string
	Code    int
}

// Error is the message the build stream shows.
func (e *StatusError) Error() string { return e.Message }

// healthText renders a healthcheck as docker's history does (it formats
// the struct pointer with %q: "&{[\"CMD-SHELL\" \"x\"] \"30s\" … '\\x03'}").
func healthText(h *dockerspec.HealthcheckConfig) string {
	if h == nil {
		return "%!q(<nil>)"
	}
	return fmt.Sprintf("&{%q %q %q %q %q %q}", h.Test, h.Interval.String(), h.Timeout.String(),
		h.StartPeriod.String(), h.StartInterval.String(), rune(h.Retries))
}

// containerConfig is the legacy "container_config" of a step: the runtime
// config with Cmd replaced by the step's command line (for RUN also no
// Entrypoint), Hostname the intermediate container's short ID and Image
// the parent, as docker records it.
func (st *stage) containerConfig(createdBy string, cmd []string, cid string) *container.Config {
	c := st.img.Config
	cc := &container.Config{
		Hostname:    cid[:12],
		User:        c.User,
		Env:         slices.Clone(c.Env),
		Cmd:         slices.Clone(cmd),
		ArgsEscaped: c.ArgsEscaped,
		Image:       st.imageID,
		Volumes:     c.Volumes,
		WorkingDir:  c.WorkingDir,
		Entrypoint:  slices.Clone(c.Entrypoint),
		OnBuild:     c.OnBuild,
		Labels:      c.Labels,
		StopSignal:  c.StopSignal,
		Shell:       c.Shell,
	}
	if !strings.Contains(createdBy, "#(nop)") {
		cc.Entrypoint = nil // RUN probes with the entrypoint cleared
	}
	if h := c.Healthcheck; h != nil {
		cc.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	if len(c.ExposedPorts) > 0 {
		cc.ExposedPorts = mobynet.PortSet{}
		for p := range c.ExposedPorts {
			if port, err := mobynet.ParsePort(p); err == nil {
				cc.ExposedPorts[port] = struct{}{}
			}
		}
	}
	return cc
}

func cloneConfig(c dockerspec.DockerOCIImageConfig) dockerspec.DockerOCIImageConfig {
	c.Env = slices.Clone(c.Env)
	c.Cmd = slices.Clone(c.Cmd)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.OnBuild = slices.Clone(c.OnBuild)
	c.Shell = slices.Clone(c.Shell)
	c.Labels = maps.Clone(c.Labels)
	c.Volumes = maps.Clone(c.Volumes)
	c.ExposedPorts = maps.Clone(c.ExposedPorts)
	if c.Healthcheck != nil {
		h := *c.Healthcheck
		h.Test = slices.Clone(h.Test)
		c.Healthcheck = &h
	}
	return c
}

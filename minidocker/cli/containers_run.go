package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/template"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/term"

	"github.com/minidocker/minidocker/minidocker/detachkeys"
)

// RunCmd is `docker run`: create (pulling a missing image), attach, wait,
// start, and exit with the container's exit code.
type RunCmd struct {
	Detach         bool   `short:"d" help:"Run container in background and print container ID."`
	DetachKeys     string `name:"detach-keys" help:"Override the key sequence for detaching a container."`
	ContainerFlags `embed:""`
}

func isTerminal(fd uintptr) bool { return term.IsTerminal(fd) }

// Run creates, attaches, starts and waits, then exits with the container's exit code.
func (c *RunCmd) Run(g *Globals) error {
	ctx := context.Background()
	if err := validateDetachKeys(c.DetachKeys); err != nil {
		return daemonError("run", err)
	}
	id, err := g.createContainer(g.ctx, &c.ContainerFlags, !c.Detach, "run")
	if err != nil {
		return err
	}
	cli, _ := g.Client()
	cond := container.WaitConditionNextExit
	if c.Rm {
		cond = container.WaitConditionRemoved
	}
	if c.Detach {
		return g.startDetached(ctx, cli, id, c.Rm)
	}
	// The start needs both the attach (no output lost) and the wait (no
	// exit missed), and neither needs the other: the wait's round trip to
	// the daemon is made while the attach's is.
	waiting := make(chan client.ContainerWaitResult, 1)
	go func() { waiting <- cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond}) }()
	s, err := g.attachStreams(ctx, cli, id, attachOptions{tty: c.TTY, stdin: c.Interactive, detachKeys: c.DetachKeys})
	wait := <-waiting
	if err != nil {
		return daemonError("run", err)
	}
	defer s.close()
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		s.close()
		return startFailed("run", err, startFailureCode(ctx, cli, id, c.Rm, wait))
	}
	s.started(ctx, cli, id)
	return detachedIsDone(g.finish(s, wait))
}

// detachedIsDone makes a detach the success of run and start (docker
// exits 0 and leaves the container running); attach and exec report it.
func detachedIsDone(err error) error {
	if errors.Is(err, detachkeys.ErrDetached) {
		return nil
	}
	return err
}

// validateDetachKeys checks a --detach-keys value before anything is made,
// in docker's words.
func validateDetachKeys(keys string) error {
	if _, err := detachkeys.Parse(keys); err != nil {
		return fmt.Errorf("invalid detach keys (%s): %w", keys, err)
	}
	return nil
}

// startDetached is run -d's start: print the ID, or report the failure.
// With --rm the container goes when the start fails, so its record is
// read from the wait that was set up before the start.
func (g *Globals) startDetached(ctx context.Context, cli *client.Client, id string, autoRemove bool) error {
	var wait client.ContainerWaitResult
	if autoRemove {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel() // a started container is not waited for
		wait = cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	}
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return startFailed("run", err, startFailureCode(ctx, cli, id, autoRemove, wait))
	}
	fmt.Fprintln(g.stdout, id)
	return nil
}

// startFailureCode is the exit code of a failed start: from the
// container's record, or, when --rm removes the container, from the
// wait for its removal (which reports the recorded exit code).
func startFailureCode(ctx context.Context, cli *client.Client, id string, autoRemove bool, wait client.ContainerWaitResult) int {
	if !autoRemove {
		return recordedStartCode(ctx, cli, id)
	}
	select {
	case res := <-wait.Result:
		return neverRanCode(int(res.StatusCode))
	case <-wait.Error:
		return 125
	}
}

// finish waits for the output to end and the container's exit code, or
// for the user to detach (detachkeys.ErrDetached).
func (g *Globals) finish(s *streams, wait client.ContainerWaitResult) error {
	select {
	case <-s.outputDone:
	case <-s.detached:
		s.close()
		return detachkeys.ErrDetached
	}
	s.close()
	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" && res.StatusCode == 0 {
			return StatusError{Status: res.Error.Message, Code: 125}
		}
		if res.StatusCode != 0 {
			return StatusError{Code: int(res.StatusCode)}
		}
		return nil
	case err := <-wait.Error:
		return StatusError{Status: fmt.Sprintf("minidocker: %v", err), Code: 125}
	}
}

// startFailed is a failed start as docker's CLI reports it, with exit
// code 127 when the command was not found, 126 when it could not be
// executed, 125 otherwise. The code is not guessed from the message: the
// daemon records why the process never ran in the container's state
// (State.ExitCode and State.Error, from the runtime's typed StartError),
// and code is what that record said (see neverRanCode).
func startFailed(cmd string, err error, code int) error {
	if client.IsErrConnectionFailed(err) {
		return err
	}
	return StatusError{Status: fmt.Sprintf("minidocker: %s\n\nRun 'minidocker %s --help' for more information", err, cmd), Code: code}
}

// neverRanCode is the exit code for a start that failed with the
// container's recorded exit code: 126 and 127 (the process could not be
// executed, or was not found) are kept, anything else is 125.
func neverRanCode(recorded int) int {
	if recorded == 126 || recorded == 127 {
		return recorded
	}
	return 125
}

// recordedStartCode asks the daemon what it recorded about the failed
// start of id (125 when there is no such record, or no container left).
func recordedStartCode(ctx context.Context, cli *client.Client, id string) int {
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Error == "" {
		return 125
	}
	return neverRanCode(res.Container.State.ExitCode)
}

// streams is one attach session: output copied to stdout/stderr, stdin
// (optionally) copied in, the terminal raw while a tty is attached.
type streams struct {
	g          *Globals
	resp       client.ContainerAttachResult
	tty        bool
	outputDone chan struct{}
	detached   chan struct{} // closed when the user typed the detach keys
	restore    func()
	stopResize func()
	sigs       chan os.Signal
}

// attachOptions say what an attach session sends and watches.
type attachOptions struct {
	tty, stdin bool
	detachKeys string // "" is ctrl-p,ctrl-q; checked by validateDetachKeys
}

func (g *Globals) attachStreams(ctx context.Context, cli *client.Client, id string, o attachOptions) (*streams, error) {
	resp, err := cli.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: o.stdin, Stdout: true, Stderr: true, DetachKeys: o.detachKeys})
	if err != nil {
		return nil, err
	}
	tty, stdin := o.tty, o.stdin
	s := &streams{g: g, resp: resp, tty: tty, outputDone: make(chan struct{}), detached: make(chan struct{}), restore: func() {}, stopResize: func() {}}
	if tty && stdin {
		if fd, ok := term.GetFdInfo(g.stdin); ok {
			if st, err := term.SetRawTerminal(fd); err == nil {
				s.restore = func() { term.RestoreTerminal(fd, st) }
			}
		}
	}
	go func() {
		defer close(s.outputDone)
		if tty {
			io.Copy(g.stdout, resp.Reader)
		} else {
			stdcopy.StdCopy(g.stdout, g.stderr, resp.Reader)
		}
	}()
	if stdin {
		go s.sendStdin(tty, o.detachKeys)
	} else {
		resp.CloseWrite()
	}
	return s, nil
}

// sendStdin copies the user's keys to the container. On a terminal it
// watches them for the detach sequence, as docker's CLI does: the keys
// are not sent, the session ends, the container runs on.
func (s *streams) sendStdin(tty bool, detachKeys string) {
	in := s.g.stdin
	if tty {
		keys, _ := detachkeys.Parse(detachKeys)
		in = detachkeys.NewReader(in, keys)
	}
	_, err := io.Copy(s.resp.Conn, in)
	if errors.Is(err, detachkeys.ErrDetached) {
		close(s.detached)
		s.resp.Close()
		return
	}
	s.resp.CloseWrite()
}

// started runs once the container runs: the terminal size now and on
// every SIGWINCH; without a tty, SIGINT/SIGTERM go to the container (docker's
// sig-proxy).
func (s *streams) started(ctx context.Context, cli *client.Client, id string) {
	s.sigs = make(chan os.Signal, 4)
	if s.tty {
		fd, ok := term.GetFdInfo(s.g.stdout)
		if !ok {
			return
		}
		resize := func() {
			if ws, err := term.GetWinsize(fd); err == nil && ws.Height > 0 {
				cli.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: uint(ws.Height), Width: uint(ws.Width)})
			}
		}
		resize()
		signal.Notify(s.sigs, syscall.SIGWINCH)
		go func() {
			for range s.sigs {
				resize()
			}
		}()
	} else {
		signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			for sig := range s.sigs {
				cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: fmt.Sprint(int(sig.(syscall.Signal)))})
			}
		}()
	}
}

func (s *streams) close() {
	if s.sigs != nil {
		signal.Stop(s.sigs)
	}
	s.restore()
	s.restore = func() {}
}

// StartCmd is `docker start`.
type StartCmd struct {
	Attach      bool     `short:"a" help:"Attach STDOUT/STDERR and forward signals."`
	Interactive bool     `short:"i" help:"Attach container's STDIN."`
	DetachKeys  string   `name:"detach-keys" help:"Override the key sequence for detaching a container."`
	Containers  []string `arg:"" name:"container"`
}

// Run starts each container; with -a or -i, attaches to one and waits for it.
func (c *StartCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if c.Attach || c.Interactive {
		if len(c.Containers) > 1 {
			return fmt.Errorf("you cannot start and attach multiple containers at once")
		}
		id := c.Containers[0]
		insp, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		if err := validateDetachKeys(c.DetachKeys); err != nil {
			return err
		}
		s, err := g.attachStreams(ctx, cli, insp.Container.ID, attachOptions{
			tty: insp.Container.Config.Tty, stdin: c.Interactive && insp.Container.Config.OpenStdin, detachKeys: c.DetachKeys,
		})
		if err != nil {
			return err
		}
		defer s.close()
		wait := cli.ContainerWait(ctx, insp.Container.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := cli.ContainerStart(ctx, insp.Container.ID, client.ContainerStartOptions{}); err != nil {
			return startFailed("start", err, recordedStartCode(ctx, cli, insp.Container.ID))
		}
		s.started(ctx, cli, insp.Container.ID)
		return detachedIsDone(g.finish(s, wait))
	}
	failed := false
	for _, id := range c.Containers {
		if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			if client.IsErrConnectionFailed(err) {
				return err
			}
			fmt.Fprintln(g.stderr, err)
			failed = true
			continue
		}
		fmt.Fprintln(g.stdout, id)
	}
	if failed {
		return StatusError{Status: "Error: failed to start containers: " + strings.Join(c.Containers, ", "), Code: 1}
	}
	return nil
}

// AttachCmd is `docker attach`.
type AttachCmd struct {
	NoStdin    bool   `name:"no-stdin" help:"Do not attach STDIN."`
	DetachKeys string `name:"detach-keys" help:"Override the key sequence for detaching a container."`
	Container  string `arg:""`
}

// Run attaches to a running container until it stops or the user detaches.
func (c *AttachCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := validateDetachKeys(c.DetachKeys); err != nil {
		return err
	}
	insp, err := cli.ContainerInspect(ctx, c.Container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	ct := insp.Container
	if !ct.State.Running {
		return fmt.Errorf("You cannot attach to a stopped container, start it first")
	}
	wait := cli.ContainerWait(ctx, ct.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	s, err := g.attachStreams(ctx, cli, ct.ID, attachOptions{tty: ct.Config.Tty, stdin: !c.NoStdin && ct.Config.OpenStdin, detachKeys: c.DetachKeys})
	if err != nil {
		return err
	}
	defer s.close()
	s.started(ctx, cli, ct.ID)
	return g.finish(s, wait)
}

// InspectCmd is `docker inspect`: containers first, then images.
type InspectCmd struct {
	Format  string   `short:"f" help:"Format output using a Go template (e.g. '{{.State.Pid}}')."`
	Type    string   `help:"Only inspect objects of the given type (container, image)."`
	Objects []string `arg:"" name:"object"`
}

// Run prints each object's JSON (or the -f template), trying containers before images.
func (c *InspectCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	var out []json.RawMessage
	var errs []string
	for _, ref := range c.Objects {
		if c.Type == "" || c.Type == "container" {
			res, err := cli.ContainerInspect(g.ctx, ref, client.ContainerInspectOptions{})
			if err == nil {
				out = append(out, res.Raw)
				continue
			}
			if !cerrdefs.IsNotFound(err) {
				return err
			}
			if c.Type == "container" { // the daemon's "No such container", as docker shows it
				errs = append(errs, err.Error())
				continue
			}
		}
		if c.Type == "" || c.Type == "image" {
			var raw bytes.Buffer
			_, err := cli.ImageInspect(g.ctx, ref, client.ImageInspectWithRawResponse(&raw))
			if err == nil {
				out = append(out, json.RawMessage(raw.Bytes()))
				continue
			}
		}
		errs = append(errs, "Error: No such object: "+ref)
	}
	return printInspected(g, c.Format, out, errs)
}

// inspectEach inspects each ref with get and prints the results as
// printInspected does. A ref that fails is reported at the end with the
// daemon's words, unless the daemon cannot be reached at all.
func inspectEach(g *Globals, format string, refs []string, get func(ref string) (json.RawMessage, error)) error {
	var out []json.RawMessage
	var errs []string
	for _, ref := range refs {
		raw, err := get(ref)
		if err != nil {
			if client.IsErrConnectionFailed(err) {
				return err
			}
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, raw)
	}
	return printInspected(g, format, out, errs)
}

// printInspected is the output of an inspect command: each object through
// the -f template when there is one, else all of them as docker's indented
// JSON array; then exit status 1 with errs, the objects not found.
func printInspected(g *Globals, format string, objs []json.RawMessage, errs []string) error {
	if format != "" {
		if err := formatInspect(g, format, objs); err != nil {
			return err
		}
	} else {
		var buf bytes.Buffer
		if len(objs) == 0 {
			buf.WriteString("[]")
		} else {
			all, _ := json.Marshal(objs)
			json.Indent(&buf, all, "", "    ")
		}
		fmt.Fprintln(g.stdout, buf.String())
	}
	if len(errs) > 0 {
		return StatusError{Status: strings.Join(errs, "\n"), Code: 1}
	}
	return nil
}

// formatInspect runs docker's -f template on each object, one line each.
// The objects are decoded generically (numbers kept as written), which is
// enough for the usual '{{.State.Pid}}' and '{{json .Config}}'.
func formatInspect(g *Globals, format string, objs []json.RawMessage) error {
	tmpl, err := template.New("inspect").Funcs(templateFuncs).Option("missingkey=zero").Parse(format)
	if err != nil {
		return fmt.Errorf("template parsing error: %v", err)
	}
	for _, raw := range objs {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, v); err != nil {
			return fmt.Errorf("template: %v", err)
		}
		fmt.Fprintln(g.stdout, strings.ReplaceAll(buf.String(), "<no value>", ""))
	}
	return nil
}

// SecurityFlags are run's and create's confinement flags.
type SecurityFlags struct {
	CapAdd      []string `name:"cap-add" sep:"none" help:"Add Linux capabilities."`
	CapDrop     []string `name:"cap-drop" sep:"none" help:"Drop Linux capabilities."`
	Privileged  bool     `help:"Give extended privileges to this container."`
	SecurityOpt []string `name:"security-opt" sep:"none" help:"Security Options."`
	ReadOnly    bool     `name:"read-only" help:"Mount the container's root filesystem as read only."`
	Tmpfs       []string `sep:"none" help:"Mount a tmpfs directory (/path[:options])."`
}

// apply puts the flags into hc, as docker's CLI does: a seccomp profile
// named by path is read here and sent as its JSON (the daemon may run
// elsewhere), and systempaths=unconfined becomes empty MaskedPaths and
// ReadonlyPaths.
func (f *SecurityFlags) apply(hc *container.HostConfig) error {
	hc.CapAdd, hc.CapDrop = f.CapAdd, f.CapDrop
	hc.Privileged, hc.ReadonlyRootfs = f.Privileged, f.ReadOnly
	for _, opt := range f.SecurityOpt {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, _ = strings.Cut(opt, ":")
		}
		switch {
		case k == "seccomp" && v != "unconfined" && v != "builtin" && v != "":
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("opening seccomp profile (%s) failed: %v", v, err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err != nil {
				return fmt.Errorf("compacting json for seccomp profile (%s) failed: %v", v, err)
			}
			opt = "seccomp=" + buf.String()
		case k == "systempaths" && v == "unconfined":
			hc.MaskedPaths, hc.ReadonlyPaths = []string{}, []string{}
			continue
		}
		hc.SecurityOpt = append(hc.SecurityOpt, opt)
	}
	for _, t := range f.Tmpfs {
		dest, opts, _ := strings.Cut(t, ":")
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		hc.Tmpfs[dest] = opts
	}
	return nil
}

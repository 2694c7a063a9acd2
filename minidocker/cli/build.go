package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client/pkg/jsonmessage"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/build"
)

// BuildCommands are the build commands of the article.
type BuildCommands struct {
	Build BuildCmd `cmd:"" help:"Build an image from a Dockerfile."`
}

// BuildCmd is `docker build` with the classic builder: the context
// directory goes to the daemon as a tar (minus what .dockerignore
// excludes), the daemon streams the build's output back.
type BuildCmd struct {
	Tags      []string `short:"t" name:"tag" placeholder:"NAME[:TAG]" help:"Name and optionally a tag (repeatable)."`
	File      string   `short:"f" placeholder:"PATH" help:"Name of the Dockerfile (default: PATH/Dockerfile)."`
	NoCache   bool     `name:"no-cache" help:"Do not use cache when building the image."`
	BuildArgs []string `name:"build-arg" placeholder:"K=V" help:"Set build-time variables (repeatable)."`
	Target    string   `placeholder:"STAGE" help:"Set the target build stage to build."`
	Quiet     bool     `short:"q" help:"Suppress the build output and print image ID on success."`
	Labels    []string `name:"label" placeholder:"K=V" help:"Set metadata for an image (repeatable)."`
	Pull      bool     `help:"Always attempt to pull a newer version of the image."`
	Network   string   `placeholder:"MODE" help:"Networking mode for the RUN instructions (default bridge)."`
	Rm        bool     `default:"true" negatable:"" help:"Remove intermediate containers after a successful build (always: the classic builder here keeps none, so --no-rm is refused)."`
	Path      string   `arg:"" name:"path" help:"Build context: a directory, or - to read a tar or a Dockerfile from stdin."`
}

// Run sends the context to the daemon and shows the build as it runs:
// read the context, spool it (and say its size), send it with the
// options, then show the daemon's output.
func (c *BuildCmd) Run(g *Globals) error {
	spool, err := c.spoolContext(g)
	if err != nil {
		return err
	}
	defer os.Remove(spool.file.Name())
	defer spool.file.Close()
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ImageBuild(g.ctx, spool.file, c.options(spool.dockerfile))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return c.showBuild(g, res.Body)
}

// spooledContext is the build context, written out to a temporary file.
type spooledContext struct {
	file       *os.File
	dockerfile string // the Dockerfile's path inside the context
}

// spoolContext reads the context (a directory, or stdin for -) into a
// temporary file. Spooling first means the size line comes before the
// daemon's output, and a context that cannot be read fails here, before
// the daemon sees anything.
func (c *BuildCmd) spoolContext(g *Globals) (*spooledContext, error) {
	var (
		body       io.ReadCloser
		dockerfile string
		err        error
	)
	if c.Path == "-" {
		body, dockerfile, err = stdinContext(g.stdin, c.File)
	} else {
		body, dockerfile, err = build.PrepareContext(c.Path, c.File)
	}
	if err != nil {
		return nil, err
	}
	defer body.Close()
	f, err := os.CreateTemp("", "minidocker-context-*.tar")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(f, body)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	} else {
		err = fmt.Errorf("unable to prepare context: %v", err)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if !c.Quiet {
		fmt.Fprintf(g.stdout, "%s\r\r\n", build.SendingContextLine(n))
	}
	return &spooledContext{file: f, dockerfile: dockerfile}, nil
}

// options turns the flags into the build request. A --build-arg without
// a value takes the client's environment variable, as in docker (nil
// when it is unset).
func (c *BuildCmd) options(dockerfile string) client.ImageBuildOptions {
	opts := client.ImageBuildOptions{
		Tags: c.Tags, Dockerfile: dockerfile, NoCache: c.NoCache, Target: c.Target,
		SuppressOutput: c.Quiet, PullParent: c.Pull, NetworkMode: c.Network, Remove: c.Rm,
		BuildArgs: map[string]*string{}, Labels: keyValueMap(c.Labels),
	}
	for _, kv := range c.BuildArgs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if ev, found := os.LookupEnv(k); found {
				opts.BuildArgs[k] = &ev
			} else {
				opts.BuildArgs[k] = nil
			}
			continue
		}
		opts.BuildArgs[k] = &v
	}
	return opts
}

// showBuild renders the daemon's JSON stream (only the image ID with -q,
// unless the build fails) and turns a failed step into its exit code.
func (c *BuildCmd) showBuild(g *Globals, stream io.Reader) error {
	var imageID string
	aux := func(m jsonstream.Message) {
		var r struct{ ID string }
		if json.Unmarshal(*m.Aux, &r) == nil && r.ID != "" {
			imageID = r.ID
		}
	}
	out := g.stdout
	var quietBuf bytes.Buffer
	if c.Quiet {
		out = &quietBuf
	}
	fd, isTerm := terminalFd(out)
	if err := jsonmessage.DisplayJSONMessagesStream(stream, out, fd, isTerm, aux); err != nil {
		if c.Quiet {
			g.stderr.Write(quietBuf.Bytes())
		}
		var je *jsonstream.Error
		if errors.As(err, &je) {
			return StatusError{Status: je.Message, Code: max(je.Code, 1)}
		}
		return err
	}
	if c.Quiet && imageID != "" {
		fmt.Fprintln(g.stdout, imageID)
	}
	return nil
}

// stdinContext reads `build -`: either a context tar (maybe compressed) or
// a bare Dockerfile, which becomes a context holding only that file.
func stdinContext(in io.Reader, file string) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(in, 1024)
	head, _ := br.Peek(512)
	isTar := len(head) >= 262 && string(head[257:262]) == "ustar"
	if isTar || archive.DetectCompression(head) != archive.Uncompressed {
		return io.NopCloser(br), file, nil
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	tw := archive.NewWriter(&buf)
	if err := tw.AddFile("Dockerfile", 0o600, time.Now(), int64(len(data)), bytes.NewReader(data)); err != nil {
		return nil, "", err
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return io.NopCloser(&buf), "Dockerfile", nil
}

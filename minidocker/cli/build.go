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

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
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
	Rm        bool     `default:"true" negatable:"" help:"Remove intermediate containers after a successful build (always: the classic builder here keeps none)."`
	Path      string   `arg:"" name:"path" help:"Build context: a directory, or - to read a tar or a Dockerfile from stdin."`
}

func (c *BuildCmd) Run(g *Globals) error {
	var (
		body       io.ReadCloser
		dockerfile = c.File
		err        error
	)
	if c.Path == "-" {
		body, dockerfile, err = stdinContext(g.stdin, c.File)
	} else {
		body, dockerfile, err = build.PrepareContext(c.Path, c.File)
	}
	if err != nil {
		return err
	}
	defer body.Close()

	// The context is spooled to a file first: the size line comes before
	// the daemon's output, and a context that cannot be read fails here.
	spool, err := os.CreateTemp("", "minidocker-context-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	n, err := io.Copy(spool, body)
	if err != nil {
		return fmt.Errorf("unable to prepare context: %v", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if !c.Quiet {
		fmt.Fprintf(g.stdout, "%s\r\r\n", build.SendingContextLine(n))
	}

	opts := client.ImageBuildOptions{
		Tags: c.Tags, Dockerfile: dockerfile, NoCache: c.NoCache, Target: c.Target,
		SuppressOutput: c.Quiet, PullParent: c.Pull, NetworkMode: c.Network, Remove: c.Rm,
		BuildArgs: map[string]*string{}, Labels: map[string]string{},
	}
	for _, kv := range c.BuildArgs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			// docker: a bare name takes its value from the environment
			if ev, found := os.LookupEnv(k); found {
				opts.BuildArgs[k] = &ev
			} else {
				opts.BuildArgs[k] = nil
			}
			continue
		}
		opts.BuildArgs[k] = &v
	}
	for _, kv := range c.Labels {
		k, v, _ := strings.Cut(kv, "=")
		opts.Labels[k] = v
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ImageBuild(g.ctx, spool, opts)
	if err != nil {
		return err
	}
	defer res.Body.Close()

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
	if err := jsonmessage.DisplayJSONMessagesStream(res.Body, out, fd, isTerm, aux); err != nil {
		if c.Quiet {
			g.stderr.Write(quietBuf.Bytes())
		}
		var je *jsonstream.Error
		if errors.As(err, &je) {
			code := je.Code
			if code == 0 {
				code = 1
			}
			return StatusError{Status: je.Message, Code: code}
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

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// ImageCommands are the images commands of the article (section 3, first
// half): the top-level ones (images, pull, push, …) and the `image` group.
type ImageCommands struct {
	Images  ImagesCmd  `cmd:"" help:"List images."`
	Pull    PullCmd    `cmd:"" help:"Download an image from a registry."`
	Push    PushCmd    `cmd:"" help:"Upload an image to a registry."`
	Tag     TagCmd     `cmd:"" help:"Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."`
	Rmi     RmiCmd     `cmd:"" help:"Remove one or more images."`
	History HistoryCmd `cmd:"" help:"Show the history of an image."`
	Save    SaveCmd    `cmd:"" help:"Save one or more images to a tar archive (streamed to STDOUT by default)."`
	Load    LoadCmd    `cmd:"" help:"Load an image from a tar archive or STDIN."`
	Import  ImportCmd  `cmd:"" help:"Import the contents from a tarball to create a filesystem image."`
	Login   LoginCmd   `cmd:"" help:"Authenticate to a registry."`
	Logout  LogoutCmd  `cmd:"" help:"Log out from a registry."`
	Image   ImageCmd   `cmd:"" help:"Manage images."`
}

// ImageCmd is `docker image …`.
type ImageCmd struct {
	Build   BuildCmd        `cmd:"" help:"Build an image from a Dockerfile."`
	Ls      ImagesCmd       `cmd:"" aliases:"list" help:"List images."`
	Inspect ImageInspectCmd `cmd:"" help:"Display detailed information on one or more images."`
	Pull    PullCmd         `cmd:"" help:"Download an image from a registry."`
	Push    PushCmd         `cmd:"" help:"Upload an image to a registry."`
	Tag     TagCmd          `cmd:"" help:"Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."`
	Rm      RmiCmd          `cmd:"" aliases:"remove" help:"Remove one or more images."`
	History HistoryCmd      `cmd:"" help:"Show the history of an image."`
	Save    SaveCmd         `cmd:"" help:"Save one or more images to a tar archive (streamed to STDOUT by default)."`
	Load    LoadCmd         `cmd:"" help:"Load an image from a tar archive or STDIN."`
	Import  ImportCmd       `cmd:"" help:"Import the contents from a tarball to create a filesystem image."`
	Prune   ImagePruneCmd   `cmd:"" help:"Remove unused images."`
}

// ---- images ----

// ImagesCmd is `docker images` / `docker image ls`.
type ImagesCmd struct {
	All     bool     `short:"a" help:"Show all images (default hides intermediate images)."`
	Quiet   bool     `short:"q" help:"Only show image IDs."`
	NoTrunc bool     `name:"no-trunc" help:"Don't truncate output."`
	Digests bool     `help:"Show digests."`
	Filter  []string `short:"f" sep:"none" help:"Filter output based on conditions provided (dangling=true, reference=PATTERN)."`
	Repo    string   `arg:"" optional:"" name:"repository" help:"Only images of this repository[:tag]."`
}

// Run lists the images in docker's columns, newest first.
func (c *ImagesCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	f, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	if c.Repo != "" {
		f.Add("reference", c.Repo)
	}
	res, err := cli.ImageList(g.ctx, client.ImageListOptions{All: c.All, Filters: f})
	if err != nil {
		return err
	}
	items := res.Items
	sort.SliceStable(items, func(i, j int) bool { return items[i].Created > items[j].Created })
	if c.Quiet {
		seen := map[string]bool{}
		for _, im := range items {
			id := shortImageID(im.ID, c.NoTrunc)
			if !seen[id] {
				seen[id] = true
				fmt.Fprintln(g.stdout, id)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	if c.Digests {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
	} else {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, im := range items {
		type row struct{ repo, tag, digest string }
		var rows []row
		digestOf := func(repo string) string {
			for _, d := range im.RepoDigests {
				if r, dg, ok := strings.Cut(d, "@"); ok && r == repo {
					return dg
				}
			}
			return "<none>"
		}
		for _, rt := range im.RepoTags {
			repo, tag := splitRepoTag(rt)
			rows = append(rows, row{repo, tag, digestOf(repo)})
		}
		// A repository known only by digest (pulled by digest, or its
		// tags moved on) gets a row with a <none> tag, as in docker.
		for _, d := range im.RepoDigests {
			repo, dg, _ := strings.Cut(d, "@")
			tagged := false
			for _, r := range rows {
				tagged = tagged || r.repo == repo
			}
			if !tagged {
				rows = append(rows, row{repo, "<none>", dg})
			}
		}
		if len(rows) == 0 {
			rows = append(rows, row{"<none>", "<none>", "<none>"})
		}
		for _, r := range rows {
			id := shortImageID(im.ID, c.NoTrunc)
			created := humanAgo(im.Created)
			size := units.HumanSizeWithPrecision(float64(im.Size), 3)
			if c.Digests {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.repo, r.tag, r.digest, id, created, size)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.repo, r.tag, id, created, size)
			}
		}
	}
	return tw.Flush()
}

// splitRepoTag splits "host:5000/app:v1" into "host:5000/app" and "v1".
func splitRepoTag(s string) (string, string) {
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		return s[:i], s[i+1:]
	}
	return s, "<none>"
}

func shortImageID(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// humanAgo is docker's CREATED column: "2 weeks ago".
func humanAgo(unix int64) string {
	return units.HumanDuration(time.Now().UTC().Sub(time.Unix(unix, 0))) + " ago"
}

// ---- pull / push ----

// withDefaultTag parses an image name for pull and push, adding docker's
// default tag (and saying so, unless quiet) when the name has none.
func (g *Globals) withDefaultTag(name string, quiet bool) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, err
	}
	if reference.IsNameOnly(named) {
		named = reference.TagNameOnly(named)
		if !quiet {
			fmt.Fprintln(g.stdout, "Using default tag: latest")
		}
	}
	return named, nil
}

// showProgress renders a daemon's JSON message stream (pull, push, load,
// import) as docker does: bars redrawn in place on a terminal, plain lines
// otherwise. Aux messages (push's digest) are not printed.
func showProgress(r io.Reader, out io.Writer) error {
	fd, isTerm := terminalFd(out)
	return jsonmessage.DisplayJSONMessagesStream(r, out, fd, isTerm, nil)
}

// PullCmd is `docker pull`.
type PullCmd struct {
	Quiet bool   `short:"q" help:"Suppress verbose output."`
	Name  string `arg:"" name:"image" help:"NAME[:TAG|@DIGEST]"`
}

// Run downloads the image, showing the progress.
func (c *PullCmd) Run(g *Globals) error {
	named, err := g.withDefaultTag(c.Name, c.Quiet)
	if err != nil {
		return err
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	resp, err := cli.ImagePull(g.ctx, reference.FamiliarString(named), client.ImagePullOptions{RegistryAuth: encodedAuthFor(named)})
	if err != nil {
		return err
	}
	defer resp.Close()
	out := g.stdout
	if c.Quiet {
		out = io.Discard
	}
	if err := showProgress(resp, out); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, named.String())
	return nil
}

// PushCmd is `docker push`.
type PushCmd struct {
	Quiet bool   `short:"q" help:"Suppress verbose output."`
	Name  string `arg:"" name:"image" help:"NAME[:TAG]"`
}

// Run uploads the image, showing the progress.
func (c *PushCmd) Run(g *Globals) error {
	named, err := g.withDefaultTag(c.Name, c.Quiet)
	if err != nil {
		return err
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	resp, err := cli.ImagePush(g.ctx, reference.FamiliarString(named), client.ImagePushOptions{RegistryAuth: encodedAuthFor(named)})
	if err != nil {
		return err
	}
	defer resp.Close()
	out := g.stdout
	if c.Quiet {
		out = io.Discard
	}
	if err := showProgress(resp, out); err != nil {
		return err
	}
	if c.Quiet {
		fmt.Fprintln(g.stdout, reference.FamiliarString(named))
	}
	return nil
}

// ---- tag / rmi ----

// TagCmd is `docker tag`.
type TagCmd struct {
	Source string `arg:"" name:"source-image" help:"SOURCE_IMAGE[:TAG]"`
	Target string `arg:"" name:"target-image" help:"TARGET_IMAGE[:TAG]"`
}

// Run makes TARGET_IMAGE name the image SOURCE_IMAGE names.
func (c *TagCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	_, err = cli.ImageTag(g.ctx, client.ImageTagOptions{Source: c.Source, Target: c.Target})
	return err
}

// RmiCmd is `docker rmi` / `docker image rm`.
type RmiCmd struct {
	Force   bool     `short:"f" help:"Force removal of the image."`
	NoPrune bool     `name:"no-prune" help:"Do not delete untagged parents."`
	Images  []string `arg:"" name:"image"`
}

// Run removes each image, printing what was untagged and deleted.
func (c *RmiCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return g.each(c.Images, func(ref string) error {
		res, err := cli.ImageRemove(g.ctx, ref, client.ImageRemoveOptions{Force: c.Force, PruneChildren: !c.NoPrune})
		if err != nil {
			return err
		}
		for _, it := range res.Items {
			if it.Untagged != "" {
				fmt.Fprintln(g.stdout, "Untagged:", it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Fprintln(g.stdout, "Deleted:", it.Deleted)
			}
		}
		return nil
	})
}

// ---- inspect / history ----

// ImageInspectCmd is `docker image inspect` (`docker inspect` in
// containers_run.go tries containers first, then images).
type ImageInspectCmd struct {
	Format string   `short:"f" help:"Format output using a custom template."`
	Images []string `arg:"" name:"image"`
}

// Run prints each image's JSON, or the -f template.
func (c *ImageInspectCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	return inspectEach(g, c.Format, c.Images, func(ref string) (json.RawMessage, error) {
		var raw bytes.Buffer
		if _, err := cli.ImageInspect(g.ctx, ref, client.ImageInspectWithRawResponse(&raw)); err != nil {
			if client.IsErrConnectionFailed(err) {
				return nil, err
			}
			return nil, errors.New("Error response from daemon: No such image: " + ref)
		}
		return json.RawMessage(bytes.TrimSpace(raw.Bytes())), nil
	})
}

// HistoryCmd is `docker history`. docker's -H (--human) is spelled
// --human here only, because -H is the daemon host for every command.
type HistoryCmd struct {
	Human   bool   `default:"true" negatable:"" help:"Print sizes and dates in human readable format (--no-human for raw)."`
	NoTrunc bool   `name:"no-trunc" help:"Don't truncate output."`
	Quiet   bool   `short:"q" help:"Only show image IDs."`
	Image   string `arg:"" name:"image"`
}

// Run lists the image's layers with the instructions that made them.
func (c *HistoryCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ImageHistory(g.ctx, c.Image)
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, h := range res.Items {
			fmt.Fprintln(g.stdout, historyID(h.ID, c.NoTrunc))
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
	for _, h := range res.Items {
		created := time.Unix(h.Created, 0).Format(time.RFC3339)
		size := fmt.Sprint(h.Size)
		if c.Human {
			created = humanAgo(h.Created)
			if h.Created == 0 {
				created = "N/A" // as docker's history table
			}
			size = units.HumanSizeWithPrecision(float64(h.Size), 3)
		}
		by := strings.ReplaceAll(h.CreatedBy, "\t", " ")
		if !c.NoTrunc {
			by = ellipsis(by, 45)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", historyID(h.ID, c.NoTrunc), created, by, size, h.Comment)
	}
	return tw.Flush()
}

func historyID(id string, noTrunc bool) string {
	if id == "<missing>" || noTrunc {
		return id
	}
	return shortImageID(id, false)
}

// ellipsis cuts s to n characters, the last one "…", as docker's tables do.
func ellipsis(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ---- save / load / import ----

// SaveCmd is `docker save`.
type SaveCmd struct {
	Output string   `short:"o" help:"Write to a file, instead of STDOUT."`
	Images []string `arg:"" name:"image"`
}

// Run writes the images as a tar archive to -o or stdout.
func (c *SaveCmd) Run(g *Globals) error {
	if c.Output == "" {
		if _, isTerm := terminalFd(g.stdout); isTerm {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	rc, err := cli.ImageSave(g.ctx, c.Images)
	if err != nil {
		return err
	}
	defer rc.Close()
	if c.Output == "" {
		_, err = io.Copy(g.stdout, rc)
		return err
	}
	return writeFileAtomically(c.Output, rc, "failed to save image")
}

// writeFileAtomically writes r into a temporary file next to target,
// renamed at the end (mode 0600, as docker's CLI writes archives): an
// interrupted save or export leaves no half archive under the asked name.
// failure prefixes the errors, in docker's words.
func writeFileAtomically(target string, r io.Reader, failure string) error {
	tmp, err := os.CreateTemp(filepath.Dir(target), ".minidocker_temp_")
	if err != nil {
		return fmt.Errorf("%s: %w", failure, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", failure, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// LoadCmd is `docker load`.
type LoadCmd struct {
	Input string `short:"i" help:"Read from tar archive file, instead of STDIN."`
	Quiet bool   `short:"q" help:"Suppress the load output."`
}

// Run reads an image archive from -i or stdin into the daemon.
func (c *LoadCmd) Run(g *Globals) error {
	var in io.Reader = g.stdin
	if c.Input != "" {
		f, err := os.Open(c.Input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if f, ok := g.stdin.(*os.File); ok && isTerminal(f.Fd()) {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	_, isTerm := terminalFd(g.stdout)
	quiet := c.Quiet || !isTerm
	res, err := cli.ImageLoad(g.ctx, in, client.ImageLoadWithQuiet(quiet))
	if err != nil {
		return err
	}
	defer res.Close()
	return showProgress(res, g.stdout)
}

// ImportCmd is `docker import`.
type ImportCmd struct {
	Change  []string `short:"c" sep:"none" help:"Apply Dockerfile instruction to the created image."`
	Message string   `short:"m" help:"Set commit message for imported image."`
	File    string   `arg:"" name:"file" help:"A tar file (plain or gzip), or - for STDIN."`
	Ref     string   `arg:"" optional:"" name:"reference" help:"REPOSITORY[:TAG]"`
}

// Run makes a one-layer image from a tarball (a file, or - for stdin).
func (c *ImportCmd) Run(g *Globals) error {
	var in io.Reader = g.stdin
	if c.File != "-" {
		if strings.Contains(c.File, "://") {
			return errors.New("import from a URL is not supported: download the file first")
		}
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	res, err := cli.ImageImport(g.ctx, client.ImageImportSource{Source: in, SourceName: "-"}, c.Ref,
		client.ImageImportOptions{Message: c.Message, Changes: c.Change})
	if err != nil {
		return err
	}
	defer res.Close()
	return showProgress(res, g.stdout)
}

// ImagePruneCmd is `docker image prune`.
type ImagePruneCmd struct {
	All   bool `short:"a" help:"Remove all unused images, not just dangling ones."`
	Force bool `short:"f" help:"Do not prompt for confirmation."`
}

// Run asks (unless -f), removes the unused images and says what went.
func (c *ImagePruneCmd) Run(g *Globals) error {
	if !c.Force {
		warning := "WARNING! This will remove all dangling images."
		if c.All {
			warning = "WARNING! This will remove all images without at least one container associated to them."
		}
		if !g.confirm(warning) {
			return nil
		}
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	f := client.Filters{}
	if c.All {
		f.Add("dangling", "false")
	}
	res, err := cli.ImagePrune(g.ctx, client.ImagePruneOptions{Filters: f})
	if err != nil {
		return err
	}
	if len(res.Report.ImagesDeleted) > 0 {
		fmt.Fprintln(g.stdout, "Deleted Images:")
		for _, it := range res.Report.ImagesDeleted {
			if it.Untagged != "" {
				fmt.Fprintln(g.stdout, "untagged:", it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Fprintln(g.stdout, "deleted:", it.Deleted)
			}
		}
		fmt.Fprintln(g.stdout)
	}
	fmt.Fprintln(g.stdout, "Total reclaimed space:", units.HumanSize(float64(res.Report.SpaceReclaimed)))
	return nil
}

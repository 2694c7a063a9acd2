package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// ContextTar is the client side of a build: it tars dir for POST /build,
// leaving out what .dockerignore excludes (the Dockerfile and .dockerignore
// themselves are always sent, as the docker CLI does). dockerfile is the
// -f value ("" = "Dockerfile"), relative to dir or absolute; it must be
// inside dir — use PrepareContext for a Dockerfile outside the context.
func ContextTar(dir, dockerfile string) (io.ReadCloser, error) {
	rc, _, err := PrepareContext(dir, dockerfile)
	return rc, err
}

// PrepareContext is ContextTar that also accepts a Dockerfile outside dir:
// it is then added to the tar under a random ".dockerfile.<hex>" name, as
// the docker CLI does. It returns the name to send as ?dockerfile=.
func PrepareContext(dir, dockerfile string) (io.ReadCloser, string, error) {
	realCtx, realDF, err := resolveContextPaths(dir, dockerfile)
	if err != nil {
		return nil, "", err
	}
	dfName := ""
	extra := ""
	if rel, err := filepath.Rel(realCtx, realDF); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		dfName = filepath.ToSlash(rel)
	} else {
		dfName = ".dockerfile." + stringid.RandomHex(10)
		extra = realDF
	}
	ign, err := readDockerignore(realCtx)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: %v", err)
	}
	pr, pw := io.Pipe()
	go func() {
		tw := archive.NewWriter(pw)
		err := writeContextTar(tw, realCtx, ign, dfName, extra)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, dfName, nil
}

// resolveContextPaths is the context directory and the Dockerfile with
// symlinks resolved, found as the docker CLI finds them.
func resolveContextPaths(dir, dockerfile string) (realCtx, realDF string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", "", fmt.Errorf("unable to prepare context: path %q not found", dir)
	}
	if !fi.IsDir() {
		return "", "", fmt.Errorf("unable to prepare context: context must be a directory: %s", abs)
	}
	if dockerfile == "" {
		dockerfile = filepath.Join(abs, "Dockerfile")
	} else if !filepath.IsAbs(dockerfile) {
		// the docker CLI resolves a relative -f against the current
		// directory when it exists there, else against the context
		if _, err := os.Lstat(dockerfile); err == nil {
			dockerfile, _ = filepath.Abs(dockerfile)
		} else {
			dockerfile = filepath.Join(abs, dockerfile)
		}
	}
	realDF, err = filepath.EvalSymlinks(dockerfile)
	if err != nil {
		var pe *fs.PathError
		if ok := asPathError(err, &pe); ok {
			return "", "", fmt.Errorf("unable to prepare context: unable to evaluate symlinks in Dockerfile path: %v", err)
		}
		return "", "", fmt.Errorf("unable to prepare context: %v", err)
	}
	realCtx, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return "", "", fmt.Errorf("unable to prepare context: %v", err)
	}
	return realCtx, realDF, nil
}

// writeContextTar writes the context as PrepareContext sends it. A
// Dockerfile from outside the context (extra) goes in under its random
// name dfName, and that name is added to .dockerignore so that the daemon
// keeps it out of COPY/ADD (the docker CLI does the same).
func writeContextTar(tw *archive.Writer, realCtx string, ign *ignoreRules, dfName, extra string) error {
	keep := map[string]bool{".dockerignore": true}
	if extra == "" {
		keep[dfName] = true
		return writeContext(tw, realCtx, ign, keep)
	}
	delete(keep, ".dockerignore")
	// (the walk skips the original .dockerignore: a last rule wins)
	withIgnore, err := newIgnoreRules(append(slices.Clip(ign.patterns), ".dockerignore"))
	if err != nil {
		return err
	}
	if err := writeContext(tw, realCtx, withIgnore, keep); err != nil {
		return err
	}
	if err := addIgnoreWith(tw, realCtx, dfName); err != nil {
		return err
	}
	return addFile(tw, extra, dfName)
}

// addIgnoreWith writes the context's .dockerignore (or a new one) with
// name appended as one more pattern.
func addIgnoreWith(tw *archive.Writer, ctxDir, name string) error {
	data, err := os.ReadFile(filepath.Join(ctxDir, ".dockerignore"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	data = append(data, []byte("\n"+name+"\n")...)
	return tw.AddFile(".dockerignore", 0o600, time.Now().Truncate(time.Second), int64(len(data)), bytes.NewReader(data))
}

func asPathError(err error, target **fs.PathError) bool {
	pe, ok := err.(*fs.PathError)
	if ok {
		*target = pe
	}
	return ok
}

// writeContext adds the context directory's contents to tw, leaving out
// what .dockerignore excludes (except the names in keep). Entries are owned
// by 0:0, as the docker CLI sends them.
func writeContext(tw *archive.Writer, dir string, ign *ignoreRules, keep map[string]bool) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	exclude := func(rel string, isDir bool) (skip, prune bool) {
		if keep[rel] || !ign.excluded(rel) {
			return false, false
		}
		// an excluded directory is still walked when a "!" rule may take
		// something below it back
		return true, !ign.mayReinclude(rel)
	}
	return tw.AddTree(context.Background(), root, ".", archive.WriteOptions{RootOwned: true, Exclude: exclude})
}

// addFile adds the file p (outside the context: a -f Dockerfile) as name.
func addFile(tw *archive.Writer, p, name string) error {
	root, err := os.OpenRoot(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer root.Close()
	return tw.AddTree(context.Background(), root, filepath.Base(p), archive.WriteOptions{Name: name, RootOwned: true})
}

// ignoreRules are the patterns of a .dockerignore, matched by moby's
// patternmatcher, the code the docker CLI and BuildKit use: '#' comments,
// '!' re-includes, '*' '?' '[…]' within a path element, '**' across
// elements; a pattern matching a directory excludes what is below it; the
// last matching line wins.
type ignoreRules struct {
	patterns []string
	pm       *patternmatcher.PatternMatcher // nil: nothing is excluded
}

// newIgnoreRules compiles patterns.
func newIgnoreRules(patterns []string) (*ignoreRules, error) {
	if len(patterns) == 0 {
		return &ignoreRules{}, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("syntax error in .dockerignore: %v", err)
	}
	return &ignoreRules{patterns: patterns, pm: pm}, nil
}

func readDockerignore(dir string) (*ignoreRules, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return &ignoreRules{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseIgnore(f)
}

func parseIgnore(r io.Reader) (*ignoreRules, error) {
	patterns, err := ignorefile.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return newIgnoreRules(patterns)
}

// excluded reports whether rel (slash-separated) is left out.
func (ig *ignoreRules) excluded(rel string) bool {
	if ig == nil || ig.pm == nil {
		return false
	}
	m, _ := ig.pm.MatchesOrParentMatches(rel) // patterns were checked by New
	return m
}

// mayReinclude reports whether a '!' pattern could take back something
// below the excluded directory dir, so the walk must still enter it (the
// docker CLI's rule: an exclusion pattern that starts with "dir/").
func (ig *ignoreRules) mayReinclude(dir string) bool {
	if ig == nil || ig.pm == nil || !ig.pm.Exclusions() {
		return false
	}
	for _, p := range ig.pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(p.String()+"/", dir+"/") {
			return true
		}
	}
	return false
}

// SendingContextLine is the docker CLI's progress line for the context
// upload, e.g. "Sending build context to Docker daemon  6.191kB" (two
// spaces; the CLI rewrites it with "\r" while sending and ends it with
// "\r\r\n" at the end, as api/build.txt shows).
func SendingContextLine(n int64) string {
	return "Sending build context to Docker daemon  " + units.HumanSize(float64(n))
}

package build

import (
	"archive/tar"
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	units "github.com/docker/go-units"
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
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: path %q not found", dir)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("unable to prepare context: context must be a directory: %s", abs)
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
	realDF, err := filepath.EvalSymlinks(dockerfile)
	if err != nil {
		var pe *fs.PathError
		if ok := asPathError(err, &pe); ok {
			return nil, "", fmt.Errorf("unable to prepare context: unable to evaluate symlinks in Dockerfile path: %v", err)
		}
		return nil, "", fmt.Errorf("unable to prepare context: %v", err)
	}
	realCtx, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: %v", err)
	}
	dfName := ""
	extra := ""
	if rel, err := filepath.Rel(realCtx, realDF); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		dfName = filepath.ToSlash(rel)
	} else {
		var b [10]byte
		rand.Read(b[:])
		dfName = ".dockerfile." + hex.EncodeToString(b[:])
		extra = realDF
	}

	ign, err := readDockerignore(realCtx)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: %v", err)
	}
	keep := map[string]bool{".dockerignore": true}
	if extra == "" {
		keep[dfName] = true
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		if extra == "" {
			err = writeContext(tw, realCtx, ign, keep)
		} else {
			// The Dockerfile from outside goes in under its random name,
			// and that name is added to .dockerignore so that the daemon
			// keeps it out of COPY/ADD (the docker CLI does the same).
			delete(keep, ".dockerignore")
			// (the walk skips the original .dockerignore: a last rule wins)
			rules := append(slices.Clip(ign.rules), ignoreRule{re: regexp.MustCompile(`^\.dockerignore$`)})
			err = writeContext(tw, realCtx, &ignoreRules{rules: rules}, keep)
			if err == nil {
				err = addIgnoreWith(tw, realCtx, dfName)
			}
			if err == nil {
				err = addFile(tw, extra, dfName)
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, dfName, nil
}

// addIgnoreWith writes the context's .dockerignore (or a new one) with
// name appended as one more pattern.
func addIgnoreWith(tw *tar.Writer, ctxDir, name string) error {
	data, err := os.ReadFile(filepath.Join(ctxDir, ".dockerignore"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	data = append(data, []byte("\n"+name+"\n")...)
	hdr := &tar.Header{Name: ".dockerignore", Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(data)),
		ModTime: time.Now().Truncate(time.Second), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}

func asPathError(err error, target **fs.PathError) bool {
	pe, ok := err.(*fs.PathError)
	if ok {
		*target = pe
	}
	return ok
}

func writeContext(tw *tar.Writer, root string, ign *ignoreRules, keep map[string]bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if !keep[rel] && ign.excluded(rel) {
			if d.IsDir() && !ign.mayReinclude(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		return addFile(tw, p, rel)
	})
}

func addFile(tw *tar.Writer, p, name string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	case fi.Mode().IsRegular(), fi.IsDir():
	default:
		return nil // sockets, fifos, devices are not sent
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	// as the docker CLI's archiver: whole seconds, no atime/ctime, so no
	// PAX records are needed (the context is as big as docker's)
	hdr.ModTime = hdr.ModTime.Truncate(time.Second)
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Format = tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

// ignoreRules are .dockerignore patterns: one per line, '#' comments,
// '!' re-includes, '*' '?' '[…]' within a path element, '**' across
// elements; a pattern matching a directory excludes what is below it;
// the last matching line wins.
type ignoreRules struct {
	rules []ignoreRule
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
	dirs   []string // literal leading elements (for mayReinclude)
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
	var out ignoreRules
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := false
		if strings.HasPrefix(line, "!") {
			neg = true
			line = strings.TrimSpace(line[1:])
		}
		line = filepath.ToSlash(filepath.Clean(line))
		line = strings.TrimPrefix(line, "/")
		if line == "" || line == "." {
			continue
		}
		re, err := globRegexp(line)
		if err != nil {
			return nil, fmt.Errorf("syntax error in .dockerignore pattern %q: %v", line, err)
		}
		out.rules = append(out.rules, ignoreRule{re: re, negate: neg, dirs: strings.Split(line, "/")})
	}
	return &out, sc.Err()
}

func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			cls := p[i+1 : i+j]
			if strings.HasPrefix(cls, "!") {
				cls = "^" + cls[1:]
			}
			b.WriteString("[" + cls + "]")
			i += j
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// excluded reports whether rel (slash-separated) is left out.
func (ig *ignoreRules) excluded(rel string) bool {
	if ig == nil || len(ig.rules) == 0 {
		return false
	}
	// candidate names: rel and each parent
	var cands []string
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		cands = append(cands, p)
	}
	excl := false
	for _, r := range ig.rules {
		for _, c := range cands {
			if r.re.MatchString(c) {
				excl = !r.negate
				break
			}
		}
	}
	return excl
}

// mayReinclude: could a '!' rule bring back something below dir?
func (ig *ignoreRules) mayReinclude(dir string) bool {
	for _, r := range ig.rules {
		if !r.negate {
			continue
		}
		elems := strings.Split(dir, "/")
		ok := true
		for i, e := range elems {
			if i >= len(r.dirs) {
				break
			}
			if strings.Contains(r.dirs[i], "**") {
				break
			}
			if m, _ := path.Match(r.dirs[i], e); !m {
				ok = false
				break
			}
		}
		if ok {
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

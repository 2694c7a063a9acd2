package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Problem is one broken reference in a chapter.
type Problem struct {
	File string
	Line int
	What string
}

var (
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// code and documents of the repository, by path or by bare file name
	// (data files such as daemon.json or exit.json are the daemon's, not ours)
	namedFile = regexp.MustCompile("`((?:minidocker|chapters|labs|scripts|vagrant)/[A-Za-z0-9_./-]+|[A-Za-z0-9_./-]+\\.(?:go|sh|md|service))`")
	// `Name`, `(*recv).Name`, `A`/`B` … in `file.go`
	funcsInFile = regexp.MustCompile("((?:`[A-Za-z_(*).]+`[,/ and→]*)+)\\s+in\\s+`([A-Za-z0-9_./-]+\\.go)`")
	identifier  = regexp.MustCompile("`(\\(\\*?\\w+\\)\\.)?(\\w+)`")
	// what must never appear: paths and documents of the authors' machines
	outside = regexp.MustCompile(`\.\./shared|/work/|DESIGN|§|docker-intro\.zh`)
)

// CheckReferences reports the links, file names and function names in one
// markdown file that do not resolve inside the repository at repo, and
// any text that points outside it.
func CheckReferences(repo, file string) ([]Problem, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var ps []Problem
	upstream := false // the paragraph or list item is about another project's source
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "#") {
			upstream = false
		}
		upstream = upstream || otherProject.MatchString(line)
		for _, what := range checkLine(repo, filepath.Dir(file), line) {
			if upstream && strings.HasPrefix(what, "no such file") {
				continue // e.g. "runc does the same in `libcontainer/rootfs_linux.go`"
			}
			ps = append(ps, Problem{File: file, Line: i + 1, What: what})
		}
	}
	return ps, nil
}

// otherProject names the projects whose source files a chapter may point
// to for comparison; their paths are not ours to resolve.
var otherProject = regexp.MustCompile(`\b(runc|moby|containerd|BuildKit|buildkit|crun|tini|Kubernetes)\b`)

func checkLine(repo, dir, line string) []string {
	var bad []string
	if m := outside.FindString(line); m != "" {
		bad = append(bad, "refers outside the repository: "+m)
	}
	for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
		target := strings.SplitN(m[1], "#", 2)[0]
		if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		p := filepath.Join(dir, target)
		if rel, err := filepath.Rel(repo, p); err != nil || strings.HasPrefix(rel, "..") {
			bad = append(bad, "link leaves the repository: "+m[1])
		} else if _, err := os.Stat(p); err != nil {
			bad = append(bad, "broken link: "+m[1])
		}
	}
	for _, m := range namedFile.FindAllStringSubmatch(line, -1) {
		if !strings.HasPrefix(m[1], "/") && ResolveFile(repo, dir, m[1]) == "" {
			bad = append(bad, "no such file in the repository: "+m[1])
		}
	}
	for _, m := range funcsInFile.FindAllStringSubmatch(line, -1) {
		path := ResolveFile(repo, dir, m[2])
		if path == "" {
			continue // reported above
		}
		src, _ := os.ReadFile(path)
		for _, id := range identifier.FindAllStringSubmatch(m[1], -1) {
			if !declares(string(src), id[2]) {
				bad = append(bad, "`"+id[2]+"` is not declared in "+m[2])
			}
		}
	}
	return bad
}

// ResolveFile finds a file a chapter names: relative to the chapter, to
// the repository, to minidocker/, or, for a bare file name, anywhere in
// the repository's Go packages and scripts. It returns "" when none exists.
func ResolveFile(repo, dir, name string) string {
	for _, base := range []string{dir, repo, filepath.Join(repo, "minidocker")} {
		if p := filepath.Join(base, name); exists(p) {
			return p
		}
	}
	var found string
	_ = filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipDir
		}
		if d.IsDir() && (d.Name() == ".git" || p == filepath.Join(repo, "build") || p == filepath.Join(repo, "bin")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, "/"+name) {
			found = p
		}
		return nil
	})
	return found
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// declares reports whether Go source declares name: a function, a method,
// a type, a variable or a constant.
func declares(src, name string) bool {
	re := regexp.MustCompile(`(?m)^(func (\([^)]*\) )?` + name + `\b|type ` + name + `\b|\s*(var|const)?\s*` + name + `\s*(=|[A-Za-z*\[])|func ` + name + `\[)`)
	return re.MatchString(src)
}

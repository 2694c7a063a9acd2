package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
)

// The marker lines around a carved body. Only whole comment lines count, so
// a string or a doc comment that mentions a marker is not one.
var markerLine = regexp.MustCompile(`^\s*// exercise:(begin|end) (\S+)\s*$`)

// span is one region in a file: lines[begin] is the begin marker and
// lines[end] the end marker; the body is the lines strictly between.
type span struct{ begin, end int }

// splitLines splits text into lines that keep their "\n", so that joining
// them gives back the very same bytes.
func splitLines(text string) []string {
	return strings.SplitAfter(text, "\n")
}

// findSpans returns the regions of exercise id in a file's lines, in order.
// Markers must pair up and may not nest or overlap another exercise's.
func findSpans(lines []string, id, file string) ([]span, error) {
	var spans []span
	open := -1
	openID := ""
	for i, l := range lines {
		m := markerLine.FindStringSubmatch(strings.TrimRight(l, "\n"))
		if m == nil {
			continue
		}
		kind, mid := m[1], m[2]
		switch {
		case kind == "begin" && open >= 0:
			return nil, fmt.Errorf("%s:%d: exercise:begin %s inside the region of %s", file, i+1, mid, openID)
		case kind == "begin":
			open, openID = i, mid
		case open < 0 || mid != openID:
			return nil, fmt.Errorf("%s:%d: exercise:end %s without its begin", file, i+1, mid)
		default:
			if mid == id {
				spans = append(spans, span{open, i})
			}
			open = -1
		}
	}
	if open >= 0 {
		return nil, fmt.Errorf("%s:%d: exercise:begin %s is never ended", file, open+1, openID)
	}
	return spans, nil
}

// fileRegions groups an exercise's regions by file, keeping their order.
func (ex *Exercise) fileRegions() (files []string, byFile map[string][]int) {
	byFile = map[string][]int{}
	for i, r := range ex.Regions {
		if _, ok := byFile[r.File]; !ok {
			files = append(files, r.File)
		}
		byFile[r.File] = append(byFile[r.File], i)
	}
	return files, byFile
}

// bodies returns the current text of every region of ex (what sits between
// its markers now), indexed like ex.Regions.
func (c *Course) bodies(ex *Exercise) ([]string, error) {
	out := make([]string, len(ex.Regions))
	files, byFile := ex.fileRegions()
	for _, f := range files {
		lines, spans, err := c.regionsIn(ex, f, len(byFile[f]))
		if err != nil {
			return nil, err
		}
		for k, ri := range byFile[f] {
			out[ri] = strings.Join(lines[spans[k].begin+1:spans[k].end], "")
		}
	}
	return out, nil
}

// regionsIn reads one file and finds exactly want regions of ex in it.
func (c *Course) regionsIn(ex *Exercise, file string, want int) ([]string, []span, error) {
	b, err := os.ReadFile(filepath.Join(c.root, file))
	if err != nil {
		return nil, nil, err
	}
	lines := splitLines(string(b))
	spans, err := findSpans(lines, ex.ID, file)
	if err != nil {
		return nil, nil, err
	}
	if len(spans) != want {
		return nil, nil, fmt.Errorf("%s: %d region(s) of %s marked, exercise.json lists %d", file, len(spans), ex.ID, want)
	}
	return lines, spans, nil
}

// replaceBodies writes texts (indexed like ex.Regions) between the markers
// of every region of ex, file by file, each file replaced atomically.
func (c *Course) replaceBodies(ex *Exercise, texts []string) error {
	files, byFile := ex.fileRegions()
	for _, f := range files {
		lines, spans, err := c.regionsIn(ex, f, len(byFile[f]))
		if err != nil {
			return err
		}
		var b strings.Builder
		prev := 0
		for k, ri := range byFile[f] {
			b.WriteString(strings.Join(lines[prev:spans[k].begin+1], ""))
			b.WriteString(texts[ri])
			prev = spans[k].end
		}
		b.WriteString(strings.Join(lines[prev:], ""))
		if err := writeSame(filepath.Join(c.root, f), []byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}

// writeSame replaces a file's content, keeping its permission bits.
func writeSame(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, atomicfile.Options{Perm: fi.Mode().Perm()})
}

// skeletons reads the skeleton of every region of ex; each ends in a newline.
func (c *Course) skeletons(ex *Exercise) ([]string, error) {
	out := make([]string, len(ex.Regions))
	for i, r := range ex.Regions {
		b, err := os.ReadFile(filepath.Join(c.root, ex.dir, r.Skeleton))
		if err != nil {
			return nil, err
		}
		s := string(b)
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		out[i] = s
	}
	return out, nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Exercise is one labs/NN-*/exercises/<id>/exercise.json.
type Exercise struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Chapter    string   `json:"chapter"`    // e.g. "04-dockerfile"
	Difficulty string   `json:"difficulty"` // "★", "★★" or "★★★"
	Time       string   `json:"time"`       // an estimate, e.g. "2h"
	NeedsRoot  bool     `json:"needs_root"`
	Statement  string   `json:"statement"` // the chapter file that states it
	Regions    []Region `json:"regions"`
	Grader     []Check  `json:"grader"`

	dir string // the exercise's directory, relative to the repository
}

// Region is one marked function body and the skeleton that replaces it.
// When a file holds several regions of one exercise, they are listed in
// the order they appear in the file.
type Region struct {
	File     string `json:"file"`     // relative to the repository
	Skeleton string `json:"skeleton"` // relative to the exercise's directory
}

// Check is one line of the grader: a go test run worth some points.
type Check struct {
	Name    string `json:"name"`
	Points  int    `json:"points"`
	Package string `json:"package"` // e.g. "./minidocker/network"
	Run     string `json:"run"`     // a -run regexp of top-level tests
	Root    bool   `json:"root"`    // needs root (or the course VM)
	Binary  bool   `json:"binary"`  // drives bin/minidocker (rebuilt from the tree first)
	Timeout string `json:"timeout"` // go test -timeout; default 2m
}

func (c Check) timeout() time.Duration {
	if d, err := time.ParseDuration(c.Timeout); err == nil && d > 0 {
		return d
	}
	return 2 * time.Minute
}

// Course is every exercise of the tree.
type Course struct {
	root      string
	exercises []*Exercise
	state     string // the state directory, root/.exercises
}

var idPattern = regexp.MustCompile(`^0[1-9]-[a-z0-9-]+$`)

// loadCourse reads and validates every exercise.json under labs/.
func loadCourse(root string) (*Course, error) {
	files, err := filepath.Glob(filepath.Join(root, "labs", "*", "exercises", "*", "exercise.json"))
	if err != nil {
		return nil, err
	}
	c := &Course{root: root, state: filepath.Join(root, ".exercises")}
	seen := map[string]bool{}
	for _, f := range files {
		ex, err := loadExercise(root, f)
		if err != nil {
			return nil, err
		}
		if seen[ex.ID] {
			return nil, fmt.Errorf("exercise %s is defined twice", ex.ID)
		}
		seen[ex.ID] = true
		c.exercises = append(c.exercises, ex)
	}
	sort.Slice(c.exercises, func(i, j int) bool { return c.exercises[i].ID < c.exercises[j].ID })
	return c, nil
}

func loadExercise(root, file string) (*Exercise, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	ex := &Exercise{}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ex); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	rel, _ := filepath.Rel(root, filepath.Dir(file))
	ex.dir = rel
	if err := ex.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return ex, nil
}

func (ex *Exercise) validate() error {
	switch {
	case !idPattern.MatchString(ex.ID):
		return fmt.Errorf("id %q is not NN-name", ex.ID)
	case filepath.Base(ex.dir) != ex.ID:
		return fmt.Errorf("id %q does not match its directory %s", ex.ID, ex.dir)
	case !strings.HasPrefix(filepath.Base(filepath.Dir(filepath.Dir(ex.dir))), ex.ID[:3]):
		return fmt.Errorf("exercise %s lives under the wrong lab (%s)", ex.ID, ex.dir)
	case ex.Difficulty != "★" && ex.Difficulty != "★★" && ex.Difficulty != "★★★":
		return fmt.Errorf("difficulty %q is not ★, ★★ or ★★★", ex.Difficulty)
	case ex.Title == "" || ex.Time == "" || ex.Statement == "":
		return fmt.Errorf("title, time and statement are required")
	case len(ex.Regions) == 0 || len(ex.Grader) == 0:
		return fmt.Errorf("an exercise needs regions and a grader")
	}
	names := map[string]bool{}
	for _, ch := range ex.Grader {
		if names[ch.Name] {
			return fmt.Errorf("check %q is listed twice", ch.Name)
		}
		names[ch.Name] = true
		if ch.Name == "" || ch.Points <= 0 || ch.Package == "" || ch.Run == "" {
			return fmt.Errorf("check %q: name, points > 0, package and run are required", ch.Name)
		}
		if _, err := regexp.Compile(ch.Run); err != nil {
			return fmt.Errorf("check %q: run: %w", ch.Name, err)
		}
		if strings.Contains(ch.Run, "/") {
			return fmt.Errorf("check %q: run matches top-level tests only (no /)", ch.Name)
		}
	}
	return nil
}

func (c *Course) find(id string) (*Exercise, error) {
	for _, ex := range c.exercises {
		if ex.ID == id {
			return ex, nil
		}
	}
	return nil, fmt.Errorf("no exercise %q; `make exercises` lists them", id)
}

// list prints every exercise with its status.
func (c *Course) list(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tLEVEL\tTIME\tROOT\tSTATUS")
	for _, ex := range c.exercises {
		root := "no"
		if ex.NeedsRoot {
			root = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ex.ID, ex.Title, ex.Difficulty, ex.Time, root, c.status(ex))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d exercises. Start one: make exercise EX=<id>; grade it: make grade EX=<id>; progress: make grade\n", len(c.exercises))
	return nil
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
)

// The state of one exercise lives in .exercises/<id>/ (git-ignored):
//
//	started.json   the exercise is carved: when, and the reference bodies
//	grade.json     the last grade
//	attempt.json   the student's bodies, saved by `solution` before it restores
type startedState struct {
	Started    time.Time `json:"started"`
	References []string  `json:"references"` // indexed like Exercise.Regions
}

type gradeState struct {
	Time   time.Time `json:"time"`
	Score  int       `json:"score"`
	Max    int       `json:"max"`
	Passed bool      `json:"passed"` // every check passed (none left out for want of root)
}

type attemptState struct {
	Saved  time.Time `json:"saved"`
	Bodies []string  `json:"bodies"`
}

func (c *Course) stateFile(ex *Exercise, name string) string {
	return filepath.Join(c.state, ex.ID, name)
}

func (c *Course) readState(ex *Exercise, name string, v any) (bool, error) {
	b, err := os.ReadFile(c.stateFile(ex, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", c.stateFile(ex, name), err)
	}
	return true, nil
}

func (c *Course) writeState(ex *Exercise, name string, v any) error {
	if err := os.MkdirAll(filepath.Join(c.state, ex.ID), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(c.stateFile(ex, name), append(b, '\n'), atomicfile.Options{Perm: 0o644, Sync: true})
}

func (c *Course) started(ex *Exercise) (*startedState, error) {
	var s startedState
	ok, err := c.readState(ex, "started.json", &s)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// status is what `make exercises` shows: passed wins over the rest, since a
// student who passed and then looked at the solution has still passed.
func (c *Course) status(ex *Exercise) string {
	var g gradeState
	if ok, _ := c.readState(ex, "grade.json", &g); ok && g.Passed {
		return "passed"
	}
	s, err := c.started(ex)
	switch {
	case err != nil:
		return "broken state: " + err.Error()
	case s == nil:
		return "not started"
	case g.Max > 0:
		return fmt.Sprintf("in progress (last grade %d/%d)", g.Score, g.Max)
	}
	return "in progress"
}

// start carves ex out of the tree: the reference bodies go to the state
// directory first, and only then are the skeletons written.
func (c *Course) start(ex *Exercise) error {
	if s, err := c.started(ex); err != nil || s != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("%s is already started (since %s); make solution EX=%s puts the reference back", ex.ID, s.Started.Format(time.RFC3339), ex.ID)
	}
	refs, err := c.bodies(ex)
	if err != nil {
		return err
	}
	skels, err := c.skeletons(ex)
	if err != nil {
		return err
	}
	if err := c.writeState(ex, "started.json", startedState{Started: time.Now().UTC(), References: refs}); err != nil {
		return err
	}
	if err := c.replaceBodies(ex, skels); err != nil {
		os.Remove(c.stateFile(ex, "started.json"))
		return errors.Join(err, c.replaceBodies(ex, refs))
	}
	fmt.Printf("started %s — %s (%s, about %s)\n", ex.ID, ex.Title, ex.Difficulty, ex.Time)
	fmt.Printf("statement: %s\nopen and fill in:\n", ex.Statement)
	c.printRegions(ex)
	if ex.NeedsRoot {
		fmt.Println("the grader needs root: run it as root, or inside the course VM (make vm-up)")
	}
	fmt.Printf("then: make grade EX=%s   (make solution EX=%s puts the reference back)\n", ex.ID, ex.ID)
	return nil
}

// printRegions names each carved region as file:line, the way editors jump.
func (c *Course) printRegions(ex *Exercise) {
	files, byFile := ex.fileRegions()
	for _, f := range files {
		_, spans, err := c.regionsIn(ex, f, len(byFile[f]))
		if err != nil {
			fmt.Printf("  %s (%v)\n", f, err)
			continue
		}
		for _, sp := range spans {
			fmt.Printf("  %s:%d\n", f, sp.begin+2)
		}
	}
}

// solution puts the reference back, saving the student's bodies first.
func (c *Course) solution(ex *Exercise) error {
	s, err := c.started(ex)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("%s is not started: the reference is already in place", ex.ID)
	}
	mine, err := c.bodies(ex)
	if err != nil {
		return err
	}
	if err := c.writeState(ex, "attempt.json", attemptState{Saved: time.Now().UTC(), Bodies: mine}); err != nil {
		return err
	}
	if err := c.replaceBodies(ex, s.References); err != nil {
		return err
	}
	if err := os.Remove(c.stateFile(ex, "started.json")); err != nil {
		return err
	}
	fmt.Printf("%s: the reference is back; your version is saved in %s\n", ex.ID, c.stateFile(ex, "attempt.json"))
	c.printRegions(ex)
	return nil
}

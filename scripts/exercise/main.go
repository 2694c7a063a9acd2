// Command exercise turns parts of minidocker into graded exercises.
//
// An exercise is one or a few function bodies of the real code, marked in the
// source by the comment lines
//
//	// exercise:begin <id>
//	// exercise:end <id>
//
// and described by labs/NN-*/exercises/<id>/exercise.json (title,
// difficulty, regions, grader). Starting an exercise replaces each marked
// body with its skeleton (TODO comments and a clear "not implemented"
// failure); the reference text is kept under .exercises/ so that
// `solution` puts it back byte for byte.
//
//	exercise list                 every exercise with its status
//	exercise start <id>           carve the exercise out of the tree
//	exercise grade [<id>]         run its grader (no id: the progress table)
//	exercise solution <id>        put the reference back
//	exercise check [<id>...]      CI: each exercise builds, fails carved, passes restored
//
// The Makefile wraps these as make exercises, make exercise EX=…,
// make grade [EX=…], make solution EX=… and make exercises-check.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, errNotFull) {
			os.Exit(1) // the grade lines said why
		}
		fmt.Fprintln(os.Stderr, "exercise:", err)
		os.Exit(1)
	}
}

const usage = `usage: exercise list | start <id> | grade [<id>] | solution <id> | check [<id>...]`

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	c, err := loadCourse(root)
	if err != nil {
		return err
	}
	cmd, rest := args[0], args[1:]
	needID := func() (*Exercise, error) {
		if len(rest) != 1 || rest[0] == "" {
			return nil, fmt.Errorf("%s needs one exercise id (make %s EX=<id>); `make exercises` lists them", cmd, makeTarget(cmd))
		}
		return c.find(rest[0])
	}
	switch cmd {
	case "list":
		return c.list(os.Stdout)
	case "start":
		ex, err := needID()
		if err != nil {
			return err
		}
		return c.start(ex)
	case "solution":
		ex, err := needID()
		if err != nil {
			return err
		}
		return c.solution(ex)
	case "grade":
		if len(rest) == 0 || rest[0] == "" {
			return c.progress(os.Stdout)
		}
		ex, err := needID()
		if err != nil {
			return err
		}
		return c.gradeCommand(ex)
	case "check":
		return c.check(rest)
	}
	return errors.New(usage)
}

// makeTarget names the make target that runs a subcommand, for messages.
func makeTarget(cmd string) string {
	if cmd == "start" {
		return "exercise"
	}
	return cmd
}

// repoRoot is the directory holding go.mod, found upwards from the working
// directory (make runs the tool from the top of the tree).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the minidocker tree (no go.mod above the working directory)")
		}
		dir = parent
	}
}

// Command replay is `make demo`'s engine: it runs the console transcripts
// of the chapters, in order, against the daemon MINIDOCKER_HOST names, and
// shows each command and what it printed. The tests in chapters/doctest
// run the very same transcripts and compare the output with the text, so
// the demo can only show what the chapters say.
//
//	go run ./chapters/doctest/replay [chapter.md ...]
//
// With no arguments it replays every chapter. Hidden setup commands run
// silently; each file's cleanup commands run when it is done, so the demo
// leaves no container or image of its own behind.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/minidocker/minidocker/chapters/doctest"
)

func main() {
	repo, err := os.Getwd()
	check(err)
	files := os.Args[1:]
	if len(files) == 0 {
		files, err = doctest.ChapterFiles(repo)
		check(err)
	}
	busybox := os.Getenv("BUSYBOX_TAR")
	if busybox == "" {
		busybox = filepath.Join(repo, "build", "busybox.tar")
	}
	env := append(os.Environ(), "PATH="+filepath.Join(repo, "bin")+":"+os.Getenv("PATH"))
	failed := 0
	for _, f := range files {
		failed += replayFile(repo, f, busybox, env)
	}
	if failed > 0 {
		fmt.Printf("\n%d command(s) failed to start or exited with an error the chapter does not show\n", failed)
	}
}

// replayFile shows one chapter's transcripts and returns how many commands
// failed where the chapter shows no error.
func replayFile(repo, file, busybox string, env []string) int {
	blocks, err := doctest.ParseFile(file)
	check(err)
	rel := file
	if abs, err := filepath.Abs(file); err == nil {
		rel, _ = filepath.Rel(repo, abs)
	}
	dir, err := os.MkdirTemp("", "minidocker-demo")
	check(err)
	defer os.RemoveAll(dir)
	check(doctest.PrepareWorkdir(dir, repo, busybox))
	var cleanups []string
	defer func() {
		for _, c := range cleanups {
			doctest.Shell(dir, env, nil, c)
		}
	}()
	header := false
	failed := 0
	for _, b := range blocks {
		check(doctest.SaveDockerfile(dir, b))
		if b.Lang != "console" {
			continue
		}
		if !header {
			fmt.Printf("\n################ %s\n", rel)
			header = true
		}
		cleanups = append(cleanups, doctest.CleanupCommands(b)...)
		check(doctest.MakeFiles(dir, doctest.Files(b)))
		for _, c := range doctest.SetupCommands(b) {
			if out, code := doctest.Shell(dir, env, nil, c); code != 0 {
				fmt.Printf("(setup %q failed: %s)\n", c, out)
			}
		}
		for _, s := range doctest.Steps(b.Body) {
			fmt.Printf("\n$ %s\n", s.Command)
			out, code := doctest.Shell(dir, env, nil, s.Command)
			fmt.Print(out)
			if code != 0 && doctest.Match(s.Output, splitLines(out)) != "" {
				failed++
			}
		}
	}
	return failed
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	return append(lines, s[start:])
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

package doctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// allBlocks parses every chapter and returns the blocks of one language.
func allBlocks(t *testing.T, lang string) []Block {
	t.Helper()
	files, err := ChapterFiles(testutil.RepoRoot())
	if err != nil || len(files) == 0 {
		t.Fatalf("no chapters found: %v", err)
	}
	var out []Block
	for _, f := range files {
		blocks, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if b.Lang == lang {
				out = append(out, b)
			}
		}
	}
	return out
}

func where(b Block) string {
	rel, _ := filepath.Rel(testutil.RepoRoot(), b.File)
	return fmt.Sprintf("%s:%d", rel, b.Line)
}

// TestChapterDockerfiles builds every ```dockerfile block of every chapter
// on one test daemon. A block marked `fails` must not build.
func TestChapterDockerfiles(t *testing.T) {
	blocks := allBlocks(t, "dockerfile")
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	for i, b := range blocks {
		dir := t.TempDir()
		if err := MakeFiles(dir, Files(b)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(b.Body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"build", "-q", "-t", fmt.Sprintf("doctest/block%d", i)}
		for _, tag := range b.All("tag") {
			args = append(args, "-t", strings.Join(tag.Args, ""))
		}
		r := d.CLI(append(args, dir)...)
		switch {
		case b.Has("fails") && r.Code == 0:
			t.Errorf("%s: this Dockerfile is marked `fails` but it builds", where(b))
		case !b.Has("fails") && r.Code != 0:
			t.Errorf("%s: the chapter's Dockerfile does not build:\n%s\n%s", where(b), b.Body, r.Combined())
		}
	}
	t.Logf("%d Dockerfiles built", len(blocks))
}

// TestChapterTranscripts replays every ```console block, file by file, each
// file on a daemon of its own in a private network namespace, and compares
// what each command prints with the chapter's text.
func TestChapterTranscripts(t *testing.T) {
	files, _ := ChapterFiles(testutil.RepoRoot())
	transcripts, commands, chapters := 0, 0, 0
	for _, file := range files {
		blocks, err := ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range blocks {
			if b.Lang == "console" {
				n++
			}
		}
		if n == 0 {
			continue
		}
		transcripts += n
		chapters++
		name := filepath.Base(filepath.Dir(file)) + "_" + filepath.Base(file)
		t.Run(name, func(t *testing.T) { commands += replayFile(t, blocks) })
	}
	t.Logf("%d transcripts in %d files, %d commands compared", transcripts, chapters, commands)
}

// replayFile runs one chapter's transcripts and returns how many commands
// it compared.
func replayFile(t *testing.T, blocks []Block) int {
	d, netns := testutil.StartDaemonInNetns(t)
	dir := t.TempDir()
	if err := PrepareWorkdir(dir, testutil.RepoRoot(), testutil.BusyboxTar(t)); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "MINIDOCKER_HOST="+d.Host, "HOME="+dir, "DOCKER_CONFIG="+filepath.Join(dir, ".docker"),
		"PATH="+filepath.Join(testutil.RepoRoot(), "bin")+":"+os.Getenv("PATH"))
	prefix := []string{"nsenter", "--net=" + netns}
	var cleanups []string
	defer func() {
		for _, c := range cleanups {
			Shell(dir, env, prefix, c)
		}
	}()
	n := 0
	for _, b := range blocks {
		if err := SaveDockerfile(dir, b); err != nil {
			t.Fatal(err)
		}
		if b.Lang != "console" {
			continue
		}
		cleanups = append(cleanups, CleanupCommands(b)...)
		if err := MakeFiles(dir, Files(b)); err != nil {
			t.Fatal(err)
		}
		for _, c := range SetupCommands(b) {
			if out, code := Shell(dir, env, prefix, c); code != 0 {
				t.Fatalf("%s: setup command %q failed (%d):\n%s", where(b), c, code, out)
			}
		}
		for _, s := range Steps(b.Body) {
			out, _ := Shell(dir, env, prefix, s.Command)
			n++
			if diff := Match(s.Output, strings.Split(out, "\n")); diff != "" {
				t.Errorf("%s: `%s` printed something else than the chapter shows.\n%s\nwhole output:\n%s", where(b), s.Command, diff, out)
			}
		}
	}
	return n
}

// TestChapterReferences resolves every relative link, every named file and
// every function named next to a file, in the chapters and the top-level
// documents, and finds nothing that points outside the repository.
func TestChapterReferences(t *testing.T) {
	repo := testutil.RepoRoot()
	files, _ := ChapterFiles(repo)
	files = append(files, filepath.Join(repo, "chapters", "README.md"), filepath.Join(repo, "README.md"), filepath.Join(repo, "vagrant", "README.md"))
	for _, f := range files {
		ps, err := CheckReferences(repo, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			rel, _ := filepath.Rel(repo, p.File)
			t.Errorf("%s:%d: %s", rel, p.Line, p.What)
		}
	}
}

// TestDemoIsTheTranscripts keeps `make demo` and the chapters one text: the
// demo replays the chapters' console blocks, and no chapter keeps a script
// of its own that could say something else.
func TestDemoIsTheTranscripts(t *testing.T) {
	repo := testutil.RepoRoot()
	demo, err := os.ReadFile(filepath.Join(repo, "scripts", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(demo), "go run ./chapters/doctest/replay") {
		t.Error("scripts/demo.sh must replay the chapters' transcripts (go run ./chapters/doctest/replay)")
	}
	scripts, _ := filepath.Glob(filepath.Join(repo, "chapters", "*", "*.sh"))
	for _, s := range scripts {
		t.Errorf("%s: a chapter's commands belong in its ```console transcripts, where they are tested", s)
	}
}

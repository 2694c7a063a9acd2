package doctest

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ChapterFiles lists the markdown files of the course, chapter by chapter.
func ChapterFiles(repo string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(repo, "chapters", "*", "*.md"))
	sort.Strings(files)
	return files, err
}

// PrepareWorkdir makes dir look like the repository's top directory to a
// transcript: `build/busybox.tar`, `bin/` and `scripts/` are there, so the
// chapters' commands are the ones a student types in the checkout.
func PrepareWorkdir(dir, repo, busyboxTar string) error {
	if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
		return err
	}
	links := map[string]string{
		filepath.Join(dir, "build", "busybox.tar"): busyboxTar,
		filepath.Join(dir, "bin"):                  filepath.Join(repo, "bin"),
		filepath.Join(dir, "scripts"):              filepath.Join(repo, "scripts"),
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}

// MakeFiles creates what a `files` directive names, below dir: a name
// ending in "/" is a directory, a name ending in ".tar" a tar archive
// holding one small file, anything else a one-line text file.
func MakeFiles(dir string, names []string) error {
	for _, name := range names {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		data := []byte("content of " + name + "\n")
		if strings.HasSuffix(name, ".tar") {
			data = smallTar("from-the-tar.txt", data)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func smallTar(name string, data []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(data)
	_ = tw.Close()
	return buf.Bytes()
}

// Shell runs one transcript line with bash in dir, stdout and stderr
// interleaved as on a terminal. prefix, when set, comes before bash (the
// tests put `nsenter --net=…` there). A command gets at most two minutes.
func Shell(dir string, env, prefix []string, command string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append(append([]string{}, prefix...), "bash", "-c", command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return out.String(), code
}

// SetupCommands are the hidden commands that run before the block.
func SetupCommands(b Block) []string { return bodies(b.All("setup")) }

// CleanupCommands are the hidden commands that run when the file is done.
func CleanupCommands(b Block) []string { return bodies(b.All("cleanup")) }

func bodies(ds []Directive) []string {
	var cmds []string
	for _, d := range ds {
		for _, l := range d.Body {
			if strings.TrimSpace(l) != "" {
				cmds = append(cmds, l)
			}
		}
	}
	return cmds
}

// Files is every file name the block's `files` directives ask for.
func Files(b Block) []string {
	var names []string
	for _, d := range b.All("files") {
		names = append(names, d.Args...)
	}
	return names
}

// SaveDockerfile writes a dockerfile block marked `save PATH` to PATH below
// dir, with the files its `files` directive names next to it, so that a
// later transcript of the same chapter builds exactly the Dockerfile the
// chapter shows. It does nothing for other blocks.
func SaveDockerfile(dir string, b Block) error {
	for _, d := range b.All("save") {
		if len(d.Args) != 1 {
			continue
		}
		p := filepath.Join(dir, d.Args[0])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := MakeFiles(filepath.Dir(p), Files(b)); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(b.Body+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

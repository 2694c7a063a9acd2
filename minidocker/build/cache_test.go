package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func usingCache(out string) int { return strings.Count(out, " ---> Using cache\n") }

func TestCache(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	state := t.TempDir()
	dir := writeCtx(t, map[string]string{
		"Dockerfile": "FROM busybox\nENV X=1\nCOPY a.txt /a.txt\nCOPY d/ /d/\nRUN echo hi\nCMD [\"sh\"]\n",
		"a.txt":      "one",
		"d/x":        "x",
	})
	opts := Options{StateDir: state}
	id1, out1, err := doBuild(t, f, dir, opts)
	if err != nil || usingCache(out1) != 0 {
		t.Fatalf("%v\n%s", err, out1)
	}
	// rebuild: all 5 steps after FROM hit, same image, no RUN executed
	runs := len(f.runs)
	id2, out2, _ := doBuild(t, f, dir, opts)
	if id2 != id1 || usingCache(out2) != 5 || len(f.runs) != runs || strings.Contains(out2, "Running in") {
		t.Fatalf("rebuild: %s vs %s\n%s", id2, id1, out2)
	}
	// the index is a file: a new process (fresh Build) still hits
	if _, err := os.Stat(filepath.Join(state, "cache.jsonl")); err != nil {
		t.Fatal(err)
	}
	// touching mtimes does not bust the cache
	future := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(dir, "a.txt"), future, future))
	must(t, os.Chtimes(filepath.Join(dir, "d/x"), future, future))
	id3, out3, _ := doBuild(t, f, dir, opts)
	if id3 != id1 || usingCache(out3) != 5 {
		t.Fatalf("touch busted the cache:\n%s", out3)
	}
	// changing the bytes busts COPY a.txt and everything after it
	must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("two"), 0o644))
	id4, out4, _ := doBuild(t, f, dir, opts)
	if id4 == id1 || usingCache(out4) != 1 || len(f.runs) != runs+1 {
		t.Fatalf("content change: hits=%d\n%s", usingCache(out4), out4)
	}
	// changing the mode busts too
	must(t, os.Chmod(filepath.Join(dir, "d/x"), 0o600))
	_, out5, _ := doBuild(t, f, dir, opts)
	if usingCache(out5) != 2 {
		t.Fatalf("mode change: hits=%d\n%s", usingCache(out5), out5)
	}
	// --no-cache: nothing from cache, RUN runs again
	_, out6, _ := doBuild(t, f, dir, Options{StateDir: state, NoCache: true})
	if usingCache(out6) != 0 || !strings.Contains(out6, "Running in") {
		t.Fatalf("no-cache:\n%s", out6)
	}
	// a different --build-arg value for a used ARG misses from the RUN on
	dir2 := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nARG V=1\nRUN echo $V\n"})
	doBuild(t, f, dir2, opts)
	_, o1, _ := doBuild(t, f, dir2, opts)
	_, o2, _ := doBuild(t, f, dir2, Options{StateDir: state, BuildArgs: map[string]*string{"V": strp("2")}})
	if usingCache(o1) != 2 || usingCache(o2) != 1 {
		t.Fatalf("build-arg cache: %d %d", usingCache(o1), usingCache(o2))
	}
	// --label changes the config: a miss for the added LABEL step only
	_, o3, _ := doBuild(t, f, dir2, Options{StateDir: state, Labels: map[string]string{"a": "b"}})
	if usingCache(o3) != 2 || !strings.Contains(o3, "Step 4/4 : LABEL a=b") {
		t.Fatalf("label:\n%s", o3)
	}
	// a removed image is not a hit
	delete(f.images, id1)
	if _, out, _ := doBuild(t, f, dir, Options{StateDir: state}); strings.Count(out, "Using cache") > 5 {
		t.Fatalf("stale entry:\n%s", out)
	}
}

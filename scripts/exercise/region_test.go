package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `package p

func a() int {
	// exercise:begin 01-x
	return 1
	// exercise:end 01-x
}

func b() int {
	// exercise:begin 02-y
	return 2
	// exercise:end 02-y
}

func c() int {
	// exercise:begin 01-x
	return 3
	// exercise:end 01-x
}
`

// TestFindSpans: regions are found per exercise, in order; markers that do
// not pair up, or nest, are errors that name the file and line.
func TestFindSpans(t *testing.T) {
	spans, err := findSpans(splitLines(sample), "01-x", "p.go")
	if err != nil || len(spans) != 2 || spans[0] != (span{3, 5}) || spans[1] != (span{15, 17}) {
		t.Fatalf("findSpans = %v, %v", spans, err)
	}
	for name, src := range map[string]string{
		"unended": "// exercise:begin 01-x\nreturn\n",
		"unbegun": "return\n// exercise:end 01-x\n",
		"nested":  "// exercise:begin 01-x\n// exercise:begin 02-y\n// exercise:end 02-y\n// exercise:end 01-x\n",
		"crossed": "// exercise:begin 01-x\n// exercise:end 02-y\n",
	} {
		if _, err := findSpans(splitLines(src), "01-x", "p.go"); err == nil || !strings.Contains(err.Error(), "p.go:") {
			t.Errorf("%s markers: %v, want an error naming p.go:LINE", name, err)
		}
	}
	// a marker inside a string or after code is not a marker
	if spans, err := findSpans(splitLines("s := \"// exercise:begin 01-x\"\nx() // exercise:end 01-x\n"), "01-x", "p.go"); err != nil || len(spans) != 0 {
		t.Errorf("markers that are not whole comment lines: %v, %v", spans, err)
	}
}

// TestStartSolutionRoundTrip: start writes the skeletons into exactly the
// regions of the exercise, keeps the reference, and solution puts the file
// back byte for byte (and keeps the student's bodies).
func TestStartSolutionRoundTrip(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("p/p.go", sample)
	write("labs/01-a/exercises/01-x/one.txt", "\tpanic(\"one\")\n")
	write("labs/01-a/exercises/01-x/two.txt", "\tpanic(\"two\")")
	write("labs/01-a/exercises/01-x/exercise.json", `{"id": "01-x", "title": "x", "chapter": "01-a", "difficulty": "★",
		"time": "1h", "statement": "s.md", "regions": [{"file": "p/p.go", "skeleton": "one.txt"}, {"file": "p/p.go", "skeleton": "two.txt"}],
		"grader": [{"name": "n", "points": 1, "package": "./p", "run": "^TestX$"}]}`)
	c, err := loadCourse(root)
	if err != nil || len(c.exercises) != 1 {
		t.Fatalf("loadCourse: %v, %d exercises", err, len(c.exercises))
	}
	ex := c.exercises[0]
	if err := c.start(ex); err != nil {
		t.Fatal(err)
	}
	carved, _ := os.ReadFile(filepath.Join(root, "p/p.go"))
	want := strings.Replace(strings.Replace(sample, "\treturn 1\n", "\tpanic(\"one\")\n", 1), "\treturn 3\n", "\tpanic(\"two\")\n", 1)
	if string(carved) != want {
		t.Fatalf("carved file:\n%s\nwant:\n%s", carved, want)
	}
	if got := c.status(ex); got != "in progress" {
		t.Errorf("status after start = %q", got)
	}
	if err := c.start(ex); err == nil {
		t.Errorf("a second start must be refused")
	}
	if err := c.solution(ex); err != nil {
		t.Fatal(err)
	}
	back, _ := os.ReadFile(filepath.Join(root, "p/p.go"))
	fi, _ := os.Stat(filepath.Join(root, "p/p.go"))
	if string(back) != sample || fi.Mode().Perm() != 0o640 {
		t.Errorf("after solution: mode %v, content:\n%s", fi.Mode().Perm(), back)
	}
	var a attemptState
	if ok, err := c.readState(ex, "attempt.json", &a); !ok || err != nil || len(a.Bodies) != 2 || a.Bodies[0] != "\tpanic(\"one\")\n" {
		t.Errorf("the student's bodies were not kept: %v %v %q", ok, err, a.Bodies)
	}
	if got := c.status(ex); got != "not started" {
		t.Errorf("status after solution = %q", got)
	}
}

// TestJudge: a check passes only when some test matched and all passed; a
// skip or a crash before the test ran is a failure with a reason.
func TestJudge(t *testing.T) {
	ch := Check{Name: "c", Points: 2, Run: "^TestA"}
	out := map[string]string{"TestB": "panic: exercise 01-x: f not implemented\n"}
	for _, tc := range []struct {
		verdicts map[string]string
		status   string
		reason   string
	}{
		{map[string]string{"TestA1": "pass", "TestA2": "pass", "TestB": "fail"}, "PASS", ""},
		{map[string]string{"TestA1": "pass", "TestA2": "fail"}, "FAIL", "TestA2"},
		{map[string]string{"TestA1": "skip"}, "FAIL", "skipped"},
		{map[string]string{"TestB": "fail"}, "FAIL", "crashed in TestB first: exercise 01-x: f not implemented"},
	} {
		r := judge(ch, tc.verdicts, out, "")
		if r.status != tc.status || !strings.Contains(r.reason, tc.reason) {
			t.Errorf("judge(%v) = %s %q, want %s containing %q", tc.verdicts, r.status, r.reason, tc.status, tc.reason)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// result is the outcome of one check.
type result struct {
	check  Check
	status string // "PASS", "FAIL" or "ROOT" (left out: needs root)
	reason string
}

func (r result) points() int {
	if r.status == "PASS" {
		return r.check.Points
	}
	return 0
}

// gradeReport is a whole grade: score over the maximum, and whether every
// check really ran (a root check left out keeps an exercise from passing).
type gradeReport struct {
	results    []result
	score, max int
}

func (g gradeReport) full() bool  { return g.score == g.max }
func (g gradeReport) failed() int { return g.count("FAIL") }
func (g gradeReport) count(status string) int {
	n := 0
	for _, r := range g.results {
		if r.status == status {
			n++
		}
	}
	return n
}

// errNotFull makes the process exit 1 without another message: the grade
// lines already said what failed.
var errNotFull = errors.New("")

func (c *Course) gradeCommand(ex *Exercise) error {
	s, err := c.started(ex)
	if err != nil {
		return err
	}
	if s == nil {
		fmt.Printf("%s is not started: grading the reference implementation (make exercise EX=%s starts it)\n", ex.ID, ex.ID)
	}
	fmt.Printf("grading %s — %s\n", ex.ID, ex.Title)
	g := c.grade(ex, os.Stdout)
	if s != nil {
		st := gradeState{Time: time.Now().UTC(), Score: g.score, Max: g.max, Passed: g.full()}
		if err := c.writeState(ex, "grade.json", st); err != nil {
			return err
		}
	}
	if !g.full() {
		return errNotFull
	}
	return nil
}

// grade runs every check of ex and prints one line per check and a last
// line "score: N/M".
func (c *Course) grade(ex *Exercise, w io.Writer) gradeReport {
	return report(ex, c.runChecks(ex.Grader), w)
}

// report scores results (in the order of ex.Grader) and prints them.
func report(ex *Exercise, results []result, w io.Writer) gradeReport {
	g := gradeReport{results: results}
	for _, r := range results {
		g.max += r.check.Points
		g.score += r.points()
		printResult(w, r)
	}
	fmt.Fprintf(w, "score: %d/%d\n", g.score, g.max)
	return g
}

// runChecks runs checks with one go test per package (one compile, one
// link) and returns their results in the same order. Root checks are left
// out, with the reason, when not running as root.
func (c *Course) runChecks(checks []Check) []result {
	results := make([]result, len(checks))
	byPkg, order := map[string][]int{}, []string{}
	for i, ch := range checks {
		if ch.Root && os.Geteuid() != 0 {
			results[i] = result{ch, "ROOT", "needs root: run make grade as root, or inside the course VM (make vm-up)"}
			continue
		}
		if _, ok := byPkg[ch.Package]; !ok {
			order = append(order, ch.Package)
		}
		byPkg[ch.Package] = append(byPkg[ch.Package], i)
	}
	env, envErr := c.testEnv(checks)
	for _, pkg := range order {
		var group []Check
		for _, i := range byPkg[pkg] {
			group = append(group, checks[i])
		}
		var res []result
		if envErr != nil {
			for _, ch := range group {
				res = append(res, result{ch, "FAIL", oneLine(envErr.Error())})
			}
		} else {
			res = c.runUntilAllRan(pkg, group, env)
		}
		for k, i := range byPkg[pkg] {
			results[i] = res[k]
		}
	}
	return results
}

func printResult(w io.Writer, r result) {
	line := fmt.Sprintf("  %-4s %2d/%-2d %s", r.status, r.points(), r.check.Points, r.check.Name)
	if r.reason != "" {
		line += " — " + r.reason
	}
	fmt.Fprintln(w, line)
}

// testEnv is the environment of the graders' go test: the binary tests
// (those that start a daemon) get a minidocker freshly built from the tree,
// never a stale bin/minidocker; the others build their own if they need one.
func (c *Course) testEnv(checks []Check) ([]string, error) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIDOCKER_BIN=") {
			env = append(env, kv)
		}
	}
	if tar := filepath.Join(c.root, "build", "busybox.tar"); os.Getenv("MINIDOCKER_BUSYBOX_TAR") == "" {
		if _, err := os.Stat(tar); err == nil {
			env = append(env, "MINIDOCKER_BUSYBOX_TAR="+tar)
		}
	}
	needBin := false
	for _, ch := range checks {
		needBin = needBin || ch.Binary && (!ch.Root || os.Geteuid() == 0)
	}
	if !needBin {
		return env, nil
	}
	bin := filepath.Join(c.state, "bin", "minidocker")
	cmd := exec.Command("go", "build", "-o", bin, "./minidocker")
	cmd.Dir = c.root
	cmd.Env = append(env, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./minidocker failed: %s", firstLines(string(out), 3))
	}
	return append(env, "MINIDOCKER_BIN="+bin), nil
}

// testEvent is one line of go test -json.
type testEvent struct {
	Action string
	Test   string
	Output string
}

// runUntilAllRan runs the checks of one package and, when a test crashed
// the test binary (a skeleton's panic) before others could run, runs those
// others again on their own: a hole in one function must not cost the
// points of the checks that do not reach it. Each round runs at least one
// more test, so it ends.
func (c *Course) runUntilAllRan(pkg string, checks []Check, env []string) []result {
	res := c.runPackage(pkg, checks, env)
	last := len(checks)
	for {
		var again []int
		for i, r := range res {
			if strings.HasPrefix(r.reason, crashedFirst) {
				again = append(again, i)
			}
		}
		if len(again) == 0 || len(again) >= last {
			return res
		}
		var sub []Check
		for _, i := range again {
			sub = append(sub, res[i].check)
		}
		for k, r := range c.runPackage(pkg, sub, env) {
			res[again[k]] = r
		}
		last = len(again)
	}
}

// crashedFirst starts the reason of a check whose tests never ran because
// another test of the same go test run crashed the binary.
const crashedFirst = "did not run: the test binary crashed in "

// runPackage runs the checks of one package in a single go test (one
// compile, one link) and gives each check the verdict of the tests it names.
func (c *Course) runPackage(pkg string, checks []Check, env []string) []result {
	var runs []string
	var timeout time.Duration
	for _, ch := range checks {
		runs = append(runs, "(?:"+ch.Run+")")
		timeout += ch.timeout()
	}
	// the go test timeout stops a hung test with a stack trace; the context
	// leaves room for compiling and linking on a loaded machine
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-json", "-p", "1", "-vet=off",
		"-timeout", timeout.String(), "-run", strings.Join(runs, "|"), pkg)
	cmd.Dir = c.root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := runGroup(cmd)
	verdicts, outputs := parseEvents(out)
	var res []result
	for _, ch := range checks {
		res = append(res, judge(ch, verdicts, outputs, stderr.String()+nonJSON(out)))
	}
	return res
}

// parseEvents collects each top-level test's last action and its output.
func parseEvents(out []byte) (map[string]string, map[string]string) {
	verdicts, outputs := map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		switch e.Action {
		case "output":
			outputs[top] += e.Output
		case "pass", "fail", "skip":
			if top == e.Test {
				verdicts[top] = e.Action
			} else if e.Action == "fail" {
				verdicts[top] = "fail"
			}
		}
	}
	return verdicts, outputs
}

// nonJSON is what go test printed that is not a test event: build errors,
// a crash of the test binary.
func nonJSON(out []byte) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			b.WriteString(sc.Text() + "\n")
		} else if e.Test == "" && e.Action == "output" || e.Action == "build-output" {
			b.WriteString(e.Output)
		}
	}
	return b.String()
}

// judge: a check passes when at least one test matched its -run and every
// matched test passed. Skipped counts as not passed: a grader that did not
// run proves nothing.
func judge(ch Check, verdicts, outputs map[string]string, pkgOut string) result {
	re := regexp.MustCompile(ch.Run)
	var ran, failed, skipped []string
	for name, v := range verdicts {
		if !re.MatchString(name) {
			continue
		}
		ran = append(ran, name)
		switch v {
		case "fail":
			failed = append(failed, name)
		case "skip":
			skipped = append(skipped, name)
		}
	}
	switch {
	case len(failed) > 0:
		return result{ch, "FAIL", failed[0] + ": " + reasonOf(outputs[failed[0]])}
	case len(skipped) > 0:
		return result{ch, "FAIL", skipped[0] + " skipped: " + reasonOf(outputs[skipped[0]])}
	case len(ran) == 0:
		return result{ch, "FAIL", "did not run: " + whyNotRun(ch, outputs, pkgOut)}
	}
	return result{ch, "PASS", ""}
}

// whyNotRun explains a check none of whose tests ran: most often another
// test of the package crashed the test binary first (a skeleton's panic),
// or the package did not build.
func whyNotRun(ch Check, outputs map[string]string, pkgOut string) string {
	for name, out := range outputs {
		if m := panicLine.FindStringSubmatch(out); m != nil {
			return strings.TrimPrefix(crashedFirst, "did not run: ") + name + " first: " + oneLine(m[1])
		}
	}
	if m := buildErr.FindStringSubmatch(pkgOut); m != nil {
		return "the package does not build: " + oneLine(m[0])
	}
	if m := panicLine.FindStringSubmatch(pkgOut); m != nil {
		return "the test binary crashed: " + oneLine(m[1])
	}
	if strings.Contains(pkgOut, "[setup failed]") || strings.Contains(pkgOut, "build failed") {
		return oneLine(firstLines(pkgOut, 2))
	}
	return "no test matched -run " + ch.Run
}

var (
	panicLine = regexp.MustCompile(`(?m)^panic: (.*)$`)
	notImpl   = regexp.MustCompile(`(?m)^.*not implemented.*$`)
	testLog   = regexp.MustCompile(`(?m)^\s+\S+\.go:\d+: (.*)$`)
	buildErr  = regexp.MustCompile(`(?m)^\S+\.go:\d+:\d+: (.*)$`)
	logPrefix = regexp.MustCompile(`^\s*\S+\.go:\d+: `)
)

// reasonOf picks the most telling line of a failed test's output: the
// exercise's own "not implemented", a panic, a build error, or the first
// t.Error line.
func reasonOf(out string) string {
	for _, re := range []*regexp.Regexp{notImpl, panicLine, buildErr, testLog} {
		if m := re.FindStringSubmatch(out); m != nil {
			return oneLine(logPrefix.ReplaceAllString(m[len(m)-1], ""))
		}
	}
	if strings.Contains(out, "test timed out") {
		return "timed out"
	}
	return oneLine(lastLine(out))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

func oneLine(s string) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > 160 {
		r = append(r[:157], []rune("...")...)
	}
	return string(r)
}

// progress is `make grade` without EX: every exercise, its status, a total.
func (c *Course) progress(w io.Writer) error {
	if err := c.list(w); err != nil {
		return err
	}
	passed := 0
	for _, ex := range c.exercises {
		if c.status(ex) == "passed" {
			passed++
		}
	}
	fmt.Fprintf(w, "progress: %d/%d exercises passed\n", passed, len(c.exercises))
	return nil
}

// running holds the process groups of the go tests in flight, so that an
// interrupted check can stop them (and the test binaries they started)
// before it restores the tree.
var (
	runningMu sync.Mutex
	running   = map[int]bool{}
)

// runGroup runs cmd in a process group of its own, killed whole when its
// context ends, and returns its standard output.
func runGroup(cmd *exec.Cmd) ([]byte, error) {
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	runningMu.Lock()
	running[cmd.Process.Pid] = true
	runningMu.Unlock()
	err := cmd.Wait()
	runningMu.Lock()
	delete(running, cmd.Process.Pid)
	runningMu.Unlock()
	return stdout.Bytes(), err
}

// killRunning stops every go test in flight, whole process groups.
func killRunning() {
	runningMu.Lock()
	defer runningMu.Unlock()
	for pid := range running {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}

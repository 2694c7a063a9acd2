package doctest

import (
	"regexp"
	"strings"
)

// Step is one command of a transcript and the output the text shows for it.
type Step struct {
	Command string   // without the "$ " prompt; continuation lines joined
	Output  []string // the lines shown after it
}

// Steps splits a console block into its commands. A command line ends in
// a backslash when it continues on the next line.
func Steps(body string) []Step {
	var steps []Step
	lines := strings.Split(body, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "$ ") {
			if len(steps) > 0 {
				steps[len(steps)-1].Output = append(steps[len(steps)-1].Output, line)
			}
			continue
		}
		cmd := strings.TrimPrefix(line, "$ ")
		for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, "\\") + "\n" + lines[i]
		}
		steps = append(steps, Step{Command: cmd})
	}
	return steps
}

// masks replace what legitimately differs between two runs of the same
// command. They apply to the text and to the real output alike, so a
// fixed value (port 8080) still has to be a port in both.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<DIGEST>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<ID>"},
	{regexp.MustCompile(`\b[0-9a-f]{12}\b`), "<ID>"},
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?`), "<TIME>"},
	{regexp.MustCompile(`\b(About )?(an?|\d+) (second|minute|hour|day|week|month|year)s?\b`), "<TIME>"},
	{regexp.MustCompile(`Less than a second`), "<TIME>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|KiB|MiB|GiB)\b`), "<SIZE>"},
	{regexp.MustCompile(`((?:\d{1,3}\.){3}\d{1,3}|\[::\]|::):\d{2,5}\b`), "$1:<PORT>"},
	// the default bridge's addresses: every test daemon has a subnet of its own
	{regexp.MustCompile(`\b10\.66\.\d+\.\d+(/\d+)?`), "<BRIDGE-IP>"},
	{regexp.MustCompile(`\b(pid|PID) \d+`), "$1 <PID>"},
	{regexp.MustCompile(`/proc/\d+/`), "/proc/<PID>/"},
	{regexp.MustCompile(`\b(net|uts|ipc|mnt|pid|cgroup):\[\d+\]`), "$1:[<INODE>]"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

// Mask rewrites one line so that run-to-run differences disappear.
func Mask(line string) string {
	for _, m := range masks {
		line = m.re.ReplaceAllString(line, m.with)
	}
	return strings.TrimSpace(line)
}

// Match compares the masked output a command printed with the masked text.
// A line "..." in want matches any number of lines, and "..." inside a
// line any text. It returns "" when they
// match, else the first line that differs, for the error message.
func Match(want, got []string) string {
	w := maskAll(trimTrailingEmpty(want))
	g := maskAll(trimTrailingEmpty(got))
	if matchFrom(w, g) {
		return ""
	}
	for i := range w {
		if w[i] == "..." {
			return "(the lines around a \"...\" do not match)"
		}
		if i >= len(g) {
			return "missing line: " + w[i]
		}
		if !lineMatches(w[i], g[i]) {
			return "want: " + w[i] + "\n got: " + g[i]
		}
	}
	return "extra line: " + g[len(w)]
}

func matchFrom(w, g []string) bool {
	if len(w) == 0 {
		return len(g) == 0
	}
	if w[0] == "..." {
		for skip := 0; skip <= len(g); skip++ {
			if matchFrom(w[1:], g[skip:]) {
				return true
			}
		}
		return false
	}
	return len(g) > 0 && lineMatches(w[0], g[0]) && matchFrom(w[1:], g[1:])
}

// lineMatches compares one masked line; "..." inside a line stands for any
// text, as the ellipsis of a printed transcript does.
func lineMatches(want, got string) bool {
	if !strings.Contains(want, "...") {
		return want == got
	}
	parts := strings.Split(want, "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

func maskAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = Mask(l)
	}
	return out
}

func trimTrailingEmpty(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

package dockerfile

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rawInstruction is one logical line cut into its parts, before the
// instruction's own checks (instructions.go) give it a type.
type rawInstruction struct {
	name     string   // as written: "RUN", "run", …
	original string   // the whole logical line
	flags    []string // "--from=build", … with quotes removed
	args     []string // the arguments, by the instruction's rule
	json     bool     // the arguments were a JSON array (exec form)
	trigger  *rawInstruction
	heredocs []Heredoc
	line     int
}

var (
	errNotStringArray = errors.New("when using JSON array syntax, arrays must be comprised of strings only")
	errNotJSONArray   = errors.New("not a JSON array")
)

// splitLine cuts a logical line into name, flags and arguments. An unknown
// instruction name is not an error here: instructions.go reports it, with
// its line number.
func splitLine(line string, escape byte) (*rawInstruction, error) {
	ri := &rawInstruction{original: line}
	name, rest, _ := cutSpace(strings.TrimSpace(line))
	ri.name = name
	if rest != "" {
		rest, ri.flags = builderFlags(rest, escape)
	}
	rest = strings.TrimSpace(rest)
	var err error
	switch strings.ToLower(name) {
	case "add", "copy", "volume":
		ri.args, ri.json, err = jsonOrWords(rest)
	case "cmd", "entrypoint", "run", "shell":
		ri.args, ri.json, err = jsonOrWhole(rest)
	case "arg":
		ri.args = quotedWords(rest, escape)
	case "env", "label":
		ri.args, err = nameValues(rest, strings.ToUpper(name), escape)
	case "expose", "from":
		ri.args = spaceFields(rest)
	case "healthcheck":
		ri.args, ri.json, err = healthArgs(rest)
	case "maintainer", "stopsignal", "user", "workdir":
		ri.args = whole(rest)
	case "onbuild":
		err = ri.splitTrigger(rest, escape)
	}
	if err != nil {
		return nil, err
	}
	return ri, nil
}

// splitTrigger reads ONBUILD's instruction, which is a line of its own.
func (ri *rawInstruction) splitTrigger(rest string, escape byte) error {
	if rest == "" {
		return nil
	}
	t, err := splitLine(rest, escape)
	if err != nil {
		return err
	}
	ri.trigger = t
	ri.args = append([]string{t.name}, t.args...)
	return nil
}

// isDockerSpace is the white space docker splits instructions at: ASCII
// space, tab, \v, \f and \r (not \n, which ends a line anyway).
func isDockerSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'
}

// cutSpace cuts s at its first run of white space.
func cutSpace(s string) (before, after string, found bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < utf8.RuneSelf && isDockerSpace(byte(r)) })
	if i < 0 {
		return s, "", false
	}
	j := i
	for j < len(s) && isDockerSpace(s[j]) {
		j++
	}
	return s[:i], s[j:], true
}

// spaceFields splits at runs of white space (FROM, EXPOSE, and the shell
// form of COPY, ADD and VOLUME: quotes do not group words there).
func spaceFields(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for {
		word, rest, found := cutSpace(s)
		out = append(out, word)
		if !found {
			return out
		}
		s = rest
	}
}

func whole(rest string) []string {
	if rest == "" {
		return nil
	}
	return []string{rest}
}

// parseJSONArray reads the exec form: a JSON array of strings.
func parseJSONArray(rest string) ([]string, error) {
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	if !strings.HasPrefix(rest, "[") {
		return nil, errNotJSONArray
	}
	var items []any
	if err := json.Unmarshal([]byte(rest), &items); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, errNotStringArray
		}
		out = append(out, s)
	}
	return out, nil
}

// jsonOrWhole is the rule of RUN, CMD, ENTRYPOINT and SHELL: a JSON array
// of strings, or else the whole rest as one shell command. A JSON array
// holding something other than strings is an error, not a shell command.
func jsonOrWhole(rest string) ([]string, bool, error) {
	if rest == "" {
		return nil, false, nil
	}
	args, err := parseJSONArray(rest)
	if err == nil {
		return args, true, nil
	}
	if errors.Is(err, errNotStringArray) {
		return nil, false, err
	}
	return []string{rest}, false, nil
}

// jsonOrWords is the rule of COPY, ADD and VOLUME: a JSON array, or words.
func jsonOrWords(rest string) ([]string, bool, error) {
	args, err := parseJSONArray(rest)
	if err == nil {
		return args, true, nil
	}
	if errors.Is(err, errNotStringArray) {
		return nil, false, err
	}
	return spaceFields(rest), false, nil
}

// healthArgs is HEALTHCHECK's rule: a type word (CMD, NONE), then a
// command by RUN's rule. Docker tests the bytes of the type word one by
// one for white space, so we do too.
func healthArgs(rest string) ([]string, bool, error) {
	sep := 0
	for sep < len(rest) && !unicode.IsSpace(rune(rest[sep])) {
		sep++
	}
	if sep == 0 {
		return nil, false, nil
	}
	next := sep
	for next < len(rest) && unicode.IsSpace(rune(rest[next])) {
		next++
	}
	cmd, isJSON, err := jsonOrWhole(rest[next:])
	if err != nil {
		return nil, false, err
	}
	return append([]string{rest[:sep]}, cmd...), isJSON, nil
}

package dockerfile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// noEnv expands no variable: heredoc names are read before any ENV exists.
var noEnv = shell.EnvsFromSlice(nil)

// mayHaveHeredocs reports whether a line's instruction takes heredocs:
// RUN, COPY and ADD in shell form, directly or as an ONBUILD trigger.
func (ri *rawInstruction) mayHaveHeredocs() bool {
	if strings.EqualFold(ri.name, "onbuild") && ri.trigger != nil {
		ri = ri.trigger
	}
	switch strings.ToLower(ri.name) {
	case "run", "copy", "add":
		return !ri.json
	}
	return false
}

// lineHeredocs finds the heredocs a line opens: the words of the line (as
// the shell would split them) that read "<<NAME", "<<-NAME" or "3<<NAME".
func lineHeredocs(line string) ([]Heredoc, error) {
	lex := shell.NewLex('\\')
	lex.RawQuotes, lex.RawEscapes, lex.SkipUnsetEnv = true, true, true
	words, _ := lex.ProcessWords(line, noEnv)
	var docs []Heredoc
	for _, w := range words {
		h, err := heredocWord(w)
		if err != nil {
			return nil, err
		}
		if h != nil {
			docs = append(docs, *h)
		}
	}
	return docs, nil
}

// heredocWord reads one word as a heredoc opener: optional digits (a file
// descriptor), "<<", an optional "-", then the name, which holds no '<'.
// A quoted name ("<<'EOF'") turns expansion of the body off. It returns
// nil for a word that is not an opener.
func heredocWord(w string) (*Heredoc, error) {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if !strings.HasPrefix(w[i:], "<<") {
		return nil, nil
	}
	rest := w[i+2:]
	chomp := strings.HasPrefix(rest, "-")
	if chomp {
		rest = rest[1:]
	}
	rest = strings.TrimLeft(rest, reSpace)
	if rest == "" || strings.Contains(rest, "<") {
		return nil, nil
	}
	_, _ = strconv.ParseUint(w[:i], 10, 0) // the descriptor: not used by the classic builder
	name, quoted, err := heredocName(rest)
	if err != nil || name == "" {
		return nil, err
	}
	return &Heredoc{Name: name, Chomp: chomp, Expand: !quoted}, nil
}

// heredocName is the name of a heredoc with its quotes removed, and
// whether it had quotes. "" when the text is not a single word.
func heredocName(text string) (string, bool, error) {
	lex := shell.NewLex('\\')
	lex.SkipUnsetEnv = true
	words, err := lex.ProcessWords(text, noEnv)
	if err != nil {
		return "", false, err
	}
	if len(words) != 1 {
		return "", false, nil
	}
	lex.RawQuotes = true
	raw, err := lex.ProcessWords(text, noEnv)
	if err != nil {
		return "", false, err
	}
	if len(raw) != 1 {
		return "", false, fmt.Errorf("internal lexing of heredoc produced inconsistent results: %s", text)
	}
	quotes := func(s string) int { return strings.Count(s, `'`) + strings.Count(s, `"`) }
	return words[0], quotes(words[0]) != quotes(raw[0]), nil
}

// chompTabs removes the tabs at the start of every line (<<-).
func chompTabs(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "")
}

package dockerfile

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quotedWords splits at white space outside quotes (ARG, ENV and LABEL).
// Quotes and escapes stay in the words: expansion removes them later.
func quotedWords(s string, escape byte) []string {
	var words []string
	var w strings.Builder
	inWord, quote, quoted := false, rune(0), false
	esc := rune(escape)
	for pos := 0; pos < len(s); {
		ch, width := utf8.DecodeRuneInString(s[pos:])
		pos += width
		switch {
		case quote == 0 && unicode.IsSpace(ch):
			if inWord && (quoted || w.Len() > 0) {
				words = append(words, w.String())
			}
			w.Reset()
			inWord, quoted = false, false
			continue
		case ch == esc && (quote == 0 || quote == '"'):
			if pos == len(s) {
				quote = 0 // an escape at the very end is dropped, and ends a quote
				continue
			}
			w.WriteRune(ch)
			ch, width = utf8.DecodeRuneInString(s[pos:])
			pos += width
		case quote != 0 && ch == quote:
			quote = 0
		case quote == 0 && (ch == '\'' || ch == '"'):
			quote, quoted = ch, true
		}
		inWord = true
		w.WriteRune(ch)
	}
	if inWord && (quoted || w.Len() > 0) {
		words = append(words, w.String())
	}
	return words
}

// nameValues reads ENV's and LABEL's arguments as triples (name, value,
// "=" or ""): either "name=value …" or the old "name value" form, where
// the value is the rest of the line.
func nameValues(rest, instruction string, escape byte) ([]string, error) {
	words := quotedWords(rest, escape)
	if len(words) == 0 {
		return nil, nil
	}
	if !strings.Contains(words[0], "=") {
		name, value, found := cutSpace(rest)
		if !found {
			return nil, fmt.Errorf("%s must have two arguments", instruction)
		}
		return []string{name, value, ""}, nil
	}
	var out []string
	for _, word := range words {
		name, value, found := strings.Cut(word, "=")
		if !found {
			return nil, fmt.Errorf("Syntax error - can't find = in %q. Must be of the form: name=value", word)
		}
		out = append(out, name, value, "=")
	}
	return out, nil
}

// builderFlags takes the --flags off the front of an instruction's
// arguments ("COPY --from=build /a /b"), with quotes and escapes removed
// from them, and returns what follows. A lone "--" ends the flags. Docker
// reads these one byte at a time, so a byte of a multi-byte character is
// taken as a character of its own; we do the same.
func builderFlags(line string, escape byte) (string, []string) {
	var flags []string
	pos := 0
	for {
		for pos < len(line) && unicode.IsSpace(rune(line[pos])) {
			pos++
		}
		if pos == len(line) {
			return "", flags
		}
		if !strings.HasPrefix(line[pos:], "--") || pos+2 > len(line) {
			return line[pos:], flags
		}
		word, end, ended := flagWord(line, pos, escape)
		if word == "--" && end < len(line) {
			return line[end:], flags
		}
		if word != "--" && (word != "" || ended) {
			flags = append(flags, word)
		}
		if end == len(line) {
			return "", flags
		}
		pos = end
	}
}

// flagWord reads one flag starting at pos: up to white space outside
// quotes. It returns the word, where it ended, and whether it held quotes
// (an empty quoted word still counts).
func flagWord(line string, pos int, escape byte) (string, int, bool) {
	var w strings.Builder
	quote, quoted := byte(0), false
	for ; pos < len(line); pos++ {
		ch := line[pos]
		switch {
		case quote == 0 && unicode.IsSpace(rune(ch)):
			return w.String(), pos, quoted
		case quote == 0 && (ch == '\'' || ch == '"'):
			quote, quoted = ch, true
			continue
		case quote != 0 && ch == quote:
			quote = 0
			continue
		case ch == escape:
			if pos+1 == len(line) {
				quote = 0
				continue
			}
			pos++
			ch = line[pos]
		}
		w.WriteRune(rune(ch))
	}
	return w.String(), pos, quoted
}

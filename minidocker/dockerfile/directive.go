package dockerfile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// The parser directives docker knows. Any other "# name=value" at the top is
// an ordinary comment, and so is every directive after the first line
// that is not one.
var knownDirectives = map[string]bool{"syntax": true, "escape": true, "check": true}

// directive handles a line at the top of the file that may be a parser
// directive ("# escape=`"). The first line that is not one ends the
// directives; each may be given once.
func (r *reader) directive(line []byte) error {
	if r.topDone {
		return nil
	}
	name, value, ok := splitDirective(line)
	if !ok || !knownDirectives[name] {
		r.topDone = true
		return nil
	}
	if r.seen[name] {
		return fmt.Errorf("only one %s parser directive can be used", name)
	}
	r.seen[name] = true
	if name == "escape" {
		if value != "`" && value != `\` {
			return fmt.Errorf("invalid escape token '%s' does not match ` or \\", value)
		}
		r.escape = value[0]
	}
	return nil
}

// splitDirective reads "#name=value": a name of letters and digits that
// starts with a letter, spaces allowed around "=", the value trimmed. A
// value of only spaces counts as its last space (docker reads these
// lines with a regular expression whose lazy value part takes it).
func splitDirective(line []byte) (name, value string, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte("#"))
	if !found {
		return "", "", false
	}
	rest = bytes.TrimLeftFunc(rest, unicode.IsSpace)
	n := 0
	for n < len(rest) && (isASCIILetter(rest[n]) || n > 0 && rest[n] >= '0' && rest[n] <= '9') {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	after := bytes.TrimLeft(rest[n:], reSpace)
	if len(after) == 0 || after[0] != '=' {
		return "", "", false
	}
	val := after[1:]
	trimmed := bytes.Trim(val, reSpace)
	switch {
	case len(trimmed) > 0:
		value = string(trimmed)
	case len(val) > 0:
		value = string(val[len(val)-1:])
	default:
		return "", "", false
	}
	return strings.ToLower(string(rest[:n])), value, true
}

// reSpace is what \s means in Go's regular expressions: ASCII white space
// without \v. Docker's parser uses it in a few places, so we do too.
const reSpace = "\t\n\f\r "

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

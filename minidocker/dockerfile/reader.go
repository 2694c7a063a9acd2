package dockerfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// maxLineLen is the longest physical line the reader takes, docker's
// (bufio.Scanner's default buffer, newline included).
const maxLineLen = bufio.MaxScanTokenSize

// logicalLine is one instruction as written: its physical lines joined
// (continuations cut, comments and blank lines inside dropped), and the
// heredoc bodies that follow it.
type logicalLine struct {
	text     string
	line     int // 1-based number of its first physical line
	heredocs []Heredoc
	inst     *rawInstruction
}

// reader walks the physical lines of a Dockerfile.
type reader struct {
	scan     *bufio.Scanner
	lineNo   int  // physical lines consumed so far
	escape   byte // '\\' or '`', set by the escape directive
	topDone  bool // a line that is not a parser directive was seen
	seen     map[string]bool
	warnings []string
}

func newReader(data []byte) *reader {
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Split(splitKeepNewline)
	return &reader{scan: s, escape: '\\', seen: map[string]bool{}}
}

// splitKeepNewline is bufio.ScanLines that keeps the "\n": a heredoc body
// is copied with its line ends.
func splitKeepNewline(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// next returns the next logical line, or nil at the end of the file (or
// at a line too long: see scanError).
func (r *reader) next() (*logicalLine, error) {
	for r.scan.Scan() {
		raw := r.scan.Bytes()
		if r.lineNo == 0 {
			raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) // a UTF-8 byte order mark
		}
		first := bytes.TrimLeftFunc(trimNewline(raw), unicode.IsSpace)
		if err := r.directive(first); err != nil {
			return nil, err
		}
		r.lineNo++
		if isComment(first) {
			continue
		}
		text, more := r.cutContinuation(first)
		if !more && len(text) == 0 {
			continue // a blank line
		}
		ll := &logicalLine{line: r.lineNo}
		ll.text = r.joinContinued(text, more)
		return ll, nil
	}
	return nil, nil
}

// joinContinued appends the lines that continue the first one. Comment
// lines in between are skipped; blank ones too, with a warning as docker
// gives.
func (r *reader) joinContinued(text []byte, more bool) string {
	var b strings.Builder
	b.Write(text)
	blank := false
	for more && r.scan.Scan() {
		r.lineNo++
		line := trimNewline(r.scan.Bytes())
		if isComment(line) {
			continue
		}
		if len(bytes.TrimLeftFunc(line, unicode.IsSpace)) == 0 {
			blank = true
			continue
		}
		line, more = r.cutContinuation(line)
		b.Write(line)
	}
	if blank {
		r.warnings = append(r.warnings, "Empty continuation line found in: "+b.String())
	}
	return b.String()
}

// scanError is the reader's error at the end: a line too long for it.
func (r *reader) scanError() error {
	if errors.Is(r.scan.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("dockerfile line greater than max allowed size of %d", maxLineLen-1)
	}
	return r.scan.Err()
}

// cutContinuation reports whether a line continues on the next one: it
// ends with the escape character (spaces and tabs after it allowed) that
// is not itself escaped. The escape character is cut off.
func (r *reader) cutContinuation(line []byte) ([]byte, bool) {
	end := len(line)
	for end > 0 && (line[end-1] == ' ' || line[end-1] == '\t') {
		end--
	}
	if end == 0 || line[end-1] != r.escape {
		return line, false
	}
	if end >= 2 && line[end-2] == r.escape {
		return line, false
	}
	return line[:end-1], true
}

// readHeredocs reads the bodies of the heredocs a line opened: each runs
// to a line that is exactly its name (leading tabs ignored for <<-).
func (r *reader) readHeredocs(docs []Heredoc) ([]Heredoc, error) {
	for i := range docs {
		var body strings.Builder
		done := false
		for !done && r.scan.Scan() {
			r.lineNo++
			raw := r.scan.Bytes()
			end := trimNewline(raw)
			if docs[i].Chomp {
				end = bytes.TrimLeft(end, "\t")
			}
			if string(end) == docs[i].Name {
				done = true
				break
			}
			body.Write(raw)
		}
		if !done {
			return nil, errors.New("unterminated heredoc")
		}
		docs[i].Content = body.String()
	}
	return docs, nil
}

func trimNewline(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

func isComment(line []byte) bool {
	line = bytes.TrimLeftFunc(line, unicode.IsSpace)
	return len(line) > 0 && line[0] == '#'
}

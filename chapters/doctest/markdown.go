package doctest

import (
	"os"
	"strings"
)

// Block is one fenced code block of a chapter, with the hidden doctest
// comments written just before it.
type Block struct {
	File       string      // the markdown file
	Line       int         // line of the opening fence, 1-based
	Lang       string      // what follows the opening ```: "dockerfile", "console", …
	Body       string      // the lines between the fences
	Directives []Directive // the <!-- doctest: … --> comments before it
}

// Directive is one hidden comment: `<!-- doctest: KEY ARGS` and, for
// setup and cleanup, the command lines up to `-->`.
type Directive struct {
	Key  string
	Args []string
	Body []string
}

// Has reports whether the block carries a directive named key.
func (b Block) Has(key string) bool { return len(b.All(key)) > 0 }

// All returns the block's directives named key, in order.
func (b Block) All(key string) []Directive {
	var ds []Directive
	for _, d := range b.Directives {
		if d.Key == key {
			ds = append(ds, d)
		}
	}
	return ds
}

// ParseFile reads a markdown file and returns its fenced blocks.
func ParseFile(path string) ([]Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(b)), nil
}

// Parse splits markdown text into its fenced code blocks. Directives stay
// attached across blank lines and other directives; any other text line
// between a comment and a fence detaches them.
func Parse(file, text string) []Block {
	lines := strings.Split(text, "\n")
	var blocks []Block
	var pending []Directive
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "<!-- doctest:"):
			d, end := parseDirective(lines, i)
			pending = append(pending, d)
			i = end
		case strings.HasPrefix(line, "```"):
			end := i + 1
			for end < len(lines) && !strings.HasPrefix(lines[end], "```") {
				end++
			}
			blocks = append(blocks, Block{File: file, Line: i + 1, Lang: strings.TrimSpace(line[3:]),
				Body: strings.Join(lines[i+1:min(end, len(lines))], "\n"), Directives: pending})
			pending = nil
			i = end
		case strings.TrimSpace(line) != "":
			pending = nil
		}
	}
	return blocks
}

// parseDirective reads the comment starting at lines[start] and returns it
// with the index of its last line.
func parseDirective(lines []string, start int) (Directive, int) {
	head := strings.TrimSpace(strings.TrimPrefix(lines[start], "<!-- doctest:"))
	closed := strings.HasSuffix(head, "-->")
	fields := strings.Fields(strings.TrimSuffix(head, "-->"))
	var d Directive
	if len(fields) > 0 {
		d.Key, d.Args = fields[0], fields[1:]
	}
	end := start
	for !closed && end+1 < len(lines) {
		end++
		if strings.TrimSpace(lines[end]) == "-->" {
			break
		}
		d.Body = append(d.Body, lines[end])
	}
	return d, end
}

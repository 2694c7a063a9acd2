package dockerfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// File is a parsed Dockerfile.
type File struct {
	// MetaArgs are the ARGs before the first FROM: the only variables a
	// FROM line may use.
	MetaArgs []*ArgCommand
	Stages   []Stage
	// Escape is the escape character ('\\', or '`' after "# escape=`"),
	// which word expansion uses too.
	Escape rune
	// Warnings are the parser's warnings (empty continuation lines).
	Warnings []string
}

// Parse reads a Dockerfile. The first pass (reader.go, line.go) finds the
// logical lines and splits each into its parts; the second
// (instructions.go) gives each its type and groups them into stages. An
// error of the second pass names the line: "dockerfile parse error on
// line 3: …".
func Parse(data []byte) (*File, error) {
	lines, escape, warnings, err := readLines(data)
	if err != nil {
		return nil, err
	}
	f := &File{Escape: escape, Warnings: warnings}
	for _, ll := range lines {
		v, err := instruction(ll.inst)
		if err != nil {
			return nil, fmt.Errorf("dockerfile parse error on line %d: %w", ll.line, err)
		}
		if err := f.add(v); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// add puts one instruction where it belongs: a FROM starts a stage, an ARG
// before any FROM is a meta ARG, anything else joins the current stage.
func (f *File) add(v any) error {
	switch c := v.(type) {
	case *Stage:
		f.Stages = append(f.Stages, *c)
	case *ArgCommand:
		if len(f.Stages) == 0 {
			f.MetaArgs = append(f.MetaArgs, c)
			return nil
		}
		f.Stages[len(f.Stages)-1].Commands = append(f.Stages[len(f.Stages)-1].Commands, c)
	case Command:
		if len(f.Stages) == 0 {
			return errors.New("no build stage in current context")
		}
		f.Stages[len(f.Stages)-1].Commands = append(f.Stages[len(f.Stages)-1].Commands, c)
	}
	return nil
}

// readLines is the first pass: every logical line, split, with its
// heredocs read.
func readLines(data []byte) ([]*logicalLine, rune, []string, error) {
	r := newReader(data)
	var lines []*logicalLine
	for {
		ll, err := r.next()
		if err != nil {
			return nil, 0, nil, err
		}
		if ll == nil {
			break
		}
		if ll.inst, err = splitLine(ll.text, r.escape); err != nil {
			return nil, 0, nil, err
		}
		ll.inst.line = ll.line
		if ll.inst.mayHaveHeredocs() && strings.Contains(ll.text, "<<") {
			if err := r.attachHeredocs(ll); err != nil {
				return nil, 0, nil, err
			}
		}
		lines = append(lines, ll)
	}
	if len(lines) == 0 {
		return nil, 0, nil, errors.New("file with no instructions")
	}
	if err := r.scanError(); err != nil {
		return nil, 0, nil, err // docker reports an empty file first, then a line too long
	}
	return lines, rune(r.escape), r.warnings, nil
}

// attachHeredocs reads the bodies of the heredocs a line opens.
func (r *reader) attachHeredocs(ll *logicalLine) error {
	docs, err := lineHeredocs(ll.text)
	if err != nil {
		return err
	}
	if docs, err = r.readHeredocs(docs); err != nil {
		return err
	}
	ll.inst.heredocs = docs
	if ll.inst.trigger != nil {
		ll.inst.trigger.heredocs = docs
	}
	return nil
}

// ParseTrigger parses an ONBUILD trigger, which an image keeps as text,
// into the one command it holds.
func ParseTrigger(text string) (Command, error) {
	lines, _, _, err := readLines([]byte(text))
	if err != nil {
		return nil, err
	}
	if len(lines) != 1 {
		return nil, errors.New("onbuild trigger should be a single expression")
	}
	v, err := instruction(lines[0].inst)
	if err != nil {
		return nil, err
	}
	c, ok := v.(Command)
	if !ok {
		return nil, fmt.Errorf("%s isn't allowed as an ONBUILD trigger", strings.ToUpper(lines[0].inst.name))
	}
	return c, nil
}

// WriteWarnings prints the parser's warnings as docker does.
func (f *File) WriteWarnings(w io.Writer) {
	if len(f.Warnings) == 0 {
		return
	}
	for _, s := range f.Warnings {
		fmt.Fprintf(w, "[WARNING]: %s\n", s)
	}
	fmt.Fprint(w, "[WARNING]: Empty continuation lines will become errors in a future release.\n")
}

// HasStage finds a stage by name (--target), ignoring case.
func (f *File) HasStage(name string) (int, bool) {
	for i, s := range f.Stages {
		if strings.EqualFold(s.Name, name) {
			return i, true
		}
	}
	return -1, false
}

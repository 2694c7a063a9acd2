package cli

import (
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/kong"
)

// Building kong's parser reflects over every flag of every command and
// interpolates every help text: for a CLI of this size that cost more than
// everything else a `minidocker` process does before its first request
// (issue 14's process start). A command line names one command, so parse
// builds kong's model from a struct made for it (model below): the global
// flags and the one command named (in a group, the group holding only the
// command named: narrowed), or only the commands' names when the line
// names none (kong needs those for its error and its "did you mean"; for a
// word that is no command, only the names kong could suggest). Help
// for the whole CLI, which lists every subcommand, still gets the full CLI.
//
// A line that asks no help shows no help text, yet kong reads every tag in
// full and runs its ${variable} interpolation over every help string: for
// run's hundred and twenty flags the help was most of that reading. So the
// command named is given to kong as a copy of its struct without help tags
// (helpless below), and the values kong parses into the copy go back into
// the command's own struct before its Run (runnable).

// topCommand is a command of the CLI's first level: its names and where its
// field is in CLI (through the embedded groups).
type topCommand struct {
	names []string // the name, then the aliases
	field reflect.StructField
}

// topCommands lists the first-level commands of CLI, as kong names them:
// the name tag or the field's name in lower case with dashes, plus aliases.
func topCommands() []topCommand {
	cmds := make([]topCommand, 0, 64) // room for all of them (46 today) in one allocation
	eachCommand(reflect.TypeFor[CLI](), func(f reflect.StructField) bool {
		names := []string{commandName(f)}
		if a := f.Tag.Get("aliases"); a != "" {
			names = append(names, strings.Split(a, ",")...)
		}
		cmds = append(cmds, topCommand{names: names, field: f})
		return true
	})
	return cmds
}

// findCommand is the field of the command of t called name (by its name
// or an alias): t is CLI for the first level, or a group such as
// ContainerCmd. It lists nothing on the way: a line that names a command
// builds no topCommands.
func findCommand(t reflect.Type, name string) (field reflect.StructField, found bool) {
	eachCommand(t, func(f reflect.StructField) bool {
		found = isNamed(f, name)
		field = f
		return !found
	})
	return field, found
}

// isNamed reports whether name is a command field's name or one of its
// aliases. Building a field's dashed name allocates, and a dashed name is at
// least as long as the field's and starts with its letter: most fields are
// ruled out without it (nosuchcmd is compared with every command).
func isNamed(f reflect.StructField, name string) bool {
	if tagName := f.Tag.Get("name"); tagName != "" {
		if tagName == name {
			return true
		}
	} else if len(name) >= len(f.Name) && strings.EqualFold(name[:1], f.Name[:1]) && dashed(f.Name) == name {
		return true
	}
	return hasAlias(f, name)
}

// hasAlias reports whether name is one of a command field's aliases.
func hasAlias(f reflect.StructField, name string) bool {
	aliases := f.Tag.Get("aliases")
	if aliases == "" { // SplitSeq would yield one empty alias
		return false
	}
	for alias := range strings.SplitSeq(aliases, ",") {
		if alias == name {
			return true
		}
	}
	return false
}

// eachCommand calls yield with each command field of t, through the
// embedded groups, until yield returns false; it reports whether it went
// through all of them.
func eachCommand(t reflect.Type, yield func(reflect.StructField) bool) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if _, ok := f.Tag.Lookup("embed"); ok {
			if !eachCommand(f.Type, yield) {
				return false
			}
			continue
		}
		if _, ok := f.Tag.Lookup("cmd"); ok && !yield(f) {
			return false
		}
	}
	return true
}

// commandName is a command field's name as kong gives it: the name tag, or
// the field's name with dashes.
func commandName(f reflect.StructField) string {
	if name := f.Tag.Get("name"); name != "" {
		return name
	}
	return dashed(f.Name)
}

// dashed is kong's default command name: "ImagePrune" → "image-prune".
func dashed(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) && !unicode.IsUpper(rune(s[i-1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// model returns the struct kong should parse args into, and the Globals
// inside it that the command's Run receives.
func model(args []string) (any, *Globals) {
	words, ok := commandWords(args)
	if !ok { // help or an unusual line: kong sees the whole CLI
		c := &CLI{}
		return c, &c.Globals
	}
	name := ""
	if len(words) > 0 {
		name = words[0]
	}
	if f, ok := findCommand(reflect.TypeFor[CLI](), name); ok {
		return withCommands(narrowed(f, words[1:]))
	}
	cmds := topCommands()
	// No command named: kong only needs the names, to say what it expected
	// or which one the word is close to. The stubs carry no help text, so kong
	// has nothing to parse or interpolate beyond the names.
	if name != "" {
		cmds = suggestable(name, cmds)
	}
	stubs := make([]reflect.StructField, len(cmds))
	for i, cmd := range cmds {
		stubs[i] = reflect.StructField{Name: cmd.field.Name, Type: reflect.TypeFor[struct{}](), Tag: stubTag(cmd)}
	}
	return withCommands(stubs...)
}

// stubTag is the tag of a command's stub: what kong's errors read (the
// names, and whether the command is hidden from them), nothing else.
func stubTag(cmd topCommand) reflect.StructTag {
	tag := `cmd:"" name:"` + cmd.names[0] + `"`
	if len(cmd.names) > 1 {
		tag += ` aliases:"` + strings.Join(cmd.names[1:], ",") + `"`
	}
	if _, ok := cmd.field.Tag.Lookup("hidden"); ok {
		tag += ` hidden:""`
	}
	return reflect.StructTag(tag)
}

// suggestable keeps the commands kong's "unexpected argument WORD, did you
// mean ..." can name: those whose name starts with word or is within two
// edits of it. The others play no part in that error, and each command kong
// builds a node for costs it a few kilobytes of allocations (and the process
// a page fault or so) on a line that only prints an error.
func suggestable(word string, cmds []topCommand) []topCommand {
	var keep []topCommand
	for _, cmd := range cmds {
		if strings.HasPrefix(cmd.names[0], word) || withinTwoEdits(cmd.names[0], word) {
			keep = append(keep, cmd)
		}
	}
	return keep
}

// withinTwoEdits reports whether a and b are at most two edits apart. Each
// edit changes the length by one rune at most, so names whose lengths differ
// by more than two are not compared rune by rune.
func withinTwoEdits(a, b string) bool {
	if d := utf8.RuneCountInString(a) - utf8.RuneCountInString(b); d > 2 || d < -2 {
		return false
	}
	return editDistance(a, b) <= 2
}

// editDistance is the Levenshtein distance between a and b in runes, the
// measure kong's suggestions use.
func editDistance(sa, sb string) int {
	a, b := []rune(sa), []rune(sb)
	// prev and cur are two rows of the usual table: the distances from a's
	// first i-1 and i runes to each prefix of b.
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			substitute := prev[j-1]
			if a[i-1] != b[j-1] {
				substitute++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, substitute)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// withCommands makes a struct of the global flags and the given command
// fields, and returns a new one.
func withCommands(cmds ...reflect.StructField) (any, *Globals) {
	fields := []reflect.StructField{{Name: "Globals", Type: reflect.TypeFor[Globals](), Tag: `embed:""`}}
	for _, f := range cmds {
		fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
	}
	v := reflect.New(reflect.StructOf(fields))
	return v.Interface(), v.Elem().Field(0).Addr().Interface().(*Globals)
}

// commandWords are the words of args up to the first flag that is not a
// global one, global flags left out: the command's name and, for a group,
// its command's (`container ls`), then the arguments. ok is false when the
// whole CLI is needed: help is asked for, or a flag other than the global
// ones comes first (kong then reports it against the full CLI, as before).
func commandWords(args []string) (words []string, ok bool) {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			return nil, false
		}
	}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-H" || a == "--host":
			i++ // its value
		case strings.HasPrefix(a, "--host=") || a == "-D" || a == "--debug":
		case strings.HasPrefix(a, "-"):
			return words, len(words) > 0
		default:
			words = append(words, a)
		}
	}
	return words, true
}

// narrowed is a command's field as kong gets it: helpless and, when the
// command is a group whose command the next word names, with that command
// only (narrowed in turn): a line names one command at each level, and a
// group holds many (`container` has twenty-five, run's flags among them).
// A word that names none leaves the whole group, for kong's error.
func narrowed(f reflect.StructField, words []string) reflect.StructField {
	if len(words) > 0 && isGroup(f.Type) {
		if sub, ok := findCommand(f.Type, words[0]); ok {
			only := reflect.StructOf([]reflect.StructField{narrowed(sub, words[1:])})
			return reflect.StructField{Name: f.Name, Type: only, Tag: withoutHelp(f.Tag)}
		}
	}
	return reflect.StructField{Name: f.Name, Type: helpless(f.Type), Tag: withoutHelp(f.Tag)}
}

// isGroup reports whether t is a group of commands (its fields are
// commands) rather than one command (its fields are flags and arguments),
// without going through all of a command's flags.
func isGroup(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() > 0 && hasTag(t.Field(0), "cmd")
}

// commandType is the type of the command a model from model holds beside
// the global flags, through a group narrowed to one command (`container
// ls` is PsCmd): its real type, not its helpless copy. It is nil for the
// full CLI and for stubs.
func commandType(root any) reflect.Type {
	t := reflect.TypeOf(root).Elem()
	if t.NumField() != 2 {
		return nil
	}
	return realCommand(t.Field(1).Type)
}

// realCommand is the command type behind t, a command's type in a model.
func realCommand(t reflect.Type) reflect.Type {
	if real, ok := realTypes.Load(t); ok {
		return real.(reflect.Type)
	}
	switch {
	case t.Name() != "": // a command helpless kept as it is
		return t
	case t.NumField() == 1 && hasTag(t.Field(0), "cmd"): // a group narrowed to one command
		return realCommand(t.Field(0).Type)
	}
	return nil // a stub
}

// realTypes maps each struct type helpless made to the type it copies.
var realTypes sync.Map // reflect.Type → reflect.Type

// helpless is a command's struct type t without help in its tags, with its
// embedded flag groups and subcommands made the same way: the same fields
// of the same types in the same order, so kong parses the same line into
// it, and the values copy field by field into t (see runnable). A type
// with an unexported field stays as it is (reflect.StructOf cannot make
// one); kong then reads its help, as it would without this.
func helpless(t reflect.Type) reflect.Type {
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		if !f.IsExported() {
			return t
		}
		typ := f.Type
		if typ.Kind() == reflect.Struct && (f.Anonymous || hasTag(f, "cmd") || hasTag(f, "embed")) {
			typ = helpless(typ)
		}
		fields[i] = reflect.StructField{Name: f.Name, Type: typ, Tag: withoutHelp(f.Tag), Anonymous: f.Anonymous}
	}
	copied := reflect.StructOf(fields)
	realTypes.Store(copied, t)
	return copied
}

// hasTag reports whether f's tag has key, with any value.
func hasTag(f reflect.StructField, key string) bool {
	_, ok := f.Tag.Lookup(key)
	return ok
}

// withoutHelp is tag without its help key. A tag is key:"value" pairs
// separated by spaces, each value a Go string literal (reflect's
// convention, which go vet holds our tags to). It steps over the values
// without unquoting them as reflect's Lookup would: it reads every tag of
// the command once more before kong does, and should cost little.
func withoutHelp(tag reflect.StructTag) reflect.StructTag {
	s := string(tag)
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		key, value, ok := strings.Cut(s[i:], `:"`)
		end := closingQuote(value)
		if !ok || end < 0 {
			return tag // not reflect's convention: kong reads it as it is
		}
		next := i + len(key) + len(`:"`) + end + 1
		if key == "help" {
			return reflect.StructTag(strings.TrimSpace(strings.TrimRight(s[:i], " ") + " " + strings.TrimLeft(s[next:], " ")))
		}
		i = next
	}
	return tag
}

// closingQuote is the index of the quote that ends a string literal whose
// opening quote was just before s, or -1.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // the escaped byte, which may be a quote
		case '"':
			return i
		}
	}
	return -1
}

// runner is a command: each has a Run method taking the global flags
// (TestEveryCommandRuns checks that all of them do).
type runner interface{ Run(*Globals) error }

// runnable is the command kong selected, ready to Run: the struct kong
// parsed into, or, when that is a helpless copy, a command of the real type
// holding the values kong parsed into the copy.
func runnable(selected *kong.Node) (runner, bool) {
	if selected == nil {
		return nil, false
	}
	target := selected.Target
	if real, ok := realTypes.Load(target.Type()); ok {
		cmd := reflect.New(real.(reflect.Type))
		copyFields(cmd.Elem(), target)
		target = cmd.Elem()
	}
	r, ok := target.Addr().Interface().(runner)
	return r, ok
}

// copyFields sets each field of dst to src's: the same field where the
// types are the same, field by field into the structs helpless copied.
func copyFields(dst, src reflect.Value) {
	for i := range src.NumField() {
		if d, s := dst.Field(i), src.Field(i); d.Type() == s.Type() {
			d.Set(s)
		} else {
			copyFields(d, s)
		}
	}
}

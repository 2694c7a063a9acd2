package dockerfile

import (
	"fmt"
	"sort"
	"strings"
)

// flagKind is how a --flag takes its value.
type flagKind int

const (
	boolFlag    flagKind = iota // --link, --link=true, --link=false
	stringFlag                  // --from=build, given at most once
	stringsFlag                 // --exclude=a --exclude=b, repeatable
)

// flagSet reads an instruction's --flags against the ones it declares.
type flagSet struct {
	given  []string
	kinds  map[string]flagKind
	values map[string][]string // what each used flag was given, in order
	order  []string            // used flags, first use first
}

func newFlagSet(given []string) *flagSet {
	return &flagSet{given: given, kinds: map[string]flagKind{}, values: map[string][]string{}}
}

// declare names the flags an instruction takes.
func (fs *flagSet) declare(kind flagKind, names ...string) {
	for _, n := range names {
		fs.kinds[n] = kind
	}
}

// parse checks every given flag: declared, given a value the way its kind
// wants, not repeated unless repeatable. Messages are docker's.
func (fs *flagSet) parse() error {
	for _, arg := range fs.given {
		if !strings.HasPrefix(arg, "--") {
			return fmt.Errorf("arg should start with -- : %s", arg)
		}
		full, value, hasValue := strings.Cut(arg, "=")
		name := full[2:]
		kind, ok := fs.kinds[name]
		if !ok {
			return withSuggestion(fmt.Errorf("unknown flag: %s", full), name, fs.names(), true)
		}
		if _, used := fs.values[name]; used && kind != stringsFlag {
			return fmt.Errorf("duplicate flag specified: %s", full)
		}
		v, err := flagValue(kind, full, value, hasValue)
		if err != nil {
			return err
		}
		if _, used := fs.values[name]; !used {
			fs.order = append(fs.order, name)
		}
		fs.values[name] = append(fs.values[name], v)
	}
	return nil
}

// flagValue is the value one use of a flag sets.
func flagValue(kind flagKind, full, value string, hasValue bool) (string, error) {
	if kind == boolFlag {
		if hasValue && value == "" {
			return "", fmt.Errorf("missing a value on flag: %s", full)
		}
		switch strings.ToLower(value) {
		case "", "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return "", fmt.Errorf("expecting boolean value for flag %s, not: %s", full, value)
	}
	if !hasValue {
		return "", fmt.Errorf("missing a value on flag: %s", full)
	}
	return value, nil
}

func (fs *flagSet) names() []string {
	out := make([]string, 0, len(fs.kinds))
	for n := range fs.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// str is a string flag's value ("" when not given).
func (fs *flagSet) str(name string) string {
	if v := fs.values[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// bool is a bool flag's value.
func (fs *flagSet) bool(name string) bool { return fs.str(name) == "true" }

// optBool is a bool flag's value, nil when it was not given.
func (fs *flagSet) optBool(name string) *bool {
	if _, used := fs.values[name]; !used {
		return nil
	}
	b := fs.bool(name)
	return &b
}

// list is every value a repeatable flag was given.
func (fs *flagSet) list(name string) []string { return fs.values[name] }

// withSuggestion adds docker's "(did you mean …?)" to err when one of
// options is within two edits of what was written.
func withSuggestion(err error, written string, options []string, caseSensitive bool) error {
	want := written
	if !caseSensitive {
		want = strings.ToLower(written)
	}
	best, bestDist := "", 3
	for _, opt := range options {
		if !caseSensitive {
			opt = strings.ToLower(opt)
		}
		if opt == want {
			return err
		}
		if d := editDistance(want, opt); d < bestDist {
			best, bestDist = opt, d
		}
	}
	if best == "" {
		return err
	}
	if !caseSensitive {
		best = sameCase(best, written)
	}
	return fmt.Errorf("%w (did you mean %s?)", err, best)
}

// sameCase writes s in written's case when that is all lower or all upper.
func sameCase(s, written string) string {
	switch written {
	case strings.ToLower(written):
		return strings.ToLower(s)
	case strings.ToUpper(written):
		return strings.ToUpper(s)
	}
	return s
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

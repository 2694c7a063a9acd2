package build

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// proxyArgs are the build args docker accepts without an ARG line. They are
// visible to RUN but never recorded in history unless declared.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

// buildArgs tracks ARG scoping the way the classic builder does:
//   - ARGs before the first FROM are "global": they may be used in FROM
//     lines, and a stage sees them only if it re-declares them (ARG NAME
//     without a value inherits the global value);
//   - an ARG inside a stage is visible from that line to the end of the stage;
//   - --build-arg overrides the default of a declared ARG;
//   - an ENV of the same name wins over an ARG when both are set.
type buildArgs struct {
	fromOptions map[string]*string // --build-arg
	global      map[string]*string // ARG before the first FROM
	declared    map[string]*string // ARGs of the current stage
	used        map[string]bool    // declared anywhere (for the "not consumed" warning)
}

func newBuildArgs(opts map[string]*string) *buildArgs {
	return &buildArgs{fromOptions: opts, global: map[string]*string{}, declared: map[string]*string{}, used: map[string]bool{}}
}

// newStage forgets the previous stage's ARGs.
func (b *buildArgs) newStage() { b.declared = map[string]*string{} }

func (b *buildArgs) declare(key string, def *string) {
	b.declared[key] = def
	b.used[key] = true
}

func (b *buildArgs) declareGlobal(key string, def *string) {
	b.global[key] = def
	b.declare(key, def)
}

// value resolves one name against a mapping (declared or global).
func (b *buildArgs) value(key string, mapping map[string]*string) (string, bool) {
	def, declared := mapping[key]
	if v, ok := b.fromOptions[key]; ok && v != nil && (declared || proxyArgs[key]) {
		return *v, true
	}
	if !declared {
		return "", false
	}
	if def == nil {
		if g, ok := b.global[key]; ok && g != nil {
			return *g, true
		}
		return "", false
	}
	return *def, true
}

func (b *buildArgs) all(mapping map[string]*string) map[string]string {
	m := map[string]string{}
	for k := range mapping {
		if v, ok := b.value(k, mapping); ok {
			m[k] = v
		}
	}
	for k := range proxyArgs {
		if v, ok := b.value(k, mapping); ok {
			m[k] = v
		}
	}
	return m
}

// globals are the values usable in FROM lines.
func (b *buildArgs) globals() []string { return kvList(b.all(b.global)) }

// inEffect returns "K=V" for every stage ARG with a value that is not
// shadowed by an ENV of the same name, sorted.
func (b *buildArgs) inEffect(env []string) []string {
	set := map[string]bool{}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		set[k] = true
	}
	m := b.all(b.declared)
	for k := range m {
		if set[k] {
			delete(m, k)
		}
	}
	return kvList(m)
}

// recorded is inEffect minus undeclared proxy args: what "|N K=V" shows.
func (b *buildArgs) recorded(env []string) []string {
	var out []string
	for _, kv := range b.inEffect(env) {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := b.declared[k]; ok || !proxyArgs[k] {
			out = append(out, kv)
		}
	}
	return out
}

func (b *buildArgs) warnUnused(w io.Writer) {
	var left []string
	for k := range b.fromOptions {
		if !b.used[k] && !proxyArgs[k] {
			left = append(left, k)
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		fmt.Fprintf(w, "[Warning] One or more build-args %v were not consumed\n", left)
	}
}

func kvList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

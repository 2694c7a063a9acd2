package dockerfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// The differential test: our parser and buildkit's (the one dockerd's
// classic builder uses) read the same Dockerfile, and must agree on
// everything the builder uses — the stages, each command's fields, the
// escape character, the warnings — or fail with the same message.
//
// One difference is intended: buildkit checks the values of RUN's
// --mount, --network, --security and --device, which we only record
// (the builder refuses all four, naming the flag). Where buildkit refuses
// such a value, we must have parsed a RUN that uses one of those flags,
// or refused the file too (maybe with another message: buildkit may find
// the bad value before a fault we report first).

// diffSeeds are the hand-written cases: each rule of the line reader and
// of each instruction, and the messages of its faults.
var diffSeeds = []string{
	"FROM busybox\n",
	"\xef\xbb\xbfFROM busybox\nRUN true\n",
	"# escape=`\nFROM busybox\nRUN echo `\n  continued\nCOPY a `\n b /c/\n",
	"# syntax=docker/dockerfile:1\n# escape=\\\nFROM busybox\n",
	"#escape = ` \nFROM x\nRUN a\\\n",
	"# escape=x\nFROM x\n", "# escape=\nFROM x\n", "# escape=   \nFROM x\n",
	"# escape=`\n# escape=`\nFROM x\n", "# syntax=a\n# Syntax=b\nFROM x\n",
	"\n# escape=`\nFROM x\nRUN a`\n", "# comment\n# escape=`\nFROM x\n", "# unknown=1\n# escape=`\nFROM x\nRUN a `\n b\n",
	"FROM busybox\nRUN a \\\n\n  b \\\n # comment\n  c\n",
	"FROM busybox\nRUN a \\\\\nRUN b\\ \t\nRUN c\n", "FROM x\nRUN \\\n",
	"\\\nFROM x\n", "FROM x\n\\\n\\\n", "FROM x\n   \t\n  # indented comment\n\tRUN y\r\n",
	"", "# only a comment\n", "\n\n", "RUN true\n", "ARG A=1\nARG B\nFROM busybox:$A\nARG A\n",
	"ARG\nFROM x\n", "ARG =x\nFROM x\n", "ARG --flag X=1 Y=\"a b\" 'Z'=c\\ d\nFROM x\n",
	"FROM busybox AS Build\nFROM build\n", "FROM busybox as 1x\n", "FROM busybox AS a:b\n", "FROM a b\n", "FROM\n",
	"FROM --platform=linux/amd64 busybox AS a.b-c_d\n", "FROM --plat=x busybox\n", "FROM --platform busybox\n",
	"from busybox\nrun echo hi\nFrOm busybox\n",
	"FROM x\nENV A=1 B=\"x y\" C='z' D=a\\ b\n", "FROM x\nENV A 1 2  3\n", "FROM x\nENV A\n", "FROM x\nENV\n",
	"FROM x\nENV A=1 B\n", "FROM x\nENV =1\n", "FROM x\nLABEL \"a b\"=c d=\"\"\n", "FROM x\nLABEL a\n",
	"FROM x\nENV --foo=1 A=1\n", "FROM x\nENV \"A B\" C\n", "FROM x\nENV A=\"unterminated\n", "FROM x\nENV A=\\\n",
	"FROM x\nMAINTAINER me <m@x>\n", "FROM x\nMAINTAINER\n", "FROM x\nMAINTAINER --x=1 me\n",
	"FROM x\nWORKDIR /a b\n", "FROM x\nWORKDIR\n", "FROM x\nWORKDIR --x /a\n", "FROM x\nUSER 1000:1000\n", "FROM x\nUSER\n",
	"FROM x\nSTOPSIGNAL SIGQUIT\n", "FROM x\nSTOPSIGNAL --foo=1 9\n", "FROM x\nSTOPSIGNAL\n",
	"FROM x\nCOPY a b\n", "FROM x\nCOPY a\n", "FROM x\nCOPY [\"a b\", \"c\"]\n", "FROM x\nCOPY [\"a\", 1]\n",
	"FROM x\nCOPY [\"a\" \"b\"]\n", "FROM x\nCOPY --from=build --chown=1:1 --chmod=644 a b c/\n",
	"FROM x\nCOPY --from build a b\n", "FROM x\nCOPY --link --link=false a b\n", "FROM x\nCOPY --link=maybe a b\n",
	"FROM x\nCOPY --link= a b\n", "FROM x\nCOPY --exclude=*.o --exclude=*.a --parents a b\n", "FROM x\nCOPY --fro=x a b\n",
	"FROM x\nCOPY --chown=\"a b\" -- --c d\n", "FROM x\nCOPY --from='x y' a b\n", "FROM x\nCOPY -- a b\n", "FROM x\nCOPY --\n",
	"FROM x\nCOPY --from=a --from=b c d\n", "FROM x\nCOPY --checksum=sha256:0 a b\n",
	"FROM x\nADD --checksum=sha256:00 --keep-git-dir --unpack=false http://x/y /z\n", "FROM x\nADD --from=a b c\n",
	"FROM x\nCOPY <<EOF /dst\nhello\nEOF\n", "FROM x\nCOPY <<-\"EOF\" <<B /dst/\n\t\thi\n\tEOF\nb\nB\n",
	"FROM x\nCOPY a <<EOF\nx\nEOF\n", "FROM x\nRUN <<EOF\necho hi\nEOF\nRUN true\n", "FROM x\nRUN <<EOF\nnever ends\n",
	"FROM x\nRUN cat <<'EOF' <<-X\n$a\nEOF\n\tb\n\tX\n", "FROM x\nRUN [\"<<EOF\"]\nRUN b\n", "FROM x\nRUN echo a<<b\nb\n",
	"FROM x\nRUN 3<<EOF cat\nx\nEOF\n", "FROM x\nRUN <<EOF <<EOF\na\nEOF\nb\nEOF\n", "FROM x\nRUN << EOF\nx\nEOF\n",
	"FROM x\nONBUILD RUN <<EOF\necho\nEOF\n", "FROM x\nRUN <<\"EOF\nx\n",
	"FROM x\nRUN echo hi\nRUN [\"echo\", \"hi\"]\nRUN\nRUN []\nRUN [\"a\", 1]\nRUN [\"a\"] extra\n",
	"FROM x\nRUN --mount=type=cache,target=/c --network=none true\n", "FROM x\nRUN --mount=type=bogus true\n",
	"FROM x\nRUN --network=nonsense true\n", "FROM x\nRUN --security=insecure true\n", "FROM x\nRUN --foo true\n",
	"FROM x\nRUN --network=host --network=none true\n",
	"FROM x\nCMD\nCMD []\nCMD [\"a\"]\nCMD a  b\nENTRYPOINT\nENTRYPOINT []\nENTRYPOINT [\"x\"]\nENTRYPOINT x y\n",
	"FROM x\nCMD --flag=1 a\n", "FROM x\nSHELL [\"/bin/bash\", \"-c\"]\n", "FROM x\nSHELL /bin/bash -c\n", "FROM x\nSHELL []\n",
	"FROM x\nSHELL\n", "FROM x\nHEALTHCHECK NONE\n", "FROM x\nHEALTHCHECK NONE x\n", "FROM x\nHEALTHCHECK\n",
	"FROM x\nHEALTHCHECK --interval=5s --timeout=1m --start-period=0s --start-interval=2ms --retries=3 CMD curl x\n",
	"FROM x\nHEALTHCHECK CMD [\"a\", \"b\"]\n", "FROM x\nHEALTHCHECK CMD\n", "FROM x\nHEALTHCHECK FOO bar\n",
	"FROM x\nHEALTHCHECK --interval=1us CMD x\n", "FROM x\nHEALTHCHECK --interval=-1s CMD x\n", "FROM x\nHEALTHCHECK --interval=x CMD a\n",
	"FROM x\nHEALTHCHECK --retries=-1 CMD a\n", "FROM x\nHEALTHCHECK --retries=x CMD a\n", "FROM x\nHEALTHCHECK --interval=5s NONE\n",
	"FROM x\nHEALTHCHECK --bogus=1 CMD a\n", "FROM x\nhealthcheck cmd a\n",
	"FROM x\nEXPOSE 80 53/udp 8000-8002\n", "FROM x\nEXPOSE\n", "FROM x\nEXPOSE --x=1 80\n",
	"FROM x\nVOLUME /a /b\n", "FROM x\nVOLUME [\"/a\", \" \"]\n", "FROM x\nVOLUME [\"/a\", \"/b c\"]\n", "FROM x\nVOLUME\n", "FROM x\nVOLUME []\n",
	"FROM x\nONBUILD RUN echo hi\n", "FROM x\nONBUILD\n", "FROM x\nONBUILD ONBUILD RUN x\n", "FROM x\nONBUILD FROM y\n",
	"FROM x\nonbuild maintainer me\n", "FROM x\nONBUILD --x=1 RUN a\n", "FROM x\nONBUILD COPY --from=a b c\n",
	"FROM x\nONBUILD RUN [\"a\", 1]\n", "FROM x\nONBUILD bogus\n", "\\\n ONBUILD RUN a\nFROM x\n",
	"FROM x\nFORM y\n", "FROM x\nrnu a\n", "FROM x\nBOGUS\n", "FROM x\nCopy2 a\n", "FROM x\n\\\n\\\n",
	"FROM x\nLABEL a=\"b\\\n c\"\n", "FROM x\nRUN echo \\\n# not a comment? it is\n  done\n",
	"FROM x\nRUN a\u00a0b\nCOPY\u00a0a b\n", "FROM x\nCOPY --chown=\xc3\xa9 a b\n", "FROM x\nCOPY --x\xc2\x85y a b\n",
	"FROM x\nENV a=\xff\xfe b=c\n", "FROM x\nRUN\va\n", "FROM x\nONBUILD\vRUN a\n", "FROM x\nHEALTHCHECK\xc2\xa0CMD a\n",
	"FROM x\r\nRUN a\r\r\n", "FROM x\nRUN " + strings.Repeat("x", 70000) + "\n", strings.Repeat("y", 70000) + "\n",
}

func FuzzParseDifferential(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add(s)
	}
	for _, s := range buildCorpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dockerfile string) {
		if len(dockerfile) > 1<<17 {
			return
		}
		compareWithBuildkit(t, dockerfile)
	})
}

// buildCorpus is the builder's fuzz corpus and fixture Dockerfile.
func buildCorpus(tb testing.TB) []string {
	var out []string
	root := testutil.RepoRoot()
	if b, err := os.ReadFile(filepath.Join(root, "testdata", "docker", "fixture.Dockerfile")); err == nil {
		out = append(out, string(b))
	}
	files, _ := filepath.Glob(filepath.Join(root, "minidocker", "build", "testdata", "fuzz", "FuzzDockerfile", "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		_, lit, ok := strings.Cut(string(b), "\nstring(")
		if !ok {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		out = append(out, s)
	}
	if len(out) < 3 {
		tb.Fatalf("found only %d corpus files under %s", len(out), root)
	}
	return out
}

func compareWithBuildkit(t *testing.T, dockerfile string) {
	t.Helper()
	want := describeBuildkit(dockerfile)
	ours, err := Parse([]byte(dockerfile))
	got := ""
	if err != nil {
		got = "error: " + err.Error()
	} else {
		got = describeOurs(ours)
	}
	if got == want {
		return
	}
	if strings.HasPrefix(want, "error: ") && (err == nil && usesRunFlags(ours) || err != nil && mentionsRunFlags(dockerfile)) {
		return // the intended difference: see the comment at the top
	}
	if sameUpToSuggestion(got, want) {
		return
	}
	t.Fatalf("Dockerfile %q\nbuildkit: %s\nours:     %s", dockerfile, want, got)
}

// sameUpToSuggestion accepts a different "did you mean" when both name one:
// buildkit picks among equally close names in map order.
func sameUpToSuggestion(a, b string) bool {
	ca, _, okA := strings.Cut(a, " (did you mean ")
	cb, _, okB := strings.Cut(b, " (did you mean ")
	return okA && okB && ca == cb
}

func mentionsRunFlags(dockerfile string) bool {
	for _, f := range []string{"--mount", "--network", "--security", "--device"} {
		if strings.Contains(dockerfile, f) {
			return true
		}
	}
	return false
}

func usesRunFlags(f *File) bool {
	for _, s := range f.Stages {
		for _, c := range s.Commands {
			if r, ok := c.(*RunCommand); ok && len(r.FlagsUsed) > 0 {
				return true
			}
		}
	}
	return false
}

func describeBuildkit(dockerfile string) string {
	res, err := parser.Parse(strings.NewReader(dockerfile))
	if err != nil {
		return "error: " + err.Error()
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "escape %q\n", res.EscapeToken)
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning %q\n", w.Short)
	}
	for i := range metaArgs {
		b.WriteString(bkCommand(&metaArgs[i]))
	}
	for _, s := range stages {
		fmt.Fprintf(&b, "stage %q base %q platform %q source %q\n", s.Name, s.BaseName, s.Platform, s.SourceCode)
		for _, c := range s.Commands {
			b.WriteString(bkCommand(c))
		}
	}
	return b.String()
}

func describeOurs(f *File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "escape %q\n", f.Escape)
	for _, w := range f.Warnings {
		fmt.Fprintf(&b, "warning %q\n", w)
	}
	for _, a := range f.MetaArgs {
		b.WriteString(ourCommand(a))
	}
	for _, s := range f.Stages {
		fmt.Fprintf(&b, "stage %q base %q platform %q source %q\n", s.Name, s.BaseName, s.Platform, s.SourceCode)
		for _, c := range s.Commands {
			b.WriteString(ourCommand(c))
		}
	}
	return b.String()
}

// list prints a slice telling nil from empty: the builder stores some of
// them in image configs, where null and [] differ.
func list(s []string) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", s)
}

func optStr(p *string) string {
	if p == nil {
		return "nil"
	}
	return strconv.Quote(*p)
}

func optBool(p *bool) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatBool(*p)
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func bkCommand(c instructions.Command) string {
	head := fmt.Sprintf("%s %q: ", c.Name(), c.(fmt.Stringer).String())
	switch c := c.(type) {
	case *instructions.EnvCommand:
		return head + bkPairs(c.Env)
	case *instructions.LabelCommand:
		return head + bkPairs(c.Labels)
	case *instructions.MaintainerCommand:
		return head + strconv.Quote(c.Maintainer) + "\n"
	case *instructions.ArgCommand:
		var b bytes.Buffer
		for _, a := range c.Args {
			fmt.Fprintf(&b, "%q=%s ", a.Key, optStr(a.Value))
		}
		return head + b.String() + "\n"
	case *instructions.WorkdirCommand:
		return head + strconv.Quote(c.Path) + "\n"
	case *instructions.UserCommand:
		return head + strconv.Quote(c.User) + "\n"
	case *instructions.StopSignalCommand:
		return head + strconv.Quote(c.Signal) + "\n"
	case *instructions.CopyCommand:
		return head + fmt.Sprintf("%s from %q chown %q chmod %q link %v parents %v exclude %s\n",
			bkSources(c.SourcesAndDest), c.From, c.Chown, c.Chmod, c.Link, c.Parents, list(c.ExcludePatterns))
	case *instructions.AddCommand:
		return head + fmt.Sprintf("%s chown %q chmod %q link %v checksum %q git %s unpack %s exclude %s\n",
			bkSources(c.SourcesAndDest), c.Chown, c.Chmod, c.Link, c.Checksum, optBool(c.KeepGitDir), optBool(c.Unpack), list(c.ExcludePatterns))
	case *instructions.RunCommand:
		var files []string
		for _, f := range c.Files {
			files = append(files, fmt.Sprintf("%q:%q:%v", f.Name, f.Data, f.Chomp))
		}
		return head + fmt.Sprintf("%s shell %v files %s flags %s\n", list(c.CmdLine), c.PrependShell, list(files), fmt.Sprintf("%q", sortedCopy(c.FlagsUsed)))
	case *instructions.CmdCommand:
		return head + fmt.Sprintf("%s shell %v\n", list(c.CmdLine), c.PrependShell)
	case *instructions.EntrypointCommand:
		return head + fmt.Sprintf("%s shell %v\n", list(c.CmdLine), c.PrependShell)
	case *instructions.HealthCheckCommand:
		return head + fmt.Sprintf("%#v\n", *c.Health)
	case *instructions.ExposeCommand:
		return head + list(c.Ports) + "\n"
	case *instructions.VolumeCommand:
		return head + list(c.Volumes) + "\n"
	case *instructions.ShellCommand:
		return head + list(c.Shell) + "\n"
	case *instructions.OnbuildCommand:
		return head + strconv.Quote(c.Expression) + "\n"
	}
	return head + fmt.Sprintf("unknown type %T\n", c)
}

func bkPairs(kvs instructions.KeyValuePairs) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%q=%q ", kv.Key, kv.Value)
	}
	return b.String() + "\n"
}

func bkSources(sd instructions.SourcesAndDest) string {
	var docs []string
	for _, h := range sd.SourceContents {
		docs = append(docs, fmt.Sprintf("%q:%q:%v", h.Path, h.Data, h.Expand))
	}
	return fmt.Sprintf("srcs %s dest %q heredocs %s", list(sd.SourcePaths), sd.DestPath, list(docs))
}

func ourCommand(c Command) string {
	head := fmt.Sprintf("%s %q: ", c.Name(), c.String())
	switch c := c.(type) {
	case *EnvCommand:
		return head + ourPairs(c.Env)
	case *LabelCommand:
		return head + ourPairs(c.Labels)
	case *MaintainerCommand:
		return head + strconv.Quote(c.Maintainer) + "\n"
	case *ArgCommand:
		var b bytes.Buffer
		for _, a := range c.Args {
			fmt.Fprintf(&b, "%q=%s ", a.Key, optStr(a.Value))
		}
		return head + b.String() + "\n"
	case *WorkdirCommand:
		return head + strconv.Quote(c.Path) + "\n"
	case *UserCommand:
		return head + strconv.Quote(c.User) + "\n"
	case *StopSignalCommand:
		return head + strconv.Quote(c.Signal) + "\n"
	case *CopyCommand:
		return head + fmt.Sprintf("%s from %q chown %q chmod %q link %v parents %v exclude %s\n",
			ourSources(c.SourcesAndDest), c.From, c.Chown, c.Chmod, c.Link, c.Parents, list(c.Excludes))
	case *AddCommand:
		return head + fmt.Sprintf("%s chown %q chmod %q link %v checksum %q git %s unpack %s exclude %s\n",
			ourSources(c.SourcesAndDest), c.Chown, c.Chmod, c.Link, c.Checksum, optBool(c.KeepGitDir), optBool(c.Unpack), list(c.Excludes))
	case *RunCommand:
		var files []string
		for _, f := range c.Heredocs {
			files = append(files, fmt.Sprintf("%q:%q:%v", f.Name, f.Content, f.Chomp))
		}
		return head + fmt.Sprintf("%s shell %v files %s flags %s\n", list(c.Args), c.Shell, list(files), fmt.Sprintf("%q", sortedCopy(c.FlagsUsed)))
	case *CmdCommand:
		return head + fmt.Sprintf("%s shell %v\n", list(c.Args), c.Shell)
	case *EntrypointCommand:
		return head + fmt.Sprintf("%s shell %v\n", list(c.Args), c.Shell)
	case *HealthCheckCommand:
		return head + fmt.Sprintf("%#v\n", *c.Health)
	case *ExposeCommand:
		return head + list(c.Ports) + "\n"
	case *VolumeCommand:
		return head + list(c.Volumes) + "\n"
	case *ShellCommand:
		return head + list(c.Shell) + "\n"
	case *OnbuildCommand:
		return head + strconv.Quote(c.Expression) + "\n"
	}
	return head + fmt.Sprintf("unknown type %T\n", c)
}

func ourPairs(kvs []KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%q=%q ", kv.Key, kv.Value)
	}
	return b.String() + "\n"
}

func ourSources(sd SourcesAndDest) string {
	var docs []string
	for _, h := range sd.Heredocs {
		docs = append(docs, fmt.Sprintf("%q:%q:%v", h.Name, h.Content, h.Expand))
	}
	return fmt.Sprintf("srcs %s dest %q heredocs %s", list(sd.SourcePaths), sd.DestPath, list(docs))
}

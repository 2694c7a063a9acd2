package reference

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// The library this package stands in for is the oracle: every input must
// give the same result, or the same error text, from both.

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var corpus = []string{
	"", "busybox", "busybox:latest", "busybox:1.36", "library/busybox", "docker.io/busybox",
	"docker.io/library/busybox:latest", "index.docker.io/busybox", "index.docker.io/user/app:v1",
	"user/app", "user/app:v1", "a/b/c/d", "localhost/app", "localhost:5000/app:v1", "localhost:5000",
	"LOCALHOST/app", "Registry.Example.com/app", "registry.example.com:443/a/b:c", "[::1]:5000/app",
	"[::1]/app", "[fe80::1%eth0]/app", "[]/app", "[::1/app", "a:b:c", "foo:", ":foo", "foo@", "@sha256:" + hex64,
	"foo@sha256:" + hex64, "foo:v1@sha256:" + hex64, "foo@sha256:abc", "foo@sha512:" + hex64,
	"foo@md5:" + hex64[:32], "foo@sha256+b64:" + hex64, "foo@SHA256:" + hex64, "foo@sha256:" + strings.ToUpper(hex64),
	"foo@-sha:" + hex64, "foo@sha..x:" + hex64, hex64, "sha256:" + hex64, hex64 + ":v1", "Busybox", "busyBox:v1",
	"user/App", "a..b", "a__b", "a___b", "a--b", "a---b", "a._b", "_a", "a_", "-a", "a-", ".a", "a.",
	"a/", "/a", "a//b", "a/b/", "foo:" + strings.Repeat("t", 128), "foo:" + strings.Repeat("t", 129),
	"foo:.v", "foo:-v", "foo:_v", "foo:v.-_1", "host-/a", "-host.com/a", "ho-st.com/a", "h.c:/a", "h.c:5x/a",
	"h.c:5000:1/a", strings.Repeat("a", 256), "x/" + strings.Repeat("a", 254), "x.io/" + strings.Repeat("a", 256),
	"foo bar", "foo\n", "ümlaut", "a/b@sha256:" + hex64, "UPPER.io/x", "Up/x", "up/X:Tag",
}

// tokens make random references that are nearly right, where the mistakes are.
var tokens = []string{
	"a", "b", "z9", "0", "A", "-", "--", "_", "__", ".", "/", ":", "@", "5000", "localhost", "docker.io",
	"index.docker.io", "library", "x.y", "[::1]", "[", "]", "sha256:", hex64[:32], hex64, "latest", "V1", " ",
}

func randomReference(r *rand.Rand) string {
	var b strings.Builder
	for n := 1 + r.Intn(8); n > 0; n-- {
		b.WriteString(tokens[r.Intn(len(tokens))])
	}
	return b.String()
}

// describe flattens everything a caller can ask of a parse result.
func describe(n interface {
	String() string
	Name() string
}, domain, path, familiarName, familiarString, tagged string, nameOnly bool) string {
	return fmt.Sprintf("string=%q name=%q domain=%q path=%q fname=%q fstring=%q tagged=%q nameonly=%v",
		n.String(), n.Name(), domain, path, familiarName, familiarString, tagged, nameOnly)
}

func ourResult(s string, parse func(string) (Named, error)) string {
	n, err := parse(s)
	if err != nil {
		return "error: " + err.Error()
	}
	kind := ""
	if t, ok := n.(Tagged); ok {
		kind += " tag=" + t.Tag()
	}
	if d, ok := n.(Digested); ok {
		kind += " digest=" + d.Digest().String()
	}
	return describe(n, Domain(n), Path(n), FamiliarName(n), FamiliarString(n), TagNameOnly(n).String(), IsNameOnly(n)) + kind +
		" trimmed=" + TrimNamed(n).String()
}

func theirResult(s string, parse func(string) (dref.Named, error)) string {
	n, err := parse(s)
	if err != nil {
		return "error: " + err.Error()
	}
	kind := ""
	if t, ok := n.(dref.Tagged); ok {
		kind += " tag=" + t.Tag()
	}
	if d, ok := n.(dref.Digested); ok {
		kind += " digest=" + d.Digest().String()
	}
	return describe(n, dref.Domain(n), dref.Path(n), dref.FamiliarName(n), dref.FamiliarString(n), dref.TagNameOnly(n).String(), dref.IsNameOnly(n)) + kind +
		" trimmed=" + dref.TrimNamed(n).String()
}

func compare(t *testing.T, s string) {
	t.Helper()
	if a, b := ourResult(s, ParseNormalizedNamed), theirResult(s, dref.ParseNormalizedNamed); a != b {
		t.Errorf("ParseNormalizedNamed(%q):\n ours   %s\n theirs %s", s, a, b)
	}
	if a, b := ourResult(s, ParseNamed), theirResult(s, dref.ParseNamed); a != b {
		t.Errorf("ParseNamed(%q):\n ours   %s\n theirs %s", s, a, b)
	}
}

func TestSameAsDistributionReference(t *testing.T) {
	for _, s := range corpus {
		compare(t, s)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50000 && !t.Failed(); i++ {
		compare(t, randomReference(r))
	}
}

func TestWithTagAndDigestSameAsDistributionReference(t *testing.T) {
	tags := []string{"v1", "latest", "", ".x", strings.Repeat("t", 129), "A_b-c.d"}
	digests := []digest.Digest{"sha256:" + hex64, "sha256:abc", "", digest.Digest("md5:" + hex64[:32]), "x+y:" + hex64, "+x:" + hex64}
	for _, s := range []string{"busybox", "user/app:v1", "localhost:5000/a@sha256:" + hex64, "x.io/a:t@sha256:" + hex64} {
		n, err := ParseNormalizedNamed(s)
		if err != nil {
			t.Fatal(err)
		}
		dn, _ := dref.ParseNormalizedNamed(s)
		for _, tag := range tags {
			a, aerr := WithTag(n, tag)
			b, berr := dref.WithTag(dn, tag)
			if fmt.Sprint(aerr) != fmt.Sprint(berr) || aerr == nil && (a.String() != b.String() || FamiliarString(a) != dref.FamiliarString(b)) {
				t.Errorf("WithTag(%s, %q): ours %v %v, theirs %v %v", s, tag, a, aerr, b, berr)
			}
		}
		for _, d := range digests {
			a, aerr := WithDigest(n, d)
			b, berr := dref.WithDigest(dn, d)
			if fmt.Sprint(aerr) != fmt.Sprint(berr) || aerr == nil && (a.String() != b.String() || FamiliarString(a) != dref.FamiliarString(b)) {
				t.Errorf("WithDigest(%s, %q): ours %v %v, theirs %v %v", s, d, a, aerr, b, berr)
			}
		}
	}
}

// FuzzSameAsDistributionReference runs the corpus under `go test`; with
// -fuzz it searches for an input on which the two disagree.
func FuzzSameAsDistributionReference(f *testing.F) {
	for _, s := range corpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { compare(t, s) })
}

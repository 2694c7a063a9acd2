package reference

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

const (
	defaultDomain       = "docker.io"
	legacyDefaultDomain = "index.docker.io"
	officialRepoPrefix  = "library/"
	defaultTag          = "latest"
)

// ParseNormalizedNamed parses what a user typed into a full reference:
// "busybox" is docker.io/library/busybox, "user/app:v1" is
// docker.io/user/app:v1, "localhost:5000/app" keeps its registry. No tag
// is added (see TagNameOnly).
func ParseNormalizedNamed(s string) (Named, error) {
	if isIdentifier(s) {
		return nil, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitDockerDomain(s)
	remote, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(remote) != remote {
		return nil, fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	return parseNamed(domain + "/" + remainder)
}

// ParseNamed parses a reference that must already be in its full form
// ("docker.io/library/busybox:latest", not "busybox").
func ParseNamed(s string) (Named, error) {
	named, err := ParseNormalizedNamed(s)
	if err != nil {
		return nil, err
	}
	if named.String() != s {
		return nil, ErrNameNotCanonical
	}
	return named, nil
}

// splitDockerDomain tells the registry from the rest: the first component
// is a registry only if it looks like a host (a dot, a port, "localhost",
// or capitals, which a repository cannot have).
func splitDockerDomain(name string) (domain, remainder string) {
	first, rest, found := strings.Cut(name, "/")
	switch {
	case !found:
		return defaultDomain, officialRepoPrefix + name
	case first == legacyDefaultDomain:
		domain, remainder = defaultDomain, rest
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, remainder = first, rest
	default:
		domain, remainder = defaultDomain, name
	}
	if domain == defaultDomain && !strings.Contains(remainder, "/") {
		remainder = officialRepoPrefix + remainder
	}
	return domain, remainder
}

// TagNameOnly adds the default tag "latest" to a name without tag or digest.
func TagNameOnly(ref Named) Named {
	if !IsNameOnly(ref) {
		return ref
	}
	tagged, _ := WithTag(ref, defaultTag)
	return tagged
}

// familiar is a repository as docker shows it: without "docker.io/", and
// without "library/" for an official image.
func familiar(r repository) repository {
	if r.domain != defaultDomain {
		return r
	}
	r.domain = ""
	if rest, ok := strings.CutPrefix(r.path, officialRepoPrefix); ok && !strings.Contains(rest, "/") {
		r.path = rest
	}
	return r
}

// FamiliarName is the repository as docker shows it: "busybox",
// "user/app", "localhost:5000/app".
func FamiliarName(ref Named) string {
	if !ours(ref) {
		return ref.Name()
	}
	return familiar(repositoryOf(ref)).Name()
}

// FamiliarString is the whole reference as docker shows it:
// "busybox:latest", "user/app@sha256:…".
func FamiliarString(ref Reference) string {
	named, ok := ref.(Named)
	if !ok || !ours(named) {
		return ref.String()
	}
	var tag string
	if t, ok := ref.(Tagged); ok {
		tag = t.Tag()
	}
	var dgst digest.Digest
	if d, ok := ref.(Digested); ok {
		dgst = d.Digest()
	}
	return build(familiar(repositoryOf(named)), tag, dgst).String()
}

// ours reports whether ref is one of this package's types (only those
// are shortened, as in the library).
func ours(ref Named) bool {
	switch ref.(type) {
	case repository, taggedReference, canonicalReference, fullReference:
		return true
	}
	return false
}

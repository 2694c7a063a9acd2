package reference

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// NameTotalLengthMax is the longest repository path accepted.
const NameTotalLengthMax = 255

// The errors of parsing, with the library's (and so docker's) wording.
var (
	ErrReferenceInvalidFormat = errors.New("invalid reference format")
	ErrTagInvalidFormat       = errors.New("invalid tag format")
	ErrDigestInvalidFormat    = errors.New("invalid digest format")
	ErrNameContainsUppercase  = errors.New("repository name must be lowercase")
	ErrNameEmpty              = errors.New("repository name must have at least one component")
	ErrNameTooLong            = fmt.Errorf("repository name must not be more than %v characters", NameTotalLengthMax)
	ErrNameNotCanonical       = errors.New("repository name must be canonical")
)

// Reference is any parsed reference.
type Reference interface {
	String() string
}

// Named is a reference with a repository name.
type Named interface {
	Reference
	Name() string
}

// Tagged is a reference with a tag.
type Tagged interface {
	Reference
	Tag() string
}

// NamedTagged is a name with a tag (and maybe a digest too).
type NamedTagged interface {
	Named
	Tag() string
}

// Digested is a reference with a digest.
type Digested interface {
	Reference
	Digest() digest.Digest
}

// Canonical is a name with a digest (and maybe a tag too).
type Canonical interface {
	Named
	Digest() digest.Digest
}

// repository is a name alone; the other three types add a tag, a digest
// or both. Which type a reference has is how callers tell them apart.
type repository struct{ domain, path string }

type taggedReference struct {
	repository
	tag string
}

type canonicalReference struct {
	repository
	digest digest.Digest
}

type fullReference struct {
	repository
	tag    string
	digest digest.Digest
}

func (r repository) Name() string {
	if r.domain == "" {
		return r.path
	}
	return r.domain + "/" + r.path
}
func (r repository) String() string                { return r.Name() }
func (r taggedReference) String() string           { return r.Name() + ":" + r.tag }
func (r taggedReference) Tag() string              { return r.tag }
func (r canonicalReference) String() string        { return r.Name() + "@" + r.digest.String() }
func (r canonicalReference) Digest() digest.Digest { return r.digest }
func (r fullReference) String() string             { return r.Name() + ":" + r.tag + "@" + r.digest.String() }
func (r fullReference) Tag() string                { return r.tag }
func (r fullReference) Digest() digest.Digest      { return r.digest }

// repositoryOf returns the name part of any Named.
func repositoryOf(n Named) repository {
	switch r := n.(type) {
	case repository:
		return r
	case taggedReference:
		return r.repository
	case canonicalReference:
		return r.repository
	case fullReference:
		return r.repository
	}
	domain, path, ok := splitName(n.Name())
	if !ok {
		return repository{path: n.Name()}
	}
	return repository{domain, path}
}

// build picks the type that says what r holds.
func build(r repository, tag string, dgst digest.Digest) Named {
	switch {
	case tag == "" && dgst == "":
		return r
	case dgst == "":
		return taggedReference{r, tag}
	case tag == "":
		return canonicalReference{r, dgst}
	}
	return fullReference{r, tag, dgst}
}

// parseNamed checks s against the grammar; s is already normalised, so
// the result always has a name.
func parseNamed(s string) (Named, error) {
	p, ok := parse(s)
	if !ok {
		if s == "" {
			return nil, ErrNameEmpty
		}
		if _, ok := parse(strings.ToLower(s)); ok {
			return nil, ErrNameContainsUppercase
		}
		return nil, ErrReferenceInvalidFormat
	}
	if len(p.path) > NameTotalLengthMax {
		return nil, ErrNameTooLong
	}
	var dgst digest.Digest
	if p.digest != "" {
		var err error
		if dgst, err = digest.Parse(p.digest); err != nil {
			return nil, err
		}
	}
	return build(repository{p.domain, p.path}, p.tag, dgst), nil
}

// Domain is the registry part of a name ("docker.io", "localhost:5000").
func Domain(named Named) string { return repositoryOf(named).domain }

// Path is the repository part of a name ("library/busybox").
func Path(named Named) string { return repositoryOf(named).path }

// IsNameOnly reports whether ref has neither a tag nor a digest.
func IsNameOnly(ref Named) bool {
	if _, ok := ref.(NamedTagged); ok {
		return false
	}
	_, ok := ref.(Canonical)
	return !ok
}

// TrimNamed drops the tag and the digest.
func TrimNamed(ref Named) Named { return repositoryOf(ref) }

// WithTag adds (or replaces) the tag of name, keeping a digest it has.
func WithTag(name Named, tag string) (NamedTagged, error) {
	if !isTag(tag) {
		return nil, ErrTagInvalidFormat
	}
	var dgst digest.Digest
	if c, ok := name.(Canonical); ok {
		dgst = c.Digest()
	}
	return build(repositoryOf(name), tag, dgst).(NamedTagged), nil
}

// WithDigest adds (or replaces) the digest of name, keeping a tag it has.
func WithDigest(name Named, dgst digest.Digest) (Canonical, error) {
	if !isDigest(dgst.String()) {
		return nil, ErrDigestInvalidFormat
	}
	var tag string
	if t, ok := name.(Tagged); ok {
		tag = t.Tag()
	}
	return build(repositoryOf(name), tag, dgst).(Canonical), nil
}

package image

import (
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/opencontainers/go-digest"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// DefaultTag is added to references that name neither a tag nor a digest.
const DefaultTag = "latest"

// Compiled on first use, not at init: every minidocker process (the
// shim and init too) links this package.
var (
	fullIDRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(sha256:)?[a-f0-9]{64}$`) })
	shortIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(sha256:)?[a-f0-9]{1,63}$`) })
)

// ParseReference parses an image reference the way docker does and returns
// it normalised: "nginx:alpine" → docker.io/library/nginx:alpine,
// "busybox" → docker.io/library/busybox:latest (the default tag),
// "localhost:5000/x@sha256:…" stays digested. Bad input gives docker's
// "invalid reference format" errors.
func ParseReference(s string) (reference.Named, error) {
	named, err := parseNamed(s)
	if err != nil {
		return nil, err
	}
	return reference.TagNameOnly(named), nil
}

// parseNamed parses without adding the default tag.
func parseNamed(s string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, referenceError(err)
	}
	return named, nil
}

// referenceError gives a reference parse error docker's wording; every
// one is the client's mistake (400).
func referenceError(err error) error {
	switch {
	case errors.Is(err, reference.ErrNameContainsUppercase):
		return errdefs.Invalid("invalid reference format: repository name must be lowercase")
	case errors.Is(err, reference.ErrReferenceInvalidFormat),
		errors.Is(err, reference.ErrTagInvalidFormat),
		errors.Is(err, reference.ErrDigestInvalidFormat),
		errors.Is(err, reference.ErrNameEmpty):
		return errdefs.Invalid("invalid reference format")
	}
	// the library's other errors are plain text, some already prefixed
	detail, _ := strings.CutPrefix(err.Error(), "invalid reference format: ")
	return errdefs.Invalid("invalid reference format: %s", detail)
}

// FamiliarString is a reference as docker shows it: busybox:latest,
// localhost:5000/busybox:latest, user/app@sha256:….
func FamiliarString(ref reference.Reference) string { return reference.FamiliarString(ref) }

// FamiliarName is the repository as docker shows it: busybox, localhost:5000/busybox.
func FamiliarName(ref reference.Named) string { return reference.FamiliarName(ref) }

// familiar turns a stored (normalised) reference string into docker's display form.
func familiar(s string) string {
	r, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return s
	}
	return reference.FamiliarString(r)
}

// IsDigestReference reports whether s names a manifest digest (name@sha256:…).
func IsDigestReference(s string) bool {
	r, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return false
	}
	_, ok := r.(reference.Canonical)
	return ok
}

// ParseRepositoryTag parses the "repository[:tag]" argument of tag, import
// and commit. A digest is refused as docker does.
func ParseRepositoryTag(s string) (reference.NamedTagged, error) {
	r, err := ParseReference(s)
	if err != nil {
		return nil, err
	}
	if _, ok := r.(reference.Canonical); ok {
		return nil, errdefs.Invalid("refusing to create a tag with a digest reference")
	}
	if reference.FamiliarName(r) == string(digest.Canonical) {
		// "sha256:x" would read as an image ID wherever it is used
		return nil, errdefs.Invalid("refusing to create an ambiguous tag using digest algorithm as name")
	}
	nt, ok := r.(reference.NamedTagged)
	if !ok {
		return nil, errdefs.Invalid("invalid reference format")
	}
	return nt, nil
}

// ---- resolving what the user typed to a local image ----

// Resolve finds a local image by ID (full or a unique prefix, with or
// without "sha256:") or by reference, and returns its ID. Not found gives
// docker's "No such image: busybox:latest".
func (s *Store) Resolve(ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resolveLocked(ref)
}

func (s *Store) resolveLocked(ref string) (string, error) {
	if fullIDRe().MatchString(ref) {
		id := "sha256:" + strings.TrimPrefix(ref, "sha256:")
		if s.hasImageLocked(id) {
			return id, nil
		}
	}
	named, perr := parseNamed(ref)
	if perr == nil {
		full := reference.TagNameOnly(named).String()
		if id, ok := s.repos[full]; ok {
			return id, nil
		}
	}
	if shortIDRe().MatchString(ref) {
		prefix := "sha256:" + strings.TrimPrefix(ref, "sha256:")
		var found []string
		for _, id := range s.imageIDsLocked() {
			if strings.HasPrefix(id, prefix) {
				found = append(found, id)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			return "", errdefs.Invalid("multiple IDs found with provided prefix: %s", ref)
		}
	}
	if perr != nil {
		if strings.HasPrefix(ref, "sha256:") {
			return "", errdefs.NotFound("No such image: %s", ref)
		}
		return "", perr
	}
	return "", errdefs.NotFound("No such image: %s", reference.FamiliarString(reference.TagNameOnly(named)))
}

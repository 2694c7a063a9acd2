package image

import (
	"strings"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// Platform is what a client's "platform" parameter names: an OS, and
// optionally a CPU architecture and its variant ("linux/arm64/v8").
type Platform struct {
	OS, Architecture, Variant string
}

// String is the os/arch[/variant] form docker prints in its errors.
func (p Platform) String() string {
	s := p.OS
	if p.Architecture != "" {
		s += "/" + p.Architecture
	}
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// isPlatformPart reports whether s is one part of "os/arch/variant":
// letters, digits, '_' and '-' (checked by hand: a regular expression
// compiled at package init costs every process start).
func isPlatformPart(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// knownOS and archAliases are the names docker's platform parser knows on
// their own ("linux", "arm64") and the other spellings it folds into them.
var (
	knownOS     = map[string]bool{"linux": true, "windows": true, "darwin": true, "freebsd": true, "netbsd": true, "openbsd": true, "solaris": true, "illumos": true, "aix": true, "android": true, "ios": true, "js": true, "wasip1": true, "plan9": true, "dragonfly": true}
	archAliases = map[string]string{"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386", "armhf": "arm", "armel": "arm"}
	knownArch   = map[string]bool{"amd64": true, "arm64": true, "386": true, "arm": true, "ppc64le": true, "ppc64": true, "s390x": true, "riscv64": true, "mips64le": true, "mips64": true, "loong64": true, "wasm": true}
)

// ParsePlatform reads "os[/arch[/variant]]" as dockerd does, with its
// error for a malformed one (the API answers it with 400). A lone
// architecture ("arm64") means linux, the only OS minidocker runs.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 {
		return Platform{}, errdefs.Invalid("%q: cannot parse platform specifier: invalid argument", s)
	}
	for _, p := range parts {
		if !isPlatformPart(p) {
			return Platform{}, errdefs.Invalid("%q: invalid platform component %q: invalid argument", s, p)
		}
	}
	if len(parts) == 1 {
		switch arch := normalizeArch(parts[0]); {
		case knownOS[parts[0]]:
			return Platform{OS: parts[0]}, nil
		case knownArch[arch]:
			return Platform{OS: "linux", Architecture: arch}, nil
		default:
			return Platform{}, errdefs.Invalid("%q: unknown operating system or architecture: invalid argument", s)
		}
	}
	p := Platform{OS: parts[0], Architecture: normalizeArch(parts[1])}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = "" // arm64's only variant, which images leave out
	}
	return p, nil
}

func normalizeArch(a string) string {
	if n, ok := archAliases[a]; ok {
		return n
	}
	return a
}

// Matches says whether an image built for have can serve a request for p:
// the OS must be the same, and the architecture and variant too where p
// names them (an image that names no variant serves any).
func (p Platform) Matches(have Platform) bool {
	have.Architecture = normalizeArch(have.Architecture)
	switch {
	case p.OS != have.OS:
		return false
	case p.Architecture != "" && p.Architecture != have.Architecture:
		return false
	case p.Variant != "" && have.Variant != "" && p.Variant != have.Variant:
		return false
	}
	return true
}

// PlatformOf is the platform an image's config says it was built for.
func PlatformOf(cfg *ImageConfig) Platform {
	return Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
}

// CheckPlatform refuses an image whose platform is not the one asked for,
// with dockerd's words and its status (404: the CLI then tries to pull
// that platform, as it does with dockerd).
func CheckPlatform(ref string, cfg *ImageConfig, want Platform) error {
	if have := PlatformOf(cfg); !want.Matches(have) {
		return errdefs.NotFound("image with reference %s was found but its platform (%s) does not match the specified platform (%s)", ref, have, want)
	}
	return nil
}

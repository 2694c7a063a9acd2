package reference

import "strings"

// parts is a reference split into its pieces; domain and tag may be
// empty, digest too.
type parts struct {
	domain, path, tag, digest string
}

// parse splits s by the reference grammar. ok is false when s does not
// follow it. The split is unambiguous: a tag and a digest never hold '/'
// or '@', and a port is always followed by the '/' that ends the domain.
func parse(s string) (p parts, ok bool) {
	if at := strings.IndexByte(s, '@'); at >= 0 {
		s, p.digest = s[:at], s[at+1:]
		if !isDigest(p.digest) {
			return p, false
		}
	}
	if colon := strings.LastIndexByte(s, ':'); colon > strings.LastIndexByte(s, '/') {
		s, p.tag = s[:colon], s[colon+1:]
		if !isTag(p.tag) {
			return p, false
		}
	}
	p.domain, p.path, ok = splitName(s)
	return p, ok
}

// splitName splits a name into its domain (empty if it has none) and its
// path. The first component counts as a domain whenever it can be one,
// like the library's greedy match.
func splitName(name string) (domain, path string, ok bool) {
	if first, rest, found := strings.Cut(name, "/"); found && isDomain(first) && isPath(rest) {
		return first, rest, true
	}
	return "", name, isPath(name)
}

// isPath: path components separated by '/'.
func isPath(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !isPathComponent(c) {
			return false
		}
	}
	return true
}

// isPathComponent: runs of [a-z0-9] joined by one separator each, where a
// separator is ".", "_", "__" or any number of "-".
func isPathComponent(s string) bool {
	for i, run := 0, 0; i < len(s); {
		if isLowerAlnum(s[i]) {
			i, run = i+1, run+1
			continue
		}
		if run == 0 { // a separator must follow letters or digits
			return false
		}
		j := i + 1
		switch s[i] {
		case '_':
			if j < len(s) && s[j] == '_' {
				j++
			}
		case '-':
			for j < len(s) && s[j] == '-' {
				j++
			}
		case '.':
		default:
			return false
		}
		if j == len(s) { // nor end the component
			return false
		}
		i, run = j, 0
	}
	return s != ""
}

// isDomain: a host name ("registry.example.com", "localhost") or a
// bracketed IPv6 address, with an optional ":port".
func isDomain(s string) bool {
	host, port, hasPort := s, "", false
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.HasSuffix(s, "]") {
		host, port, hasPort = s[:i], s[i+1:], true
	}
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	if strings.HasPrefix(host, "[") {
		inner, closed := strings.CutSuffix(host[1:], "]")
		return closed && inner != "" && strings.Trim(inner, "0123456789abcdefABCDEF:") == ""
	}
	for _, label := range strings.Split(host, ".") {
		if !isDomainLabel(label) {
			return false
		}
	}
	return true
}

// isDomainLabel: letters and digits (either case), with '-' inside only.
func isDomainLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// isTag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// isDigest: "algorithm:hex" with at least 32 hex digits, where the
// algorithm is components of [A-Za-z][A-Za-z0-9]* joined by one of "-_+.".
func isDigest(s string) bool {
	alg, hex, found := strings.Cut(s, ":")
	if !found || len(hex) < 32 || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
		return false
	}
	for _, c := range strings.FieldsFunc(alg, isAlgorithmSeparator) {
		if !isLetter(c[0]) || strings.Trim(c, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return false
		}
	}
	// FieldsFunc drops empty fields: check the separators stand alone
	for i := 0; i < len(alg); i++ {
		if isAlgorithmSeparator(rune(alg[i])) && (i == 0 || i == len(alg)-1 || isAlgorithmSeparator(rune(alg[i+1]))) {
			return false
		}
	}
	return alg != ""
}

// isIdentifier: exactly 64 lowercase hex digits (an image ID).
func isIdentifier(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

func isAlgorithmSeparator(r rune) bool { return r == '-' || r == '_' || r == '+' || r == '.' }
func isLetter(b byte) bool             { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
func isLowerAlnum(b byte) bool         { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }
func isAlnum(b byte) bool              { return isLetter(b) || '0' <= b && b <= '9' }
func isWord(b byte) bool               { return isAlnum(b) || b == '_' }

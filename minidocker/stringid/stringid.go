package stringid

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// shortLen is how many hex digits docker shows of an ID in its tables.
const shortLen = 12

// GenerateRandomID returns 32 random bytes as 64 hex digits. Like docker,
// it never returns an ID whose 12-digit short form is all decimal digits:
// the CLI would take such a prefix for a number.
func GenerateRandomID() string {
	for {
		id := RandomHex(32)
		if strings.Trim(id[:shortLen], "0123456789") != "" {
			return id
		}
	}
}

// RandomHex returns n random bytes as 2n hex digits (veth names and
// other short unique suffixes use a few bytes of it). crypto/rand never
// fails on Linux, so neither does this.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TruncateID is the short form of an ID as docker prints it: the digest
// algorithm ("sha256:") dropped and the first 12 hex digits kept. Shorter
// IDs come back whole.
func TruncateID(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > shortLen {
		id = id[:shortLen]
	}
	return id
}

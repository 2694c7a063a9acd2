package registry

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// A digest names content by its hash: "<algorithm>:<lowercase hex>".
// We accept the two algorithms the OCI image spec registers, sha256 (the
// default everywhere) and sha512.
type digest struct {
	algo string // "sha256" or "sha512"
	hex  string
}

// hexLen is the length of the hex encoding per algorithm; checking it
// up front means a digest can never smuggle "/" or ".." into a file path.
var hexLen = map[string]int{"sha256": 64, "sha512": 128}

func parseDigest(s string) (digest, error) {
	algo, hx, ok := strings.Cut(s, ":")
	if !ok {
		return digest{}, fmt.Errorf("digest %q has no algorithm", s)
	}
	n, known := hexLen[algo]
	if !known {
		return digest{}, fmt.Errorf("digest algorithm %q is not supported", algo)
	}
	if len(hx) != n || strings.Trim(hx, "0123456789abcdef") != "" {
		return digest{}, fmt.Errorf("digest %q is not %d lowercase hex characters", s, n)
	}
	return digest{algo: algo, hex: hx}, nil
}

func (d digest) String() string { return d.algo + ":" + d.hex }

// newHash returns a fresh hasher for an algorithm parseDigest accepted.
func newHash(algo string) hash.Hash {
	if algo == "sha512" {
		return sha512.New()
	}
	return sha256.New()
}

// digestOf hashes bytes with the given algorithm.
func digestOf(algo string, b []byte) digest {
	h := newHash(algo)
	h.Write(b)
	return digest{algo: algo, hex: fmt.Sprintf("%x", h.Sum(nil))}
}

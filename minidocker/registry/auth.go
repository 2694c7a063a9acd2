package registry

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Optional access control, as registry:2 does it with an htpasswd file
// (`htpasswd -Bbn user password`): HTTP basic auth, bcrypt hashes only
// (the older crypt/MD5/SHA1 formats are too weak to accept). Without a file
// the registry is open, like the article's `docker run registry:2`.
//
// A request without valid credentials gets 401 with
// `WWW-Authenticate: Basic realm="…"`; that challenge is what makes
// `docker login` ask for a password and send it on every later request.
//
// Basic auth sends the password with every request, so use it with TLS.

const authRealm = "minidocker-registry"

type htpasswd struct {
	users map[string][]byte // user → bcrypt hash
	dummy []byte            // a hash to compare against for unknown users

	// bcrypt is slow on purpose (tens of ms per check) and a push makes
	// many requests, so remember credentials that already passed. The key
	// is a hash of user and password, never the password itself.
	mu   sync.Mutex
	good map[[32]byte]bool
}

func loadHtpasswd(path string) (*htpasswd, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("registry: htpasswd: %w", err)
	}
	defer f.Close()
	h := &htpasswd{users: map[string][]byte{}, good: map[[32]byte]bool{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("registry: htpasswd %s line %d: want user:hash", path, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("registry: htpasswd %s line %d: only bcrypt entries are supported (htpasswd -B): %v", path, n, err)
		}
		h.users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("registry: htpasswd: %w", err)
	}
	if len(h.users) == 0 {
		return nil, fmt.Errorf("registry: htpasswd %s has no users", path)
	}
	h.dummy, err = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h, err
}

// check reports whether user/pass match an entry.
func (h *htpasswd) check(user, pass string) bool {
	hash, ok := h.users[user]
	if !ok {
		// Spend the same time as a real check, so response timing does not
		// tell which user names exist.
		bcrypt.CompareHashAndPassword(h.dummy, []byte(pass))
		return false
	}
	key := sha256.Sum256([]byte(user + "\x00" + pass + "\x00" + string(hash)))
	h.mu.Lock()
	cached := h.good[key]
	h.mu.Unlock()
	if cached {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	h.mu.Lock()
	if len(h.good) > 1024 { // bounded: forget everything rather than grow forever
		h.good = map[[32]byte]bool{}
	}
	h.good[key] = true
	h.mu.Unlock()
	return true
}

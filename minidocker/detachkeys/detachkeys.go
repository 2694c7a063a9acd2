package detachkeys

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Default is Ctrl-P Ctrl-Q, the sequence when none is given.
var Default = []byte{0x10, 0x11}

// ErrDetached is what a Reader returns once it has seen the whole
// sequence. Its text is docker's.
var ErrDetached = errors.New("read escape sequence")

// Parse turns docker's notation into the bytes a terminal sends: a
// comma-separated list of single characters ("x"), "ctrl-@", "ctrl-a" …
// "ctrl-z", "ctrl-[", "ctrl-\", "ctrl-]", "ctrl-^", "ctrl-_", and "DEL".
// An empty string means Default.
func Parse(keys string) ([]byte, error) {
	if keys == "" {
		return Default, nil
	}
	var seq []byte
	for _, key := range strings.Split(keys, ",") {
		b, ok := keyByte(key)
		if !ok {
			return nil, fmt.Errorf("Unknown character: '%s'", key)
		}
		seq = append(seq, b)
	}
	return seq, nil
}

// keyByte is the byte of one key: itself for one character; for
// ctrl-<c> the control code of c (0x00 for @, 0x01 for a, … 0x1f for _),
// which is c's ASCII code with the two high bits cleared.
func keyByte(key string) (byte, bool) {
	if len(key) == 1 {
		return key[0], true
	}
	if key == "DEL" {
		return 0x7f, true
	}
	c, ok := strings.CutPrefix(key, "ctrl-")
	if !ok || len(c) != 1 {
		return 0, false
	}
	switch ch := c[0]; {
	case ch >= 'a' && ch <= 'z', ch == '@', ch == '[', ch == '\\', ch == ']', ch == '^', ch == '_':
		return strings.ToUpper(c)[0] & 0x1f, true
	}
	return 0, false
}

// Reader passes a client's keystrokes on, except the detach sequence.
// The keys of a sequence begun are held back until the next key shows
// whether it is the sequence (then Read returns ErrDetached and none of
// it) or not (then they go on, in order). With no keys it never detaches.
type Reader struct {
	r       io.Reader
	keys    []byte
	matched int    // how many keys of the sequence were just read
	pending []byte // bytes read but not yet returned
	err     error  // the underlying reader's error, returned after pending
	buf     []byte
}

// NewReader watches r for keys.
func NewReader(r io.Reader, keys []byte) *Reader {
	return &Reader{r: r, keys: keys}
}

// Read returns the bytes read so far that are not (the start of) the
// sequence; ErrDetached once the whole sequence came.
func (d *Reader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if len(d.buf) < len(p) {
			d.buf = make([]byte, len(p))
		}
		n, err := d.r.Read(d.buf[:len(p)])
		d.err = err
		if d.scan(d.buf[:n]) {
			d.err = ErrDetached // after what came before the sequence
			continue
		}
		if err != nil && d.matched > 0 {
			// the stream ended inside a sequence: it was typed, not a detach
			d.pending = append(d.pending, d.keys[:d.matched]...)
			d.matched = 0
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// scan moves the bytes of b to pending, keeping back the keys of a
// sequence in progress; it reports whether the whole sequence came (the
// bytes after it are dropped: the client has left).
func (d *Reader) scan(b []byte) bool {
	if len(d.keys) == 0 {
		d.pending = append(d.pending, b...)
		return false
	}
	for _, c := range b {
		if c == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				return true
			}
			continue
		}
		// not the sequence after all: what was held back is input
		d.pending = append(d.pending, d.keys[:d.matched]...)
		d.matched = 0
		if c == d.keys[0] {
			d.matched = 1
			continue
		}
		d.pending = append(d.pending, c)
	}
	return false
}

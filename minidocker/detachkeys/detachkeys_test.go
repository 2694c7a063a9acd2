package detachkeys

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestParse(t *testing.T) {
	for keys, want := range map[string][]byte{
		"":              {0x10, 0x11},
		"ctrl-p,ctrl-q": {0x10, 0x11},
		"ctrl-x,x":      {0x18, 'x'},
		"ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,DEL,a,Z": {0, 1, 26, 27, 28, 29, 30, 31, 127, 'a', 'Z'},
	} {
		got, err := Parse(keys)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", keys, got, err, want)
		}
	}
	// docker's wording, which its daemon wraps in "Invalid detach keys (…) provided"
	for keys, msg := range map[string]string{
		"ctrl-foo":  "Unknown character: 'ctrl-foo'",
		"ctrl-p,ab": "Unknown character: 'ab'",
		"ctrl-1":    "Unknown character: 'ctrl-1'",
		"ctrl-P":    "Unknown character: 'ctrl-P'",
		"del":       "Unknown character: 'del'",
		"a,,b":      "Unknown character: ''", // a comma cannot be a key, as in docker
	} {
		if _, err := Parse(keys); err == nil || err.Error() != msg {
			t.Errorf("Parse(%q): %v, want %q", keys, err, msg)
		}
	}
}

// readAll reads r to its end, one byte per underlying read when slow.
func readAll(r io.Reader) (string, error) {
	var out bytes.Buffer
	_, err := io.Copy(&out, r)
	return out.String(), err
}

func TestReader(t *testing.T) {
	keys := []byte{0x10, 0x11}
	for _, c := range []struct {
		in, out  string
		detached bool
	}{
		{"ls\r", "ls\r", false},
		{"ls\r\x10\x11echo lost", "ls\r", true},
		{"\x10\x11", "", true},
		{"a\x10b\x10\x10\x11", "a\x10b\x10", true}, // a begun sequence that was not one is input
		{"x\x10", "x\x10", false},                  // the stream ends inside a sequence: typed
		{"\x11\x10", "\x11\x10", false},
	} {
		for _, slow := range []bool{false, true} {
			var r io.Reader = bytes.NewReader([]byte(c.in))
			if slow {
				r = iotest.OneByteReader(r)
			}
			out, err := readAll(NewReader(r, keys))
			if out != c.out || errors.Is(err, ErrDetached) != c.detached {
				t.Errorf("%q (one byte at a time: %v): read %q, %v; want %q, detached %v", c.in, slow, out, err, c.out, c.detached)
			}
		}
	}
	// no keys: nothing is held back, nothing detaches
	if out, err := readAll(NewReader(bytes.NewReader([]byte("\x10\x11")), nil)); out != "\x10\x11" || err != nil {
		t.Errorf("without keys: %q %v", out, err)
	}
	if ErrDetached.Error() != "read escape sequence" {
		t.Errorf("ErrDetached says %q", ErrDetached)
	}
}

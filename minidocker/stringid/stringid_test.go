package stringid

import (
	"strings"
	"testing"
)

func TestTruncateID(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"container ID", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "0123456789ab"},
		{"image digest", "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567", "abcdef012345"},
		{"already short", "abc", "abc"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TruncateID(tc.in); got != tc.want {
				t.Errorf("TruncateID(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestGenerateRandomID(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id := GenerateRandomID()
		if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("%q is not 64 hex digits", id)
		}
		if strings.Trim(id[:12], "0123456789") == "" {
			t.Fatalf("%q has an all-digit short form", id)
		}
		if seen[id] {
			t.Fatalf("%q came twice", id)
		}
		seen[id] = true
	}
}

func TestRandomHex(t *testing.T) {
	if got := RandomHex(4); len(got) != 8 {
		t.Errorf("RandomHex(4) = %q, want 8 hex digits", got)
	}
}

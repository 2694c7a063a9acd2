package errdefs

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestKindOf(t *testing.T) {
	notFound := NotFound("No such container: %s", "abc")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindUnknown},
		{"plain error", errors.New("boom"), KindUnknown},
		{"not found", notFound, KindNotFound},
		{"conflict", Conflict("name in use"), KindConflict},
		{"invalid", Invalid("bad flag %q", "-x"), KindInvalid},
		{"not modified", NotModified("already started"), KindNotModified},
		{"unauthorized", Unauthorized("login failed"), KindUnauthorized},
		{"forbidden", Forbidden("pre-defined network"), KindForbidden},
		{"unavailable", Unavailable("registry down"), KindUnavailable},
		{"wrapped with %w keeps the kind", fmt.Errorf("starting: %w", notFound), KindNotFound},
		{"wrapped with %v loses it", fmt.Errorf("starting: %v", notFound), KindUnknown},
		{"As re-classifies", As(KindConflict, notFound), KindConflict},
		{"As of a plain error", As(KindInvalid, io.EOF), KindInvalid},
		{"outermost kind wins", Invalid("bad: %w", notFound), KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.want {
				t.Errorf("KindOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestClassifiedErrorKeepsMessageAndChain(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		message string
		is      error
	}{
		{"formatted", NotFound("No such image: %s", "busybox:latest"), "No such image: busybox:latest", nil},
		{"wraps with %w", Invalid("reading body: %w", io.ErrUnexpectedEOF), "reading body: unexpected EOF", io.ErrUnexpectedEOF},
		{"As keeps the message", As(KindConflict, io.EOF), "EOF", io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Error() != tc.message {
				t.Errorf("message %q, want %q", tc.err.Error(), tc.message)
			}
			if tc.is != nil && !errors.Is(tc.err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.is)
			}
		})
	}
}

func TestAsNil(t *testing.T) {
	if err := As(KindNotFound, nil); err != nil {
		t.Fatalf("As(kind, nil) = %v, want nil", err)
	}
}

func TestPredicates(t *testing.T) {
	tests := []struct {
		name                          string
		err                           error
		notFound, conflict, isInvalid bool
	}{
		{"not found", NotFound("x"), true, false, false},
		{"conflict", Conflict("x"), false, true, false},
		{"invalid", Invalid("x"), false, false, true},
		{"plain", errors.New("x"), false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if IsNotFound(tc.err) != tc.notFound || IsConflict(tc.err) != tc.conflict || IsInvalid(tc.err) != tc.isInvalid {
				t.Errorf("IsNotFound/IsConflict/IsInvalid = %v/%v/%v, want %v/%v/%v",
					IsNotFound(tc.err), IsConflict(tc.err), IsInvalid(tc.err), tc.notFound, tc.conflict, tc.isInvalid)
			}
		})
	}
}

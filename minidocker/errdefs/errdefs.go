package errdefs

import (
	"errors"
	"fmt"
)

// Kind is the class of an error, which decides its HTTP status code (the
// API maps each kind to its status in one place, api.httpStatus).
type Kind int

// The kinds, with the status the Engine API answers for each.
const (
	KindUnknown      Kind = iota // 500: a failure of ours, or not classified
	KindNotFound                 // 404
	KindConflict                 // 409
	KindInvalid                  // 400
	KindNotModified              // 304
	KindUnauthorized             // 401
	KindForbidden                // 403
	KindUnavailable              // 503
)

// classified is an error with its kind; the message is the wrapped error's.
type classified struct {
	kind Kind
	err  error
}

// Error is the wrapped error's message, unchanged.
func (c classified) Error() string { return c.err.Error() }

// Unwrap lets errors.Is and errors.As see the wrapped error.
func (c classified) Unwrap() error { return c.err }

func wrap(k Kind, format string, args []any) error {
	return classified{kind: k, err: fmt.Errorf(format, args...)}
}

// NotFound: the named object does not exist (404).
func NotFound(format string, args ...any) error { return wrap(KindNotFound, format, args) }

// Conflict: the request clashes with the current state, e.g. a name in use (409).
func Conflict(format string, args ...any) error { return wrap(KindConflict, format, args) }

// Invalid: the request itself is wrong, e.g. a bad flag value (400).
func Invalid(format string, args ...any) error { return wrap(KindInvalid, format, args) }

// NotModified: the object is already in the asked state, e.g. start of a running container (304).
func NotModified(format string, args ...any) error { return wrap(KindNotModified, format, args) }

// Unauthorized: the registry refused our credentials (401).
func Unauthorized(format string, args ...any) error { return wrap(KindUnauthorized, format, args) }

// Forbidden: the operation is not allowed (403).
func Forbidden(format string, args ...any) error { return wrap(KindForbidden, format, args) }

// Unavailable: a service we depend on is down (503).
func Unavailable(format string, args ...any) error { return wrap(KindUnavailable, format, args) }

// As re-classifies an existing error without changing its message.
func As(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return classified{kind: k, err: err}
}

// KindOf finds the outermost classification in err's chain.
func KindOf(err error) Kind {
	var c classified
	if errors.As(err, &c) {
		return c.kind
	}
	return KindUnknown
}

// IsNotFound reports whether err is classified as not found.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsConflict reports whether err is classified as a conflict.
func IsConflict(err error) bool { return KindOf(err) == KindConflict }

// IsInvalid reports whether err is classified as invalid input.
func IsInvalid(err error) bool { return KindOf(err) == KindInvalid }

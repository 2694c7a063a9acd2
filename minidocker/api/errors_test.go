package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

func TestHTTPStatusOfEachKind(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"plain", errors.New("boom"), http.StatusInternalServerError},
		{"not found", errdefs.NotFound("No such container: x"), http.StatusNotFound},
		{"conflict", errdefs.Conflict("in use"), http.StatusConflict},
		{"invalid", errdefs.Invalid("bad"), http.StatusBadRequest},
		{"not modified", errdefs.NotModified("started"), http.StatusNotModified},
		{"unauthorized", errdefs.Unauthorized("denied"), http.StatusUnauthorized},
		{"forbidden", errdefs.Forbidden("pre-defined"), http.StatusForbidden},
		{"unavailable", errdefs.Unavailable("down"), http.StatusServiceUnavailable},
		{"wrapped", fmt.Errorf("start: %w", errdefs.Invalid("bad")), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpStatus(tc.err); got != tc.want {
				t.Errorf("httpStatus(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

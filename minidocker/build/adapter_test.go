package build

import (
	"testing"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// The daemon's Backend adapter commits with image.Store.CommitLayer; the
// request converts field for field.
var _ = image.CommitOptions(CommitRequest{})

func TestNotFoundClassesFromImageStore(t *testing.T) {
	s, err := image.Open(t.TempDir())
	if err != nil {
		t.Skipf("image store: %v", err)
	}
	_, err = s.Resolve("nosuch:latest")
	if err == nil || !errdefs.IsNotFound(err) {
		t.Fatalf("store not-found error not recognised: %v", err)
	}
}

package testutil

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under CI, where no root test may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireRoot skips t when the test does not run as root. Under CI a missing
// root is a broken set-up, not a reason to skip, so the test fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatal("this test needs root, and CI=true forbids skipping it")
	}
	t.Skip("needs root: run the suite as root (sudo make test)")
}

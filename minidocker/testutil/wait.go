package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond every 20 ms until it holds, and fails the test
// when it still does not after within. Tests wait with this, never with a
// fixed sleep.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package libcontainer

import (
	"runtime"
	"testing"
)

// trimMemory must not run a collection: the collector's memory would stay
// mapped in every idle shim (see trimMemory). The pages it drops are
// read-only file pages, so this test process runs on unharmed.
func TestTrimMemoryDoesNotCollect(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	trimMemory()
	runtime.ReadMemStats(&after)
	if after.NumGC != before.NumGC || after.NumForcedGC != before.NumForcedGC {
		t.Errorf("trimMemory ran %d collections (%d forced)", after.NumGC-before.NumGC, after.NumForcedGC-before.NumForcedGC)
	}
}

package libcontainer

import "runtime/debug"

// A shim lives as long as its container, one per container, so its memory
// counts many times over (issue 14: a shim's PSS at most 2 MiB). What costs
// is not the few hundred KiB it keeps but the collector's own memory: each
// GC cycle takes mark bits and work buffers that stay mapped (measured
// with smaps: one collection during start-up adds about 0.4 MiB of private
// dirty memory, more than the garbage it frees).

// shimStartupGC is called first thing in the shim role: no collection
// while the shim sets the container up (start-up makes well under a MiB of
// garbage, see shimSteadyGC).
func shimStartupGC() {
	debug.SetGCPercent(-1)
}

// shimSteadyGC is called once the container runs: from here on the heap
// may grow by 40% before a collection. Go's smallest heap goal is 4 MiB
// scaled by that percentage, so an idle shim (about 1 MiB of heap) never
// collects, and a busy one (copying output, serving attach) is held near
// 1.6 MiB.
func shimSteadyGC() {
	debug.SetGCPercent(40)
}

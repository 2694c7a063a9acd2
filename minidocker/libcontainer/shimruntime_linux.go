package libcontainer

import "runtime/debug"

// A shim lives as long as its container, one per container, so its memory
// counts many times over (issue 14: a shim's PSS at most 2 MiB). What costs
// is not the few hundred KiB of heap it keeps but the collector's own
// memory: each GC cycle takes mark bits and work buffers that stay mapped
// (measured with smaps: one collection adds about 0.4 MiB of private dirty
// memory, more than the garbage it frees). Go also forces a collection
// every two minutes, so an idle shim collected by the percentage rule
// grew from ~2.2 to ~3.5 MiB of PSS after two minutes.
//
// So the shim collects by a memory limit only: with the percentage rule
// off, the runtime collects when the memory it has mapped nears the limit,
// and not on a timer. An idle shim (about 6 MiB mapped, 2 MiB of it
// touched) never collects; a busy one (copying output, serving attach) is
// held under the limit.

// shimMemoryLimit is the Go runtime's memory limit in the shim role.
const shimMemoryLimit = 8 << 20

// shimGC is called first thing in the shim role, spare or claimed, and
// holds for the shim's life.
func shimGC() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(shimMemoryLimit)
}

package libcontainer

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimMemory shrinks the shim's resident set once its start-up is over. A
// shim lives as long as its container, and there is one per container, so
// it matters (containerd-shim is ~13 MiB, conmon ~2 MiB).
//
// One static binary carries the CLI, daemon, registry and builder too, and
// Go's start-up (runtime and package inits) touches pages all over it.
// Those are read-only file pages, shared with the page cache: MADV_DONTNEED
// only drops this process's mappings of them; what the shim's loop still
// needs faults back in from the page cache. Writable mappings (.data, .bss,
// heap) are never touched.
//
// The Go heap is left alone: returning its free pages (debug.FreeOSMemory)
// takes a collection first, and the collector's own memory, mapped for good
// (shimruntime_linux.go), is more than the start-up garbage it frees. Five
// idle shims measured 2.17-2.27 MiB of PSS with it, 1.75-1.87 MiB without.
func trimMemory() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil {
			spans = append(spans, span{uintptr(a), uintptr(b)})
		}
	}
	for _, s := range spans {
		unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED)
	}
}

package libcontainer

// --log-opt mode=non-blocking: the container's output goes into a buffer
// of max-buffer-size bytes, and a goroutine writes the buffer to the log.
// When the log falls behind (a slow disk) and the buffer is full, new
// output is dropped rather than making the container wait for the disk,
// the trade docker offers with this mode. In the default blocking mode the
// container's write waits until its line is in the file.

import (
	"sync"
	"time"
)

// DefaultLogBufferSize is docker's max-buffer-size when none is given (1 MB).
const DefaultLogBufferSize = 1_000_000

// logBuffer is a bounded queue of entries in front of a LogWriter.
type logBuffer struct {
	mu      sync.Mutex
	wake    *sync.Cond
	queue   []bufferedEntry
	size    int64 // bytes of log text queued
	max     int64
	closed  bool
	dropped int64 // entries thrown away because the buffer was full
	done    chan struct{}
	out     entryWriter
}

type bufferedEntry struct {
	stream string
	log    []byte
	t      time.Time
}

// newLogBuffer starts the goroutine that empties a buffer of max bytes
// into out.
func newLogBuffer(out entryWriter, max int64) *logBuffer {
	b := &logBuffer{max: max, out: out, done: make(chan struct{})}
	b.wake = sync.NewCond(&b.mu)
	go b.drain()
	return b
}

// WriteEntry queues a copy of the entry and returns at once; the entry is
// dropped when it does not fit (one entry always fits an empty buffer, as
// in docker's ring, so a line longer than the buffer is not lost for ever).
func (b *logBuffer) WriteEntry(stream string, log []byte, t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	n := int64(len(log))
	if b.size+n > b.max && len(b.queue) > 0 {
		b.dropped++
		return nil
	}
	b.queue = append(b.queue, bufferedEntry{stream, append([]byte(nil), log...), t})
	b.size += n
	b.wake.Signal()
	return nil
}

// drain writes the queued entries to out, in order, until Close.
func (b *logBuffer) drain() {
	defer close(b.done)
	b.mu.Lock()
	for {
		for len(b.queue) == 0 && !b.closed {
			b.wake.Wait()
		}
		if len(b.queue) == 0 {
			b.mu.Unlock()
			return
		}
		batch := b.queue
		b.queue, b.size = nil, 0
		b.mu.Unlock()
		for _, e := range batch {
			b.out.WriteEntry(e.stream, e.log, e.t)
		}
		b.mu.Lock()
	}
}

// Close stops taking entries, waits until those queued are written, and
// says how many were dropped.
func (b *logBuffer) Close() (dropped int64) {
	b.mu.Lock()
	b.closed = true
	b.wake.Signal()
	b.mu.Unlock()
	<-b.done
	return b.dropped
}

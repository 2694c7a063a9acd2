package libcontainer

// The json-file log, byte for byte like docker's: one JSON object a line,
//
//	{"log":"out1\n","stream":"stdout","time":"2026-11-27T13:24:50.509521107Z"}
//
// A line longer than 16 KiB is cut into 16 KiB entries without "\n"; a last
// line without a newline is stored without one. The escaping is docker's own
// (not encoding/json's): <, >, & and control characters other than \n and \r
// become \u00XX (so a tab is \u0009), invalid UTF-8 becomes \ufffd.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// maxLogEntry is where docker cuts a long line.
const maxLogEntry = 16 * 1024

// LogWriter appends entries to a json-file log. It is safe for concurrent use.
type LogWriter struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
}

// OpenLogWriter opens (creating, appending) the log at path.
func OpenLogWriter(path string) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &LogWriter{f: f}, nil
}

// WriteEntry writes one entry: log is the entry's text (with its "\n" if
// it has one), stream "stdout" or "stderr".
func (w *LogWriter) WriteEntry(stream string, log []byte, t time.Time) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendLogLine(w.buf[:0], stream, log, t)
	_, err := w.f.Write(w.buf)
	return err
}

// Close closes the file.
func (w *LogWriter) Close() error {
	if w == nil {
		return nil
	}
	return w.f.Close()
}

// appendLogLine encodes one entry, with its final '\n'.
func appendLogLine(b []byte, stream string, log []byte, t time.Time) []byte {
	b = append(b, `{"log":`...)
	b = appendDockerJSONString(b, log)
	b = append(b, `,"stream":`...)
	b = appendDockerJSONString(b, []byte(stream))
	b = append(b, `,"time":"`...)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendDockerJSONString quotes s the way docker's json-file driver does.
func appendDockerJSONString(b []byte, s []byte) []byte {
	// exercise:begin 03-log-encoding
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
	// exercise:end 03-log-encoding
}

// logStream cuts one output stream into entries: at each "\n", every
// maxLogEntry bytes, and at Flush (end of stream).
type logStream struct {
	w      *LogWriter
	stream string
	buf    []byte
}

func (s *logStream) Write(p []byte) (int, error) {
	n := len(p)
	now := time.Now()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			p = nil
		} else {
			s.buf = append(s.buf, p[:i+1]...)
			p = p[i+1:]
		}
		for len(s.buf) >= maxLogEntry && (len(s.buf) > maxLogEntry || s.buf[len(s.buf)-1] != '\n') {
			s.w.WriteEntry(s.stream, s.buf[:maxLogEntry], now)
			s.buf = append(s.buf[:0], s.buf[maxLogEntry:]...)
		}
		if len(s.buf) > 0 && s.buf[len(s.buf)-1] == '\n' {
			s.w.WriteEntry(s.stream, s.buf, now)
			s.buf = s.buf[:0]
		}
	}
	return n, nil
}

// Flush writes a pending partial line (the stream ended without "\n").
func (s *logStream) Flush() {
	if len(s.buf) > 0 {
		s.w.WriteEntry(s.stream, s.buf, time.Now())
		s.buf = s.buf[:0]
	}
}

// LogEntry is one decoded line of a json-file log.
type LogEntry struct {
	Stream string    // "stdout" or "stderr"
	Log    []byte    // the text, with its "\n" if it had one
	Time   time.Time // when the shim read it
}

// LogOptions select what ReadLog delivers.
type LogOptions struct {
	Tail   int       // only the last Tail entries; < 0 = all (docker's tail=all)
	Since  time.Time // only entries at or after Since (zero = no limit), like docker
	Until  time.Time // only entries at or before Until (zero = no limit)
	Follow bool      // after the end of the file, keep delivering new entries
	// Done, when Follow is set, is closed when the container has exited:
	// ReadLog then delivers what is left in the file and returns. A nil
	// Done follows until ctx ends.
	Done <-chan struct{}
}

// ReadLog calls fn for each entry of the json-file log at path that opts
// select, in order. A missing log is an empty log. It returns fn's first
// error, ctx's error when ctx ends while following, or nil.
func ReadLog(ctx context.Context, path string, opts LogOptions, fn func(LogEntry) error) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		if !opts.Follow {
			return nil
		}
		// wait for the file to appear
		for {
			if f, err = os.Open(path); err == nil {
				break
			}
			if !os.IsNotExist(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-opts.Done:
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		}
	} else if err != nil {
		return err
	}
	defer f.Close()
	if opts.Tail >= 0 {
		off, err := tailOffset(f, opts.Tail)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return err
		}
	}
	deliver := func(line []byte) error {
		var raw struct {
			Log    string    `json:"log"`
			Stream string    `json:"stream"`
			Time   time.Time `json:"time"`
		}
		if err := json.Unmarshal(line, &raw); err != nil {
			return nil // skip a damaged line, like docker
		}
		if !opts.Since.IsZero() && raw.Time.Before(opts.Since) {
			return nil
		}
		if !opts.Until.IsZero() && raw.Time.After(opts.Until) {
			return nil
		}
		return fn(LogEntry{Stream: raw.Stream, Log: []byte(raw.Log), Time: raw.Time})
	}
	r := bufio.NewReaderSize(f, 64*1024)
	var partial []byte
	readAll := func() error {
		for {
			chunk, err := r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				partial = append(partial, chunk...)
				continue
			}
			if err == io.EOF {
				partial = append(partial, chunk...)
				return nil
			}
			if err != nil {
				return err
			}
			line := chunk
			if len(partial) > 0 {
				partial = append(partial, chunk...)
				line = partial
			}
			if e := deliver(line); e != nil {
				return e
			}
			partial = partial[:0]
		}
	}
	if err := readAll(); err != nil {
		return err
	}
	if !opts.Follow {
		return nil
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-opts.Done:
			return readAll()
		case <-tick.C:
			if err := readAll(); err != nil {
				return err
			}
		}
	}
}

// tailOffset finds where the last n lines of f start.
func tailOffset(f *os.File, n int) (int64, error) {
	// exercise:begin 03-log-tail
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := fi.Size()
	if n == 0 {
		return end, nil
	}
	const block = 32 * 1024
	buf := make([]byte, block)
	pos := end
	count := 0
	first := true
	for pos > 0 {
		sz := int64(block)
		if pos < sz {
			sz = pos
		}
		pos -= sz
		if _, err := f.ReadAt(buf[:sz], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		b := buf[:sz]
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				continue
			}
			if first && pos+int64(i) == end-1 {
				first = false
				continue // the newline that ends the last line
			}
			count++
			if count == n {
				return pos + int64(i) + 1, nil
			}
		}
		first = false
	}
	return 0, nil
	// exercise:end 03-log-tail
}

package libcontainer

// The json-file log, byte for byte like docker's: one JSON object a line,
//
//	{"log":"out1\n","stream":"stdout","time":"2026-11-27T13:24:50.509521107Z"}
//
// A line longer than 16 KiB is cut into 16 KiB entries without "\n"; a last
// line without a newline is stored without one. The escaping is docker's own
// (not encoding/json's): <, >, & and control characters other than \n and \r
// become \u00XX (so a tab is \u0009), invalid UTF-8 becomes \ufffd.
//
// With --log-opt max-size the file is rotated as docker does it: <id>-json.log
// is the newest file, <id>-json.log.1 the one before, up to max-file files
// in all; ReadLog reads them oldest first, as one log. With compress=true
// the rotated files are gzipped (<id>-json.log.1.gz, jsonlog_gzip.go).
//
// --log-opt labels, env and tag add the same "attrs" object to every line,
// between "stream" and "time", as docker's writer does:
//
//	{"log":"hi\n","stream":"stdout","attrs":{"tier":"db"},"time":"…"}

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// maxLogEntry is where docker cuts a long line.
const maxLogEntry = 16 * 1024

// LogRotation is docker's --log-opt max-size and max-file for the
// json-file log. Once the file holds MaxSize bytes or more, the next entry
// goes to a fresh file: the full one becomes <path>.1 (the old .1 becomes
// .2, and so on), and only MaxFiles files are kept, the current one
// included. MaxSize 0 lets the log grow for ever (docker's default).
type LogRotation struct {
	MaxSize  int64 `json:",omitempty"`
	MaxFiles int   `json:",omitempty"` // 0 is 1: the file is emptied
	// Compress gzips each file once it is rotated away (<path>.1.gz, …).
	Compress bool `json:",omitempty"`
}

// LogWriter appends entries to a json-file log, rotating it as its
// LogRotation says. It is safe for concurrent use.
type LogWriter struct {
	mu   sync.Mutex
	path string
	rot  LogRotation
	f    *os.File
	size int64 // of f, to know when to rotate without a stat per entry
	buf  []byte
	// attrs is the JSON object every entry carries as "attrs" (nil: none)
	attrs []byte
}

// OpenLogWriter opens (creating, appending) the log at path; it is never
// rotated.
func OpenLogWriter(path string) (*LogWriter, error) {
	return OpenRotatingLogWriter(path, LogRotation{})
}

// OpenRotatingLogWriter opens (creating, appending) the log at path, to be
// rotated as rot says.
func OpenRotatingLogWriter(path string, rot LogRotation) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &LogWriter{path: path, rot: rot, f: f, size: fi.Size()}, nil
}

// SetAttrs gives every entry written from now on the attributes attrs
// (--log-opt labels, env, tag); nil or empty: none. encoding/json writes
// the keys sorted, as docker's writer does.
func (w *LogWriter) SetAttrs(attrs map[string]string) error {
	var b []byte
	if len(attrs) > 0 {
		var err error
		if b, err = json.Marshal(attrs); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attrs = b
	return nil
}

// WriteEntry writes one entry: log is the entry's text (with its "\n" if
// it has one), stream "stdout" or "stderr".
func (w *LogWriter) WriteEntry(stream string, log []byte, t time.Time) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// like docker, the size is checked before the write: a file may pass
	// MaxSize by one entry, and an entry is never split across files
	if err := w.rotateIfFull(); err != nil {
		return err
	}
	w.buf = appendLogLine(w.buf[:0], stream, log, w.attrs, t)
	n, err := w.f.Write(w.buf)
	if err != nil && n > 0 && w.f.Truncate(w.size) == nil {
		// A short write (a full disk) left half an entry; the next one,
		// appended to it, would be unreadable too. Undone, the log holds
		// whole entries only.
		n = 0
	}
	w.size += int64(n)
	return err
}

// rotateIfFull starts a new file once the current one holds MaxSize bytes.
func (w *LogWriter) rotateIfFull() error {
	if w.rot.MaxSize <= 0 || w.size < w.rot.MaxSize {
		return nil
	}
	w.f.Close()
	shiftErr := shiftRotatedLogs(w.path, w.rot.MaxFiles, w.rot.Compress)
	// a new file even when the renames failed: the container's output
	// must keep flowing (it then starts over the file it could not move)
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	if shiftErr == nil && w.rot.Compress && w.rot.MaxFiles > 1 {
		// in line, not in the background as dockerd does: the shim has
		// nothing else to do meanwhile, and a reader never meets a
		// half-written .gz (it is renamed into place when complete)
		return compressLogFile(rotatedLogName(w.path, 1))
	}
	return shiftErr
}

// shiftRotatedLogs renames <path>.(files-2) to <path>.(files-1), …, and
// path to <path>.1: the oldest file is overwritten. With one file kept
// nothing moves (the caller empties path). With compress the older files
// are the .gz ones.
func shiftRotatedLogs(path string, files int, compress bool) error {
	ext := ""
	if compress {
		ext = gzSuffix
	}
	for i := files - 1; i > 1; i-- {
		if err := os.Rename(rotatedLogName(path, i-1)+ext, rotatedLogName(path, i)+ext); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if files > 1 {
		return os.Rename(path, rotatedLogName(path, 1))
	}
	return nil
}

// rotatedLogName is the name of the n-th older file of the log at path.
func rotatedLogName(path string, n int) string { return path + "." + strconv.Itoa(n) }

// Close closes the file.
func (w *LogWriter) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// appendLogLine encodes one entry, with its final '\n'; attrs is a JSON
// object or nil.
func appendLogLine(b []byte, stream string, log, attrs []byte, t time.Time) []byte {
	b = append(b, `{"log":`...)
	b = appendDockerJSONString(b, log)
	b = append(b, `,"stream":`...)
	b = appendDockerJSONString(b, []byte(stream))
	if len(attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = append(b, attrs...)
	}
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

// entryWriter takes whole entries: a *LogWriter, or a *logBuffer in
// front of one (--log-opt mode=non-blocking).
type entryWriter interface {
	WriteEntry(stream string, log []byte, t time.Time) error
}

// logStream cuts one output stream into entries: at each "\n", every
// maxLogEntry bytes, and at Flush (end of stream).
type logStream struct {
	w      entryWriter
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
	Stream string            // "stdout" or "stderr"
	Log    []byte            // the text, with its "\n" if it had one
	Time   time.Time         // when the shim read it
	Attrs  map[string]string // --log-opt labels, env, tag (nil: none)
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

// logPollInterval is how often a follower looks for new entries.
const logPollInterval = 50 * time.Millisecond

// ReadLog calls fn for each entry of the json-file log at path that opts
// select, in order, across the rotated files (<path>.N … <path>.1, then
// path). A missing log is an empty log. It returns fn's first error,
// ctx's error when ctx ends while following, or nil.
//
// The steps: open the files (waiting for the log to appear when
// following), skip to where the tail starts, read every file to its end,
// then, when following, poll the current file and move to the new one
// when the writer rotates it away.
func ReadLog(ctx context.Context, path string, opts LogOptions, fn func(LogEntry) error) error {
	lr := &logReader{ctx: ctx, path: path, opts: opts, fn: fn}
	files, err := lr.openFiles()
	if err != nil || len(files) == 0 {
		return err
	}
	defer func() {
		for _, f := range files {
			f.close()
		}
	}()
	if opts.Tail >= 0 {
		if files, err = skipToTail(files, opts.Tail); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := f.readAvailable(lr.deliver); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	return lr.follow(files[len(files)-1])
}

// logReader is one ReadLog call.
type logReader struct {
	ctx  context.Context
	path string
	opts LogOptions
	fn   func(LogEntry) error
}

// logFile is one open file of a log, read forwards line by line.
type logFile struct {
	f       *os.File
	r       *bufio.Reader
	partial []byte // the start of a line the writer has not finished
}

func openLogFile(path string) (*logFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &logFile{f: f, r: bufio.NewReaderSize(f, 64*1024)}, nil
}

func (lf *logFile) close() { lf.f.Close() }

// seek moves to off, dropping what was buffered.
func (lf *logFile) seek(off int64) error {
	if _, err := lf.f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	lf.r.Reset(lf.f)
	lf.partial = lf.partial[:0]
	return nil
}

// openFiles opens the log's files, oldest first. The current file is
// opened first, then the rotated ones: if a rotation happens in between,
// the set is opened again (a few times at most), so that no file is
// read twice or missed.
func (lr *logReader) openFiles() ([]*logFile, error) {
	for attempt := 0; ; attempt++ {
		cur, err := openLogFile(lr.path)
		if os.IsNotExist(err) {
			if !lr.opts.Follow {
				return nil, nil
			}
			cur, err = lr.waitForLog()
		}
		if err != nil || cur == nil {
			return nil, err
		}
		files := append(openRotatedLogs(lr.path), cur)
		if attempt == 2 || !rotatedAway(lr.path, cur) {
			return files, nil
		}
		for _, f := range files {
			f.close()
		}
	}
}

// openRotatedLogs opens <path>.1, <path>.2, … (or their .gz) while they
// exist, and returns them oldest first.
func openRotatedLogs(path string) []*logFile {
	var files []*logFile
	for n := 1; ; n++ {
		f, err := openRotatedLog(rotatedLogName(path, n)) // jsonlog_gzip.go
		if err != nil {
			break
		}
		files = append([]*logFile{f}, files...)
	}
	return files
}

// waitForLog waits for a follower until the log file appears; nil when
// the container exits first.
func (lr *logReader) waitForLog() (*logFile, error) {
	for {
		f, err := openLogFile(lr.path)
		if !os.IsNotExist(err) {
			return f, err
		}
		select {
		case <-lr.ctx.Done():
			return nil, lr.ctx.Err()
		case <-lr.opts.Done:
			return nil, nil
		case <-time.After(logPollInterval):
		}
	}
}

// skipToTail drops the files before the last n lines and seeks the first
// file kept to where they start.
func skipToTail(files []*logFile, n int) ([]*logFile, error) {
	for i := len(files) - 1; i >= 0; i-- {
		off, err := tailOffset(files[i].f, n)
		if err != nil {
			return nil, err
		}
		lines := 0
		if off == 0 {
			if lines, err = countLines(files[i].f); err != nil {
				return nil, err
			}
		}
		if off > 0 || lines >= n || i == 0 {
			for _, f := range files[:i] {
				f.close()
			}
			return files[i:], files[i].seek(off)
		}
		n -= lines
	}
	return files, nil
}

// countLines counts the lines of f (a last one without "\n" too).
func countLines(f *os.File) (int, error) {
	buf := make([]byte, 32*1024)
	lines, last := 0, byte('\n')
	for off := int64(0); ; {
		k, err := f.ReadAt(buf, off)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if k > 0 {
			last = buf[k-1]
		}
		off += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		lines++
	}
	return lines, nil
}

// readAvailable delivers every complete line up to the end of the file; a
// line the writer has not finished waits in partial for the next call.
func (lf *logFile) readAvailable(deliver func([]byte) error) error {
	for {
		chunk, err := lf.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			lf.partial = append(lf.partial, chunk...)
			continue
		}
		if err == io.EOF {
			lf.partial = append(lf.partial, chunk...)
			return nil
		}
		if err != nil {
			return err
		}
		line := chunk
		if len(lf.partial) > 0 {
			lf.partial = append(lf.partial, chunk...)
			line = lf.partial
		}
		if err := deliver(line); err != nil {
			return err
		}
		lf.partial = lf.partial[:0]
	}
}

// deliver decodes one line and hands it to fn when Since and Until
// select it.
func (lr *logReader) deliver(line []byte) error {
	var raw struct {
		Log    string            `json:"log"`
		Stream string            `json:"stream"`
		Attrs  map[string]string `json:"attrs"`
		Time   time.Time         `json:"time"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil // skip a damaged line, like docker
	}
	if !lr.opts.Since.IsZero() && raw.Time.Before(lr.opts.Since) {
		return nil
	}
	if !lr.opts.Until.IsZero() && raw.Time.After(lr.opts.Until) {
		return nil
	}
	return lr.fn(LogEntry{Stream: raw.Stream, Log: []byte(raw.Log), Time: raw.Time, Attrs: raw.Attrs})
}

// follow polls the current file until ctx ends or the container exits
// (then what is left is delivered).
func (lr *logReader) follow(cur *logFile) error {
	defer func() { cur.close() }() // the files ReadLog opened are closed twice: harmless
	tick := time.NewTicker(logPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-lr.ctx.Done():
			return lr.ctx.Err()
		case <-lr.opts.Done:
			return lr.drain(cur)
		case <-tick.C:
			next, err := lr.advance(cur)
			if err != nil {
				return err
			}
			cur = next
		}
	}
}

// advance reads what cur has; when the writer has rotated cur away, it
// returns the new file (read from the next call on), else cur.
func (lr *logReader) advance(cur *logFile) (*logFile, error) {
	// look before reading: once renamed, cur gets no more entries, so
	// what the read finds is all of it
	rotated := rotatedAway(lr.path, cur)
	if err := cur.readAvailable(lr.deliver); err != nil {
		return cur, err
	}
	if !rotated {
		return cur, nil
	}
	next, err := openLogFile(lr.path)
	if err != nil {
		return cur, nil // not made yet: the next poll finds it
	}
	cur.close()
	return next, nil
}

// drain delivers the rest of the log once the container has exited,
// following a rotation that happened since the last poll (bounded: the
// writer is gone, so there are at most two).
func (lr *logReader) drain(cur *logFile) error {
	for i := 0; i < 3; i++ {
		next, err := lr.advance(cur)
		if err != nil || next == cur {
			return err
		}
		cur = next
	}
	return nil
}

// rotatedAway reports whether path names another file than lf now.
func rotatedAway(path string, lf *logFile) bool {
	now, err := os.Stat(path)
	if err != nil {
		return os.IsNotExist(err)
	}
	was, err := lf.f.Stat()
	return err == nil && !os.SameFile(now, was)
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

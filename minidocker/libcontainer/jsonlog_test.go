package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureLog is a copy of docker's own json-file log of a container, kept
// in testdata so the format is checked against the real thing.
const fixtureLog = "testdata/docker-json-log-sample.txt"

// TestLogEncodingMatchesDocker re-encodes every line of docker's own log
// and wants the very same bytes.
func TestLogEncodingMatchesDocker(t *testing.T) {
	data, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	// the raw bytes the container wrote, stream by stream
	raw := map[string][]byte{
		"stdout": []byte("out1\nout2\ntab\there <tag> & \"quoted\" back\\slash caf\xc3\xa9 bad\xffbyte\n" + strings.Repeat("x", 17000) + "\nno trailing newline"),
		"stderr": []byte("err1\n"),
	}
	var want []string
	var times []time.Time
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l == "" {
			continue
		}
		var e struct{ Time time.Time }
		json.Unmarshal([]byte(l), &e)
		times = append(times, e.Time)
		want = append(want, l)
	}
	// encode each fixture entry from decoded values: same bytes?
	for i, l := range want {
		var e struct{ Log, Stream string }
		json.Unmarshal([]byte(l), &e)
		log := []byte(e.Log)
		if strings.Contains(e.Log, "bad") { // decoding lost the 0xff byte
			log = bytes.Replace(log, []byte("\ufffd"), []byte{0xff}, 1)
		}
		if got := string(appendLogLine(nil, e.Stream, log, nil, times[i])); got != l {
			t.Errorf("entry %d:\n got %.200q\nwant %.200q", i, got, l)
		}
	}
	// the splitter cuts the stream into the same entries
	path := filepath.Join(t.TempDir(), "log")
	w, err := OpenLogWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"stdout", "stderr"} {
		ls := &logStream{w: w, stream: stream}
		b := raw[stream]
		for len(b) > 0 { // in odd-sized chunks
			n := min(len(b), 4093)
			ls.Write(b[:n])
			b = b[n:]
		}
		ls.Flush()
	}
	w.Close()
	got, _ := os.ReadFile(path)
	var gotLogs, wantLogs []string
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		gotLogs = append(gotLogs, l[:strings.LastIndex(l, `"time":`)])
	}
	for _, l := range want {
		if strings.Contains(l, `"stdout"`) {
			wantLogs = append(wantLogs, l[:strings.LastIndex(l, `"time":`)])
		}
	}
	for _, l := range want {
		if strings.Contains(l, `"stderr"`) {
			wantLogs = append(wantLogs, l[:strings.LastIndex(l, `"time":`)])
		}
	}
	if strings.Join(gotLogs, "\n") != strings.Join(wantLogs, "\n") {
		t.Errorf("split entries differ:\n got %.400q\nwant %.400q", gotLogs, wantLogs)
	}
}

func writeTestLog(t *testing.T, n int) (string, time.Time) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := OpenLogWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		stream := "stdout"
		if i%2 == 1 {
			stream = "stderr"
		}
		w.WriteEntry(stream, []byte(strings.Repeat("y", i%50)+"\n"), t0.Add(time.Duration(i)*time.Second))
	}
	w.Close()
	return path, t0
}

func collect(t *testing.T, path string, o LogOptions) []LogEntry {
	var out []LogEntry
	if err := ReadLog(context.Background(), path, o, func(e LogEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReadLogTailSince(t *testing.T) {
	path, t0 := writeTestLog(t, 5000)
	if got := collect(t, path, LogOptions{Tail: -1}); len(got) != 5000 || got[1].Stream != "stderr" || !got[4999].Time.Equal(t0.Add(4999*time.Second)) {
		t.Errorf("all: %d entries", len(got))
	}
	for _, n := range []int{0, 1, 2, 3, 1234, 4999, 5000, 9999} {
		got := collect(t, path, LogOptions{Tail: n})
		want := min(n, 5000)
		if len(got) != want || (want > 0 && !got[len(got)-1].Time.Equal(t0.Add(4999*time.Second))) || (want > 0 && !got[0].Time.Equal(t0.Add(time.Duration(5000-want)*time.Second))) {
			t.Errorf("tail %d: %d entries", n, len(got))
		}
	}
	got := collect(t, path, LogOptions{Tail: -1, Since: t0.Add(4990 * time.Second)})
	if len(got) != 10 {
		t.Errorf("since: %d entries, want 10 (since is inclusive)", len(got))
	}
	got = collect(t, path, LogOptions{Tail: 5, Until: t0.Add(3 * time.Second)})
	if len(got) != 0 {
		t.Errorf("tail 5 until 3s: %d", len(got))
	}
	if got := collect(t, filepath.Join(t.TempDir(), "none"), LogOptions{Tail: -1}); len(got) != 0 {
		t.Errorf("missing log: %d", len(got))
	}
}

func TestReadLogFollow(t *testing.T) {
	path, _ := writeTestLog(t, 3)
	w, err := OpenLogWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	got := make(chan LogEntry, 100)
	errc := make(chan error, 1)
	go func() {
		errc <- ReadLog(context.Background(), path, LogOptions{Tail: 2, Follow: true, Done: done}, func(e LogEntry) error {
			got <- e
			return nil
		})
	}()
	for i := 0; i < 2; i++ {
		<-got
	}
	w.WriteEntry("stdout", []byte("tick 1\n"), time.Now())
	if e := <-got; string(e.Log) != "tick 1\n" {
		t.Errorf("followed %q", e.Log)
	}
	w.WriteEntry("stderr", []byte("tock 1\n"), time.Now())
	close(done) // the container exited: what is left is delivered
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if e := <-got; string(e.Log) != "tock 1\n" || e.Stream != "stderr" {
		t.Errorf("last %q %s", e.Log, e.Stream)
	}
	w.Close()
}

// TestLogRotation writes past max-size with max-file 3: three files are
// kept, none much over the limit, and ReadLog (all, tail across files,
// since) sees the newest entries in order, as one log.
func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := OpenRotatingLogWriter(path, LogRotation{MaxSize: 1000, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const n = 200 // about 75 bytes an entry: some 15 rotations
	for i := 0; i < n; i++ {
		w.WriteEntry("stdout", []byte(fmt.Sprintf("line %03d\n", i)), t0.Add(time.Duration(i)*time.Second))
	}
	w.Close()
	for _, name := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1100 {
			t.Fatalf("%s: %d bytes", name, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("a fourth file is kept: %v", err)
	}
	all := readsOldestFirst(t, path, n)
	for _, tail := range []int{0, 1, 5, 13, 14, 15, 25, len(all), len(all) + 10} {
		got := collect(t, path, LogOptions{Tail: tail})
		want := all[len(all)-min(tail, len(all)):]
		if len(got) != len(want) || (len(got) > 0 && string(got[0].Log) != string(want[0].Log)) {
			t.Errorf("tail %d: %d entries, want %d", tail, len(got), len(want))
		}
	}
	if got := collect(t, path, LogOptions{Tail: -1, Since: t0.Add(195 * time.Second)}); len(got) != 5 {
		t.Errorf("since: %d entries, want 5", len(got))
	}
}

// TestLogRotationOneFile: max-file 1 empties the file when it is full.
func TestLogRotationOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := OpenRotatingLogWriter(path, LogRotation{MaxSize: 500, MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		w.WriteEntry("stdout", []byte(fmt.Sprintf("line %03d\n", i)), time.Now())
	}
	w.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() > 600 {
		t.Fatalf("%v %v", err, fi)
	}
	if _, err := os.Stat(path + ".1"); !os.IsNotExist(err) {
		t.Fatalf("max-file 1 kept a rotated file: %v", err)
	}
	if got := collect(t, path, LogOptions{Tail: -1}); string(got[len(got)-1].Log) != "line 099\n" {
		t.Fatalf("last %q", got[len(got)-1].Log)
	}
}

// TestReadLogFollowsRotation: a follower started before a rotation gets
// every entry written after it, in order, across the new files.
func TestReadLogFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := OpenRotatingLogWriter(path, LogRotation{MaxSize: 300, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteEntry("stdout", []byte("before\n"), time.Now())
	done := make(chan struct{})
	got := make(chan string, 100)
	errc := make(chan error, 1)
	go func() {
		errc <- ReadLog(context.Background(), path, LogOptions{Tail: -1, Follow: true, Done: done}, func(e LogEntry) error {
			got <- string(e.Log)
			return nil
		})
	}()
	if e := <-got; e != "before\n" {
		t.Fatalf("first %q", e)
	}
	// one entry per poll: the follower sees each file before the next
	// rotation (300 bytes: a rotation every four entries)
	for i := 0; i < 12; i++ {
		line := fmt.Sprintf("after %02d\n", i)
		w.WriteEntry("stdout", []byte(line), time.Now())
		select {
		case e := <-got:
			if e != line {
				t.Fatalf("followed %q, want %q", e, line)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q never came", line)
		}
	}
	w.WriteEntry("stdout", []byte("last\n"), time.Now())
	w.Close()
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if e := <-got; e != "last\n" {
		t.Fatalf("drained %q", e)
	}
}

// TestLogRotationCompressed: with compress the rotated files are gzipped
// (.1.gz, .2.gz; no plain one stays), and ReadLog reads them back as one
// log, in order, with the tail reaching into a compressed file; a rotated
// file left plain (its compression failed) is read too.
func TestLogRotationCompressed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := OpenRotatingLogWriter(path, LogRotation{MaxSize: 1000, MaxFiles: 3, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const n = 200
	for i := 0; i < n; i++ {
		w.WriteEntry("stdout", []byte(fmt.Sprintf("line %03d\n", i)), t0.Add(time.Duration(i)*time.Second))
	}
	w.Close()
	for _, name := range []string{path + ".1.gz", path + ".2.gz"} {
		b, err := os.ReadFile(name)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("%s is not gzipped: %v", name, err)
		}
	}
	for _, name := range []string{path + ".1", path + ".2", path + ".3.gz"} {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Fatalf("%s exists: %v", name, err)
		}
	}
	all := readsOldestFirst(t, path, n)
	if got := collect(t, path, LogOptions{Tail: len(all) - 2}); len(got) != len(all)-2 || string(got[0].Log) != string(all[2].Log) {
		t.Errorf("tail %d: %d entries", len(all)-2, len(got))
	}
	// .2.gz decompressed by hand into a plain .2: still read, same entries
	lf, err := openCompressedLog(path + ".2.gz")
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(lf.f)
	lf.close()
	os.Remove(path + ".2.gz")
	if err := os.WriteFile(path+".2", plain, 0o640); err != nil {
		t.Fatal(err)
	}
	if again := collect(t, path, LogOptions{Tail: -1}); len(again) != len(all) {
		t.Errorf("with a plain .2: %d entries, want %d", len(again), len(all))
	}
}

// blockedSink is an entryWriter that waits until release is closed.
type blockedSink struct {
	release chan struct{}
	got     []string
}

func (s *blockedSink) WriteEntry(stream string, log []byte, t time.Time) error {
	<-s.release
	s.got = append(s.got, string(log))
	return nil
}

// TestLogBufferDropsWhenFull: in non-blocking mode a writer that cannot
// keep up never makes WriteEntry wait; once the buffer is full new entries
// are dropped and counted, and Close delivers what was kept, in order.
func TestLogBufferDropsWhenFull(t *testing.T) {
	sink := &blockedSink{release: make(chan struct{})}
	b := newLogBuffer(sink, 100)
	// the drainer may take a first batch at once and block in the sink
	// with it; then 100 bytes (eleven entries of nine) wait in the buffer
	for i := 0; i < 50; i++ {
		b.WriteEntry("stdout", []byte(fmt.Sprintf("entry %02d\n", i)), time.Time{}) // returns although the sink is stuck
	}
	close(sink.release)
	dropped := b.Close()
	if len(sink.got)+int(dropped) != 50 || len(sink.got) < 11 || len(sink.got) > 22 {
		t.Fatalf("%d written, %d dropped: want about 100 bytes kept and the rest dropped", len(sink.got), dropped)
	}
	for i, e := range sink.got {
		if want := fmt.Sprintf("entry %02d\n", i); e != want {
			t.Fatalf("entry %d is %q, want %q", i, e, want)
		}
	}
}

// readsOldestFirst reads every entry of a rotated log (written as "line
// 000" … "line 199") and checks that the kept ones come oldest first and end
// with the last line written.
func readsOldestFirst(t *testing.T, path string, n int) []LogEntry {
	t.Helper()
	all := collect(t, path, LogOptions{Tail: -1})
	if len(all) < 20 || string(all[len(all)-1].Log) != "line 199\n" {
		t.Fatalf("all: %d entries, last %q", len(all), all[len(all)-1].Log)
	}
	first := n - len(all)
	for i, e := range all {
		if want := fmt.Sprintf("line %03d\n", first+i); string(e.Log) != want {
			t.Fatalf("entry %d is %q, want %q: the files are not read oldest first", i, e.Log, want)
		}
	}
	return all
}

package registry

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A crash in the middle of a PATCH can leave bytes in the session's data
// file that state.json never recorded. They must not end up in the blob:
// the next append cuts the file back to the recorded size.
func TestTornChunkIsDiscarded(t *testing.T) {
	root := t.TempDir()
	_, base := startServer(t, root)
	data := []byte("0123456789abcdefghij")
	r := call(t, "POST", base+"/v2/app/blobs/uploads/", nil)
	loc := r.header.Get("Location")
	expect(t, call(t, "PATCH", base+loc, data[:10], "Content-Range", "0-9"), 202, "chunk 1")

	id := loc[strings.LastIndex(loc, "/")+1:]
	f, err := os.OpenFile(filepath.Join(root, "uploads", id, "data"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("GARBAGE FROM A CRASH"))
	f.Close()

	_, base2 := startServer(t, root) // "restart"
	r = call(t, "GET", base2+loc, nil)
	if r.header.Get("Range") != "0-9" {
		t.Fatalf("Range after torn write %q, want 0-9", r.header.Get("Range"))
	}
	expect(t, call(t, "PATCH", base2+loc, data[10:], "Content-Range", "10-19"), 202, "chunk 2")
	expect(t, call(t, "PUT", base2+loc+"?digest="+sha(data), nil), 201, "finish")
	if got := call(t, "GET", base2+"/v2/app/blobs/"+sha(data), nil).body; !bytes.Equal(got, data) {
		t.Fatalf("blob %q", got)
	}
}

// Temp files of an interrupted atomic write are removed at start-up, and
// sessions older than the limit are swept.
func TestStartupCleanup(t *testing.T) {
	root := t.TempDir()
	_, base := startServer(t, root)
	r := call(t, "POST", base+"/v2/app/blobs/uploads/", nil)
	expect(t, r, 202, "session")
	os.WriteFile(filepath.Join(root, "tmp", "w-123"), []byte("half"), 0o644)

	st, err := openStore(root)
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(root, "tmp")); n != 0 {
		t.Errorf("tmp holds %d files after open", n)
	}
	st.sweepUploads(0)
	if n := countFiles(t, filepath.Join(root, "uploads")); n != 0 {
		t.Errorf("uploads holds %d files after the sweep", n)
	}
}

// Many clients pushing the same layer to different repositories at once,
// while others delete it: every successful push must leave a readable blob.
func TestConcurrentPushes(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	layer := make([]byte, 256<<10)
	rand.Read(layer)
	d := sha(layer)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			repo := fmt.Sprintf("team/app%d", i%4)
			req, _ := http.NewRequest("POST", base+"/v2/"+repo+"/blobs/uploads/?digest="+d, bytes.NewReader(layer))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				errs <- fmt.Errorf("push %d: %d", i, resp.StatusCode)
				return
			}
			if i%4 == 3 { // some pushers delete again right away
				req, _ = http.NewRequest("DELETE", base+"/v2/"+repo+"/blobs/"+d, nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < 3; i++ {
		r := call(t, "GET", fmt.Sprintf("%s/v2/team/app%d/blobs/%s", base, i, d), nil)
		if r.status != 200 || !bytes.Equal(r.body, layer) {
			t.Errorf("team/app%d: %d, %d bytes", i, r.status, len(r.body))
		}
	}
}

// Push and pull throughput of one 64 MiB blob through the HTTP API
// (streamed PATCH + PUT, then GET).
func BenchmarkPushPull(b *testing.B) {
	s, err := New(Options{Root: b.TempDir(), Logf: func(string, ...any) {}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httpTestServer(s)
	defer srv.Close()
	blob := make([]byte, 64<<20)
	rand.Read(blob)
	d := sha(blob)
	b.SetBytes(int64(2 * len(blob)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		repo := fmt.Sprintf("bench/r%d", i)
		resp, err := http.Post(srv.URL+"/v2/"+repo+"/blobs/uploads/", "", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc := srv.URL + resp.Header.Get("Location")
		req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(blob))
		if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 202 {
			b.Fatal(err, resp.Status)
		}
		resp.Body.Close()
		req, _ = http.NewRequest("PUT", loc+"?digest="+d, nil)
		if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 201 {
			b.Fatal(err, resp.Status)
		}
		resp.Body.Close()
		if resp, err = http.Get(srv.URL + "/v2/" + repo + "/blobs/" + d); err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != int64(len(blob)) {
			b.Fatalf("pulled %d bytes", n)
		}
	}
}

package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// progressLog collects "ID: Status" lines like the docker CLI prints them.
type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *progressLog) sink(ev ProgressEvent) {
	if ev.HasDetail {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.ID != "" {
		l.lines = append(l.lines, ev.ID+": "+ev.Status)
	} else {
		l.lines = append(l.lines, ev.Status)
	}
}

func (l *progressLog) count(suffix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.HasSuffix(s, suffix) {
			n++
		}
	}
	return n
}

func (l *progressLog) String() string { return strings.Join(l.lines, "\n") }

func startRegistryB(b *testing.B) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return strings.TrimPrefix(srv.URL, "http://")
}

func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushPull(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t, nil)
	a := newStore(t)
	loadFixture(t, a)
	want := readFixtureInspect(t)
	if err := a.Tag("fixture:v1", host+"/fixture:v1"); err != nil {
		t.Fatal(err)
	}
	var pl progressLog
	res, err := a.Push(ctx, host+"/fixture:v1", RegistryOptions{}, pl.sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("push:\n%s", pl.String())
	if pl.lines[0] != "The push refers to repository ["+host+"/fixture]" || pl.count(": Pushed") != 7 || pl.count(": Preparing") != 7 {
		t.Errorf("push progress:\n%s", pl.String())
	}
	if last := pl.lines[len(pl.lines)-1]; last != fmt.Sprintf("v1: digest: %s size: %d", res.Digest, res.Size) {
		t.Errorf("last line %q", last)
	}
	// again: everything is there
	pl = progressLog{}
	if _, err := a.Push(ctx, host+"/fixture:v1", RegistryOptions{}, pl.sink); err != nil {
		t.Fatal(err)
	}
	if pl.count(": Layer already exists") != 7 {
		t.Errorf("second push:\n%s", pl.String())
	}
	// another repository on the same registry: blobs are mounted
	a.Tag("fixture:v1", host+"/other:v2")
	pl = progressLog{}
	if _, err := a.Push(ctx, host+"/other:v2", RegistryOptions{}, pl.sink); err != nil {
		t.Fatal(err)
	}
	// (go-containerregistry's test registry shares blobs between repositories,
	// so it answers the existence check before a mount is tried)
	if pl.count(": Mounted from fixture")+pl.count(": Layer already exists") != 7 {
		t.Errorf("cross-repo push:\n%s", pl.String())
	}

	// pull into an empty store: same image ID
	b := newStore(t)
	pl = progressLog{}
	img, err := b.Pull(ctx, host+"/fixture:v1", RegistryOptions{}, pl.sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pull:\n%s", pl.String())
	if img.ID != want.Id {
		t.Errorf("pulled ID %s, want %s", img.ID, want.Id)
	}
	if pl.lines[0] != "v1: Pulling from fixture" || pl.count(": Pull complete") != 7 ||
		pl.lines[len(pl.lines)-2] != "Digest: "+res.Digest ||
		pl.lines[len(pl.lines)-1] != "Status: Downloaded newer image for "+host+"/fixture:v1" {
		t.Errorf("pull progress:\n%s", pl.String())
	}
	ins, err := b.Inspect(host + "/fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ins.RepoDigests) != 1 || ins.RepoDigests[0] != host+"/fixture@"+res.Digest {
		t.Errorf("RepoDigests %v", ins.RepoDigests)
	}
	// pulled layers can be pushed back from the second store and saved
	if err := b.Save(ctx, io.Discard, []string{host + "/fixture:v1"}); err != nil {
		t.Fatal(err)
	}
	pl = progressLog{}
	if _, err := b.Pull(ctx, host+"/fixture:v1", RegistryOptions{}, pl.sink); err != nil {
		t.Fatal(err)
	}
	// the image is already here: like dockerd, no layer lines, only Digest and Status
	if pl.count(": Already exists") != 0 || !strings.HasPrefix(pl.lines[len(pl.lines)-1], "Status: Image is up to date for") {
		t.Errorf("second pull:\n%s", pl.String())
	}
	// by digest
	c := newStore(t)
	img2, err := c.Pull(ctx, host+"/fixture@"+res.Digest, RegistryOptions{}, nil)
	if err != nil || img2.ID != want.Id {
		t.Fatalf("pull by digest: %v %v", img2, err)
	}

	// concurrent pulls of the same image into one store
	d := newStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.Pull(ctx, host+"/fixture:v1", RegistryOptions{}, nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("concurrent pull: %v", err)
		}
	}
	if ins, err := d.Inspect(host + "/fixture:v1"); err != nil || ins.ID != want.Id {
		t.Errorf("after concurrent pulls: %v", err)
	}
}

func TestPullErrors(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t, nil)
	s := newStore(t)
	_, err := s.Pull(ctx, host+"/nope:v9", RegistryOptions{}, nil)
	if err == nil || err.Error() != "manifest for "+host+"/nope:v9 not found: manifest unknown: manifest unknown" {
		t.Errorf("unknown: %v", err)
	}
	if _, err := s.Pull(ctx, "Bad:Ref!", RegistryOptions{}, nil); err == nil || !strings.HasPrefix(err.Error(), "invalid reference format") {
		t.Errorf("bad ref: %v", err)
	}
	// registry down
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := l.Addr().String()
	l.Close()
	_, err = s.Pull(ctx, down+"/busybox", RegistryOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("down: %v", err)
	}
	t.Logf("down: %v", err)
}

// A plain-HTTP registry that is not insecure is refused with docker's text;
// listed in insecure-registries it is reached. The registry runs on
// 127.0.0.1 but is named registry.test: the transport dials the listener
// whatever the name, so no name is resolved and the name is not loopback.
func TestPullHTTPNotInsecure(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	var dialer net.Dialer
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}}
	host := "registry.test:5000"
	s := newStore(t)
	_, err := s.Pull(context.Background(), host+"/busybox", RegistryOptions{Transport: transport}, nil)
	want := `Get "https://` + host + `/v2/": http: server gave HTTP response to HTTPS client`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	// with insecure-registries it gets through (to "manifest unknown")
	_, err = s.Pull(context.Background(), host+"/busybox", RegistryOptions{Transport: transport, Insecure: []string{host}}, nil)
	if err == nil || !strings.Contains(err.Error(), "manifest unknown") {
		t.Fatalf("insecure: %v", err)
	}
}

// Both loopback ranges are insecure without configuration (Docker 28.0 and
// later); other addresses only when listed, by host:port, host or CIDR.
func TestIsInsecure(t *testing.T) {
	opts := RegistryOptions{Insecure: []string{"10.1.0.0/16", "reg.example:5000"}}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.8.9.10": true, "[::1]:5000": true, "::1": true, "localhost:5000": true,
		"10.1.2.3:443": true, "reg.example:5000": true,
		"10.2.0.1:5000": false, "[::2]:5000": false, "reg.example:5001": false, "docker.io": false,
	} {
		t.Run(host, func(t *testing.T) {
			if got := opts.IsInsecure(host); got != want {
				t.Errorf("IsInsecure(%q) = %v, want %v", host, got, want)
			}
		})
	}
}

func TestPullTamperedBlob(t *testing.T) {
	ctx := context.Background()
	var corrupt bool
	var mu sync.Mutex
	host := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			c := corrupt
			mu.Unlock()
			if c && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if len(body) > 100 && rec.Code == 200 {
					body[len(body)/2] ^= 0xff
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	a := newStore(t)
	loadFixture(t, a)
	a.Tag("fixture:v1", host+"/fx:v1")
	if _, err := a.Push(ctx, host+"/fx:v1", RegistryOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	corrupt = true
	mu.Unlock()
	b := newStore(t)
	_, err := b.Pull(ctx, host+"/fx:v1", RegistryOptions{}, nil)
	if err == nil {
		t.Fatal("tampered pull succeeded")
	}
	t.Logf("tampered: %v", err)
	if l, _ := b.List(true); len(l) != 0 {
		t.Error("image stored")
	}
	if ents, _ := os.ReadDir(filepath.Join(b.Root(), "layers")); countDirs(ents) != 0 {
		t.Error("layers stored")
	}
	mu.Lock()
	corrupt = false
	mu.Unlock()
	if _, err := b.Pull(ctx, host+"/fx:v1", RegistryOptions{}, nil); err != nil {
		t.Fatalf("pull after fix: %v", err)
	}
}

func countDirs(ents []os.DirEntry) int {
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			n++
		}
	}
	return n
}

var _ = bytes.NewReader

// TestPullInterrupted cancels a pull in the middle of a layer download:
// nothing is stored, and pulling again works.
func TestPullInterrupted(t *testing.T) {
	var stall bool
	var mu sync.Mutex
	started := make(chan struct{}, 16)
	host := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			st := stall
			mu.Unlock()
			if st && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if len(body) > 4096 {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					w.WriteHeader(200)
					w.Write(body[:len(body)/2])
					w.(http.Flusher).Flush()
					started <- struct{}{}
					<-r.Context().Done()
					return
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	a := newStore(t)
	loadFixture(t, a)
	a.Tag("fixture:v1", host+"/fx:v1")
	if _, err := a.Push(context.Background(), host+"/fx:v1", RegistryOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	stall = true
	mu.Unlock()
	b := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := b.Pull(ctx, host+"/fx:v1", RegistryOptions{}, nil); err == nil {
		t.Fatal("interrupted pull succeeded")
	}
	if l, _ := b.List(true); len(l) != 0 {
		t.Error("image stored")
	}
	if ents, _ := os.ReadDir(filepath.Join(b.Root(), "layers")); countDirs(ents) != 0 {
		t.Errorf("%d layers stored", countDirs(ents))
	}
	mu.Lock()
	stall = false
	mu.Unlock()
	if _, err := b.Pull(context.Background(), host+"/fx:v1", RegistryOptions{}, nil); err != nil {
		t.Fatalf("pull again: %v", err)
	}
}

func TestSaveByIDLoadsUntagged(t *testing.T) {
	s := newStore(t)
	loadFixture(t, s)
	want := readFixtureInspect(t)
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{want.Id[7:19]}); err != nil {
		t.Fatal(err)
	}
	s2 := newStore(t)
	lines, err := s2.Load(context.Background(), &buf, nil)
	if err != nil || strings.Join(lines, "|") != "Loaded image ID: "+want.Id {
		t.Fatalf("%q %v", lines, err)
	}
	l, _ := s2.List(false)
	if len(l) != 1 || len(l[0].RepoTags) != 0 {
		t.Errorf("dangling image: %+v", l)
	}
}

// scopedRegistry wraps the test registry so that blobs belong to
// repositories, as in distribution: HEAD in another repository is 404 until
// the blob is uploaded or mounted there. That makes push's cross-repository
// mount visible.
func scopedRegistry(h http.Handler) http.Handler {
	var mu sync.Mutex
	have := map[string]bool{} // repo + " " + digest
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if i := strings.Index(p, "/blobs/"); i > 0 && strings.HasPrefix(p, "/v2/") {
			repo := p[len("/v2/"):i]
			rest := p[i+len("/blobs/"):]
			mu.Lock()
			switch {
			case r.Method == http.MethodHead && strings.HasPrefix(rest, "sha256:"):
				if !have[repo+" "+rest] {
					mu.Unlock()
					w.WriteHeader(http.StatusNotFound)
					return
				}
			case r.Method == http.MethodPost && r.URL.Query().Get("mount") != "":
				d, from := r.URL.Query().Get("mount"), r.URL.Query().Get("from")
				if have[from+" "+d] {
					have[repo+" "+d] = true
					mu.Unlock()
					w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d)
					w.Header().Set("Docker-Content-Digest", d)
					w.WriteHeader(http.StatusCreated)
					return
				}
			case r.Method == http.MethodPut && r.URL.Query().Get("digest") != "":
				have[repo+" "+r.URL.Query().Get("digest")] = true
			case r.Method == http.MethodPost && r.URL.Query().Get("digest") != "":
				have[repo+" "+r.URL.Query().Get("digest")] = true
			}
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func TestPushMountsFromAnotherRepository(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t, scopedRegistry)
	a := newStore(t)
	loadFixture(t, a)
	a.Tag("fixture:v1", host+"/first:v1")
	a.Tag("fixture:v1", host+"/second:v1")
	var pl progressLog
	if _, err := a.Push(ctx, host+"/first:v1", RegistryOptions{}, pl.sink); err != nil {
		t.Fatal(err)
	}
	if pl.count(": Pushed") != 7 {
		t.Fatalf("first push:\n%s", pl.String())
	}
	pl = progressLog{}
	if _, err := a.Push(ctx, host+"/second:v1", RegistryOptions{}, pl.sink); err != nil {
		t.Fatal(err)
	}
	if pl.count(": Mounted from first") != 7 {
		t.Errorf("second push:\n%s", pl.String())
	}
	// and the mounted image pulls fine
	b := newStore(t)
	if _, err := b.Pull(ctx, host+"/second:v1", RegistryOptions{}, nil); err != nil {
		t.Fatal(err)
	}
}

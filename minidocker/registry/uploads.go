package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pushing a blob is a small protocol of its own (distribution spec, "Push"):
//
//	POST   /v2/<name>/blobs/uploads/             → 202, Location: …/uploads/<id>
//	PATCH  /v2/<name>/blobs/uploads/<id>          (zero or more chunks) → 202, Range: 0-<last byte>
//	PUT    /v2/<name>/blobs/uploads/<id>?digest=D (optionally with the last chunk) → 201
//
// or in one request: POST …/uploads/?digest=D with the whole blob as body.
// The client names the digest only at the end, and only then can we check
// it: until the bytes hash to D, they are kept in the upload session and
// never enter the content store.
//
// A session lives on disk (uploads/<id>/data plus state.json), so a push can
// continue after a registry restart. state.json is the commit record: it
// says how many bytes of data are good and carries the running sha256 state
// (Go's hashes can marshal their internal state), so finishing a sha256
// upload does not re-read the file. Bytes past the recorded size are a torn
// write from a failed request and are cut off before the next append.

// uploadState is what state.json holds.
type uploadState struct {
	Repo    string    `json:"repo"`
	Size    int64     `json:"size"`
	SHA256  []byte    `json:"sha256State"`
	Started time.Time `json:"started"`
}

// upload is an open session; hold its lock while reading or changing it.
type upload struct {
	id    string
	dir   string
	state uploadState
}

// staleUploadAge is how long an abandoned session is kept (swept at start-up).
const staleUploadAge = 7 * 24 * time.Hour

// uploadLocks serialises requests on one session: two PATCHes racing on the
// same file would interleave bytes. Entries are counted and dropped when the
// last holder leaves, so finished sessions leave nothing behind in memory.
type uploadLocks struct {
	mu sync.Mutex
	m  map[string]*uploadLock
}

type uploadLock struct {
	sync.Mutex
	refs int
}

func (l *uploadLocks) lock(id string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*uploadLock{}
	}
	e := l.m[id]
	if e == nil {
		e = &uploadLock{}
		l.m[id] = e
	}
	e.refs++
	l.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}

func (st *store) uploadDir(id string) string { return filepath.Join(st.root, "uploads", id) }

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// startUpload creates an empty session for repository name.
func (st *store) startUpload(name string) (*upload, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	u := &upload{id: hex.EncodeToString(b[:])}
	u.dir = st.uploadDir(u.id)
	if err := os.MkdirAll(u.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(u.dir, "data"))
	if err != nil {
		return nil, err
	}
	f.Close()
	h, _ := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	u.state = uploadState{Repo: name, SHA256: h, Started: time.Now().UTC()}
	if err := st.saveUpload(u); err != nil {
		os.RemoveAll(u.dir)
		return nil, err
	}
	return u, nil
}

func (st *store) saveUpload(u *upload) error {
	b, err := json.Marshal(u.state)
	if err != nil {
		return err
	}
	return st.writeFileAtomic(filepath.Join(u.dir, "state.json"), b)
}

// loadUpload opens session id, which must belong to repository name.
func (st *store) loadUpload(name, id string) (*upload, error) {
	if !validUploadID(id) {
		return nil, errUploadUnknown()
	}
	u := &upload{id: id, dir: st.uploadDir(id)}
	b, err := os.ReadFile(filepath.Join(u.dir, "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errUploadUnknown()
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &u.state); err != nil {
		return nil, err
	}
	if u.state.Repo != name {
		return nil, errUploadUnknown()
	}
	return u, nil
}

// appendUpload adds body to the session. start is the offset the client
// says the chunk begins at (-1: not given) and length the byte count it
// announced (-1: unknown, e.g. a chunked-encoding stream).
func (st *store) appendUpload(u *upload, body io.Reader, start, length int64) error {
	if start >= 0 && start != u.state.Size {
		return errRangeInvalid(fmt.Sprintf("chunk starts at %d, upload has %d bytes", start, u.state.Size))
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(u.state.SHA256); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(u.dir, "data"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(u.state.Size); err != nil { // drop a torn tail
		return err
	}
	if _, err := f.Seek(u.state.Size, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err == nil && length >= 0 && n != length {
		err = errUploadInvalid(fmt.Sprintf("got %d bytes, Content-Length/Content-Range said %d", n, length))
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Truncate(u.state.Size)
		if _, ok := err.(*apiError); !ok {
			err = errUploadInvalid(err.Error())
		}
		return err
	}
	if n == 0 {
		return nil
	}
	hs, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	u.state.Size += n
	u.state.SHA256 = hs
	return st.saveUpload(u)
}

// finishUpload checks that the session's bytes hash to want and, only if
// they do, moves them into the content store. Either way the session ends:
// a client that sent the wrong bytes starts over, and nothing was stored.
func (st *store) finishUpload(name string, u *upload, want digest) error {
	defer os.RemoveAll(u.dir)
	data := filepath.Join(u.dir, "data")
	got, err := st.uploadDigest(u, want.algo)
	if err != nil {
		return err
	}
	if got != want {
		return errDigestInvalid(fmt.Sprintf("content has digest %s, not %s", got, want))
	}
	return st.commitBlob(name, want, data)
}

// uploadDigest is the digest of the session's bytes in algorithm algo.
func (st *store) uploadDigest(u *upload, algo string) (digest, error) {
	if algo == "sha256" {
		h := sha256.New()
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(u.state.SHA256); err != nil {
			return digest{}, err
		}
		return digest{algo: algo, hex: hex.EncodeToString(h.Sum(nil))}, nil
	}
	// Any other algorithm: hash the file now (only what state.json vouches for).
	f, err := os.Open(filepath.Join(u.dir, "data"))
	if err != nil {
		return digest{}, err
	}
	defer f.Close()
	h := newHash(algo)
	if _, err := io.Copy(h, io.LimitReader(f, u.state.Size)); err != nil {
		return digest{}, err
	}
	return digest{algo: algo, hex: hex.EncodeToString(h.Sum(nil))}, nil
}

// sweepUploads removes sessions abandoned for longer than maxAge.
func (st *store) sweepUploads(maxAge time.Duration) {
	entries, _ := os.ReadDir(filepath.Join(st.root, "uploads"))
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(st.root, "uploads", e.Name(), "state.json"))
		if err != nil || time.Since(info.ModTime()) > maxAge {
			os.RemoveAll(filepath.Join(st.root, "uploads", e.Name()))
		}
	}
}

// ---- HTTP handlers ----

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

// progressHeaders tell the client where the session is and how much we have.
// The Range "0-<last byte>" cannot express "nothing yet"; like registry:2 we
// say "0-0" then.
func progressHeaders(w http.ResponseWriter, name string, u *upload) {
	last := max(u.state.Size-1, 0)
	w.Header().Set("Location", uploadLocation(name, u.id))
	w.Header().Set("Range", fmt.Sprintf("0-%d", last))
	w.Header().Set("Docker-Upload-UUID", u.id)
	w.Header().Set("Content-Length", "0")
}

// postUpload handles POST /v2/<name>/blobs/uploads/: start a session, or do
// a whole upload (?digest=), or mount a blob from another repository (?mount=).
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	if m := q.Get("mount"); m != "" {
		if done, err := s.tryMount(w, name, m, q.Get("from")); done || err != nil {
			return err
		}
		// Not mountable: the spec says fall back to a normal upload session.
	}
	if dg := q.Get("digest"); dg != "" {
		want, err := parseDigest(dg)
		if err != nil {
			return errDigestInvalid(err.Error())
		}
		u, err := s.store.startUpload(name)
		if err != nil {
			return err
		}
		return s.completeUpload(w, r, name, u, want)
	}
	u, err := s.store.startUpload(name)
	if err != nil {
		return err
	}
	progressHeaders(w, name, u)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// getUpload reports a session's progress (used to resume after an error).
func (s *Server) getUpload(w http.ResponseWriter, r *http.Request, name, id string) error {
	defer s.uploadLocks.lock(id)()
	u, err := s.store.loadUpload(name, id)
	if err != nil {
		return err
	}
	progressHeaders(w, name, u)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patchUpload appends one chunk. With Content-Range the chunk must start
// exactly where the session ends, else 416 and the session is unchanged.
func (s *Server) patchUpload(w http.ResponseWriter, r *http.Request, name, id string) error {
	defer s.uploadLocks.lock(id)()
	u, err := s.store.loadUpload(name, id)
	if err != nil {
		return err
	}
	if err := s.appendChunk(w, r, name, u); err != nil {
		return err
	}
	progressHeaders(w, name, u)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// putUpload finishes a session: the body (if any) is the last chunk.
func (s *Server) putUpload(w http.ResponseWriter, r *http.Request, name, id string) error {
	defer s.uploadLocks.lock(id)()
	u, err := s.store.loadUpload(name, id)
	if err != nil {
		return err
	}
	want, err := parseDigest(r.URL.Query().Get("digest"))
	if err != nil {
		return errDigestInvalid(err.Error())
	}
	return s.completeUpload(w, r, name, u, want)
}

// completeUpload appends the request body and verifies the whole blob.
func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, name string, u *upload, want digest) error {
	if err := s.appendChunk(w, r, name, u); err != nil {
		if !outOfOrder(err) { // out of order: keep the session so the client can recover
			os.RemoveAll(u.dir)
		}
		return err
	}
	if err := s.store.finishUpload(name, u, want); err != nil {
		return err
	}
	w.Header().Set("Location", "/v2/"+name+"/blobs/"+want.String())
	w.Header().Set("Docker-Content-Digest", want.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// appendChunk appends the request body to the session (at Content-Range,
// when sent). A chunk out of order is refused with 416 and the session's
// progress, so that the client can resume from there.
func (s *Server) appendChunk(w http.ResponseWriter, r *http.Request, name string, u *upload) error {
	start, length, err := chunkRange(r)
	if err == nil {
		err = s.store.appendUpload(u, r.Body, start, length)
	}
	if outOfOrder(err) {
		progressHeaders(w, name, u)
	}
	return err
}

// outOfOrder tells whether err is appendChunk's 416.
func outOfOrder(err error) bool {
	ae, ok := err.(*apiError)
	return ok && ae.Status == http.StatusRequestedRangeNotSatisfiable
}

// deleteUpload cancels a session.
func (s *Server) deleteUpload(w http.ResponseWriter, r *http.Request, name, id string) error {
	defer s.uploadLocks.lock(id)()
	u, err := s.store.loadUpload(name, id)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(u.dir); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// chunkRange reads Content-Range ("<start>-<end>", as the distribution spec
// writes it; "bytes <start>-<end>[/<total>]" is accepted too) and
// Content-Length. It returns start=-1 when no range was sent and length=-1
// when the size is unknown.
func chunkRange(r *http.Request) (start, length int64, err error) {
	length = r.ContentLength // -1 when unknown
	cr := strings.TrimSpace(r.Header.Get("Content-Range"))
	if cr == "" {
		return -1, length, nil
	}
	cr = strings.TrimPrefix(strings.TrimPrefix(cr, "bytes"), "=")
	cr, _, _ = strings.Cut(strings.TrimSpace(cr), "/")
	a, b, ok := strings.Cut(cr, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, errRangeInvalid("malformed Content-Range " + r.Header.Get("Content-Range"))
	}
	n := last - first + 1
	if length >= 0 && length != n {
		return 0, 0, errRangeInvalid(fmt.Sprintf("Content-Range covers %d bytes but Content-Length is %d", n, length))
	}
	return first, n, nil
}

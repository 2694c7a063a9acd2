package registry

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// getBlob serves GET and HEAD /v2/<name>/blobs/<digest>. Pulling a layer is
// just this: the bytes whose hash is the digest. A client resuming a
// download asks for a byte range (Range: bytes=500-), answered with 206.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, name, ref string) error {
	d, err := parseDigest(ref)
	if err != nil {
		return errDigestInvalid(err.Error())
	}
	if !s.store.hasBlob(name, d) {
		return errBlobUnknown()
	}
	f, err := os.Open(s.store.blobPath(d))
	if err != nil {
		return errBlobUnknown() // deleted between the check and the open
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Accept-Ranges", "bytes")
	// Content never changes under a digest, so it may be cached forever.
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Cache-Control", "max-age=31536000")

	start, end, partial, err := parseRange(r.Header.Get("Range"), size)
	if err != nil {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		return err
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil // headers are out; nothing useful left to report
	}
	io.CopyN(w, f, end-start)
	return nil
}

// parseRange understands one range of the three forms a client sends:
// "bytes=a-b", "bytes=a-" and "bytes=-n" (the last n bytes). It returns the
// half-open interval [start,end). A header we do not understand (several
// ranges, other units) is ignored and the whole blob is sent, which HTTP
// allows; a range outside the blob is 416.
func parseRange(header string, size int64) (start, end int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if header == "" || !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	bad := &apiError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "SIZE_INVALID",
		Message: "requested range not satisfiable", Detail: header}
	if a == "" { // suffix: the last n bytes
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n <= 0 {
			return 0, 0, false, bad
		}
		return max(size-n, 0), size, true, nil
	}
	first, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || first < 0 || first >= size {
		return 0, 0, false, bad
	}
	last := size - 1
	if b != "" {
		last, perr = strconv.ParseInt(b, 10, 64)
		if perr != nil || last < first {
			return 0, 0, false, bad
		}
		last = min(last, size-1)
	}
	return first, last + 1, true, nil
}

// deleteBlob handles DELETE /v2/<name>/blobs/<digest>.
func (s *Server) deleteBlob(w http.ResponseWriter, r *http.Request, name, ref string) error {
	d, err := parseDigest(ref)
	if err != nil {
		return errDigestInvalid(err.Error())
	}
	found, err := s.store.deleteBlob(name, d)
	if err != nil {
		return err
	}
	if !found {
		return errBlobUnknown()
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// tryMount handles POST …/blobs/uploads/?mount=<digest>&from=<repo>: when
// the source repository has the blob, link it into name without any bytes
// moving (this is docker push's "Mounted from …"). Without "from" any stored
// copy will do (the spec's anonymous mount). It reports done=false when the
// blob cannot be mounted, and the caller falls back to a normal upload.
func (s *Server) tryMount(w http.ResponseWriter, name, mount, from string) (bool, error) {
	d, err := parseDigest(mount)
	if err != nil {
		return false, nil
	}
	if from != "" {
		if !validName(from) || !s.store.hasBlob(from, d) {
			return false, nil
		}
	} else if !s.store.hasBlobAnywhere(d) {
		return false, nil
	}
	if err := s.store.linkBlob(name, d); err != nil {
		if _, ok := err.(*apiError); ok {
			return false, nil // removed meanwhile: upload it instead
		}
		return false, err
	}
	w.Header().Set("Location", "/v2/"+name+"/blobs/"+d.String())
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return true, nil
}

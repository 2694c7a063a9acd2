package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A manifest is the JSON document that makes blobs into an image: it names
// the config blob and the layer blobs by digest (an "image manifest"), or
// names other manifests, one per platform (an "index", Docker's "manifest
// list"). `docker pull name:tag` is: resolve tag → manifest, then fetch the
// blobs it lists. We store manifests byte for byte, because their digest is
// computed over the exact bytes the client sent.

// Media types we understand well enough to check what they reference.
const (
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// maxManifestSize bounds what we read into memory. The spec asks registries
// to accept at least 4 MB.
const maxManifestSize = 4 << 20

// descriptor points at content: what it is, its digest and its size.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifestDoc holds the fields of image manifests and indexes that the
// registry looks at; unknown fields are kept in the stored bytes, untouched.
type manifestDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// tagPattern is the spec's tag grammar. It also keeps tags safe as file
// names: no "/", and no leading "." so never "." or "..".
var tagPattern = lazyRegexp(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ref is the <reference> in /manifests/<reference>: a digest or a tag.
type ref struct {
	tag    string
	digest digest
}

func parseRef(s string) (ref, error) {
	if strings.Contains(s, ":") {
		d, err := parseDigest(s)
		if err != nil {
			return ref{}, errDigestInvalid(err.Error())
		}
		return ref{digest: d}, nil
	}
	if !tagPattern().MatchString(s) {
		return ref{}, errTagInvalid(s)
	}
	return ref{tag: s}, nil
}

// resolve turns a reference into the manifest digest it names in name.
func (st *store) resolve(name string, rf ref) (digest, error) {
	if rf.tag == "" {
		return rf.digest, nil
	}
	b, err := os.ReadFile(filepath.Join(st.tagDir(name), rf.tag))
	if err != nil {
		return digest{}, errManifestUnknown(rf.tag)
	}
	d, err := parseDigest(strings.TrimSpace(string(b)))
	if err != nil {
		return digest{}, fmt.Errorf("tag file %s/%s is corrupt: %v", name, rf.tag, err)
	}
	return d, nil
}

// readManifest returns a stored manifest's media type and bytes. On disk the
// first line is the media type, the rest is the manifest exactly as pushed:
// one file, so one atomic rename stores both.
func (st *store) readManifest(name string, d digest) (string, []byte, error) {
	b, err := os.ReadFile(st.manifestPath(name, d))
	if err != nil {
		return "", nil, errManifestUnknown(d.String())
	}
	mt, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return "", nil, fmt.Errorf("manifest file for %s is corrupt", d)
	}
	return string(mt), body, nil
}

// getManifest serves GET and HEAD /v2/<name>/manifests/<reference>.
func (s *Server) getManifest(w http.ResponseWriter, r *http.Request, name, reference string) error {
	rf, err := parseRef(reference)
	if err != nil {
		return err
	}
	d, err := s.store.resolve(name, rf)
	if err != nil {
		return err
	}
	mt, body, err := s.store.readManifest(name, d)
	if err != nil {
		if rf.tag != "" {
			return errManifestUnknown(rf.tag)
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", mt)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Docker-Content-Digest", d.String())
	h.Set("ETag", `"`+d.String()+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// putManifest handles PUT /v2/<name>/manifests/<reference>. By tag, the
// manifest's digest is the sha256 of the body; by digest, the body must hash
// to it (with that digest's algorithm, so sha512 works too). Extra tags may
// come as ?tag=… parameters and are echoed in OCI-Tag.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request, name, reference string) error {
	rf, err := parseRef(reference)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestSize+1))
	if err != nil {
		return errManifestInvalid(err.Error())
	}
	if len(body) > maxManifestSize {
		return errTooLarge(fmt.Sprintf("manifests are limited to %d bytes", maxManifestSize))
	}
	d := digestOf("sha256", body)
	if rf.tag == "" {
		d = digestOf(rf.digest.algo, body)
		if d != rf.digest {
			return errDigestInvalid(fmt.Sprintf("manifest has digest %s, not %s", d, rf.digest))
		}
	}
	var tags []string
	if rf.tag != "" {
		tags = append(tags, rf.tag)
	}
	for _, t := range r.URL.Query()["tag"] {
		if !tagPattern().MatchString(t) {
			return errTagInvalid(t)
		}
		tags = append(tags, t)
	}
	mt, doc, err := s.checkManifest(name, r.Header.Get("Content-Type"), body)
	if err != nil {
		return err
	}
	if err := s.store.putManifest(name, d, mt, body, tags, referrerOf(doc, mt, d, len(body))); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", "/v2/"+name+"/manifests/"+d.String())
	h.Set("Docker-Content-Digest", d.String())
	if doc.Subject != nil {
		// Tells the client we index referrers ourselves, so it need not
		// maintain the fallback "sha256-<hex>" referrers tag.
		h.Set("OCI-Subject", doc.Subject.Digest)
	}
	if len(r.URL.Query()["tag"]) > 0 {
		h.Set("OCI-Tag", strings.Join(tags, ", "))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// checkManifest parses body and checks what the spec asks a registry to
// check: it is JSON, its mediaType agrees with Content-Type, and, for image
// manifests and indexes, everything it references is already in the
// repository (blobs for an image, manifests for an index). Layers marked
// non-distributable (or "foreign", with URLs) live elsewhere by design and
// are not required. The subject need not exist: a signature may be pushed
// before the image it signs.
func (s *Server) checkManifest(name, contentType string, body []byte) (string, *manifestDoc, error) {
	var doc manifestDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", nil, errManifestInvalid("not JSON: " + err.Error())
	}
	mt, err := manifestMediaType(contentType, &doc)
	if err != nil {
		return "", nil, err
	}
	if err := s.checkReferences(name, mt, &doc); err != nil {
		return "", nil, err
	}
	if doc.Subject != nil {
		if _, err := parseDigest(doc.Subject.Digest); err != nil {
			return "", nil, errManifestInvalid("subject: " + err.Error())
		}
	}
	return mt, &doc, nil
}

// manifestMediaType is the manifest's media type: the Content-Type, which
// the document's own mediaType must agree with, else the document's, else
// guessed from its shape (an index has manifests).
func manifestMediaType(contentType string, doc *manifestDoc) (string, error) {
	mt := ""
	if contentType != "" {
		base, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return "", errManifestInvalid("bad Content-Type " + contentType)
		}
		mt = base
	}
	switch {
	case mt == "" && doc.MediaType != "":
		mt = doc.MediaType
	case mt == "" && doc.Manifests != nil:
		mt = mtOCIIndex
	case mt == "":
		mt = mtOCIManifest
	case doc.MediaType != "" && doc.MediaType != mt:
		return "", errManifestInvalid(fmt.Sprintf("mediaType %q does not match Content-Type %q", doc.MediaType, mt))
	}
	if strings.ContainsAny(mt, "\r\n") {
		return "", errManifestInvalid("bad media type")
	}
	return mt, nil
}

// checkReferences makes sure what the manifest points at is in the
// repository: an image's config and layers (but for non-distributable
// ones), an index's manifests.
func (s *Server) checkReferences(name, mt string, doc *manifestDoc) error {
	switch mt {
	case mtOCIManifest, mtDockerManifest:
		if doc.Config == nil {
			return errManifestInvalid("image manifest without config")
		}
		if err := s.checkBlobRef(name, *doc.Config); err != nil {
			return err
		}
		for _, l := range doc.Layers {
			if strings.Contains(l.MediaType, "nondistributable") || strings.Contains(l.MediaType, "foreign") || len(l.URLs) > 0 {
				continue
			}
			if err := s.checkBlobRef(name, l); err != nil {
				return err
			}
		}
	case mtOCIIndex, mtDockerList:
		for _, m := range doc.Manifests {
			d, err := parseDigest(m.Digest)
			if err != nil {
				return errManifestInvalid(err.Error())
			}
			if !exists(s.store.manifestPath(name, d)) {
				return errManifestBlobUnknown(m.Digest)
			}
		}
	}
	return nil
}

// checkBlobRef requires a referenced blob to be in the repository with the
// size the descriptor claims.
func (s *Server) checkBlobRef(name string, desc descriptor) error {
	d, err := parseDigest(desc.Digest)
	if err != nil {
		return errManifestInvalid(err.Error())
	}
	if !s.store.hasBlob(name, d) {
		return errManifestBlobUnknown(desc.Digest)
	}
	info, err := os.Stat(s.store.blobPath(d))
	if err != nil {
		return errManifestBlobUnknown(desc.Digest)
	}
	if info.Size() != desc.Size {
		return errManifestInvalid(fmt.Sprintf("blob %s has %d bytes, descriptor says %d", desc.Digest, info.Size(), desc.Size))
	}
	return nil
}

// referrer is a manifest with a subject, as listed by the referrers API.
type referrer struct {
	subject digest
	desc    descriptor
}

// referrerOf describes manifest d for its subject's referrers list. The
// artifactType is the manifest's own, or for an image its config's type.
func referrerOf(doc *manifestDoc, mt string, d digest, size int) *referrer {
	if doc.Subject == nil {
		return nil
	}
	subj, _ := parseDigest(doc.Subject.Digest) // checked in checkManifest
	at := doc.ArtifactType
	if at == "" && doc.Config != nil && (mt == mtOCIManifest || mt == mtDockerManifest) {
		at = doc.Config.MediaType
	}
	return &referrer{subject: subj, desc: descriptor{
		MediaType: mt, Digest: d.String(), Size: int64(size),
		ArtifactType: at, Annotations: doc.Annotations,
	}}
}

// putManifest stores a manifest, then its tags and referrer entry. The
// manifest goes first: a crash in between leaves an untagged manifest, never
// a tag pointing at nothing.
func (st *store) putManifest(name string, d digest, mt string, body []byte, tags []string, ref *referrer) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	data := append([]byte(mt+"\n"), body...)
	if err := st.writeFileAtomic(st.manifestPath(name, d), data); err != nil {
		return err
	}
	if ref != nil {
		b, _ := json.Marshal(ref.desc)
		p := filepath.Join(st.referrerDir(name, ref.subject), d.algo+"-"+d.hex)
		if err := st.writeFileAtomic(p, b); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if err := st.writeFileAtomic(filepath.Join(st.tagDir(name), t), []byte(d.String())); err != nil {
			return err
		}
	}
	return nil
}

// deleteManifest handles DELETE /v2/<name>/manifests/<reference>. By tag it
// removes only the tag; by digest it removes the manifest, every tag that
// points at it and its referrers entry.
func (s *Server) deleteManifest(w http.ResponseWriter, r *http.Request, name, reference string) error {
	rf, err := parseRef(reference)
	if err != nil {
		return err
	}
	if rf.tag != "" {
		err = s.store.deleteTag(name, rf.tag)
	} else {
		err = s.store.deleteManifest(name, rf.digest)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (st *store) deleteTag(name, tag string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	err := os.Remove(filepath.Join(st.tagDir(name), tag))
	if errors.Is(err, fs.ErrNotExist) {
		return errManifestUnknown(tag)
	}
	return err
}

func (st *store) deleteManifest(name string, d digest) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, body, err := st.readManifest(name, d)
	if err != nil {
		return err
	}
	if err := os.Remove(st.manifestPath(name, d)); err != nil {
		return err
	}
	var doc manifestDoc
	if json.Unmarshal(body, &doc) == nil && doc.Subject != nil {
		if subj, err := parseDigest(doc.Subject.Digest); err == nil {
			os.Remove(filepath.Join(st.referrerDir(name, subj), d.algo+"-"+d.hex))
		}
	}
	entries, _ := os.ReadDir(st.tagDir(name))
	for _, e := range entries {
		p := filepath.Join(st.tagDir(name), e.Name())
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == d.String() {
			os.Remove(p)
		}
	}
	return nil
}

// getReferrers serves GET /v2/<name>/referrers/<digest>: an OCI index
// listing every manifest whose subject is <digest> (signatures, SBOMs, …),
// optionally only those with ?artifactType=…. An unknown subject simply has
// no referrers: 200 with an empty list.
func (s *Server) getReferrers(w http.ResponseWriter, r *http.Request, name, ref string) error {
	subj, err := parseDigest(ref)
	if err != nil {
		return errDigestInvalid(err.Error())
	}
	filter := r.URL.Query().Get("artifactType")
	list := []descriptor{}
	entries, _ := os.ReadDir(s.store.referrerDir(name, subj))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(s.store.referrerDir(name, subj), e.Name()))
		if err != nil {
			continue // deleted while we listed
		}
		var desc descriptor
		if json.Unmarshal(b, &desc) != nil {
			continue
		}
		if filter != "" && desc.ArtifactType != filter {
			continue
		}
		list = append(list, desc)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Digest < list[j].Digest })
	body, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     mtOCIIndex,
		"manifests":     list,
	})
	if err != nil {
		return err
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", mtOCIIndex)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

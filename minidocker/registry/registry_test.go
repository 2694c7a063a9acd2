package registry

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ---- helpers ----

type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the first error code of a spec-shaped error body.
func (r reply) errorCode() string {
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

func startServer(t *testing.T, root string) (*Server, string) {
	t.Helper()
	s, err := New(Options{Root: root, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// call sends one request; hdr holds header name/value pairs.
func call(t *testing.T, method, url string, body []byte, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func expect(t *testing.T, r reply, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

func sha(b []byte) string { return digestOf("sha256", b).String() }

// pushBlob uploads data to name in one POST ?digest= request.
func pushBlob(t *testing.T, base, name string, data []byte) string {
	t.Helper()
	d := sha(data)
	r := call(t, "POST", base+"/v2/"+name+"/blobs/uploads/?digest="+d, data)
	expect(t, r, http.StatusCreated, "monolithic upload")
	if got := r.header.Get("Docker-Content-Digest"); got != d {
		t.Fatalf("Docker-Content-Digest %q, want %q", got, d)
	}
	return d
}

// pushImage pushes a config, one layer and a manifest, tagged tag.
func pushImage(t *testing.T, base, name, tag string) (manifestDigest string, manifest []byte) {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}` + name + tag)
	layer := []byte("layer of " + name + ":" + tag)
	cd, ld := pushBlob(t, base, name, config), pushBlob(t, base, name, layer)
	manifest = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		mtOCIManifest, cd, len(config), ld, len(layer)))
	r := call(t, "PUT", base+"/v2/"+name+"/manifests/"+tag, manifest, "Content-Type", mtOCIManifest)
	expect(t, r, http.StatusCreated, "manifest put")
	return sha(manifest), manifest
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// ---- tests ----

func TestBaseEndpoint(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	r := call(t, "GET", base+"/v2/", nil)
	expect(t, r, 200, "GET /v2/")
	if v := r.header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
		t.Errorf("Docker-Distribution-API-Version = %q", v)
	}
}

// A blob whose bytes do not hash to the digest the client named is refused
// on every upload path, and none of its bytes remain anywhere in the store.
func TestDigestMismatchStoresNothing(t *testing.T) {
	root := t.TempDir()
	_, base := startServer(t, root)
	data := []byte("the bytes we send")
	wrong := sha([]byte("some other bytes"))

	r := call(t, "POST", base+"/v2/app/blobs/uploads/?digest="+wrong, data)
	expect(t, r, http.StatusBadRequest, "monolithic POST with wrong digest")
	if r.errorCode() != "DIGEST_INVALID" {
		t.Errorf("code %q, want DIGEST_INVALID (body %s)", r.errorCode(), r.body)
	}

	r = call(t, "POST", base+"/v2/app/blobs/uploads/", nil)
	expect(t, r, http.StatusAccepted, "start session")
	loc := base + r.header.Get("Location")
	r = call(t, "PATCH", loc, data[:5], "Content-Range", "0-4")
	expect(t, r, http.StatusAccepted, "first chunk")
	r = call(t, "PATCH", base+r.header.Get("Location"), data[5:], "Content-Range", fmt.Sprintf("5-%d", len(data)-1))
	expect(t, r, http.StatusAccepted, "second chunk")
	r = call(t, "PUT", base+r.header.Get("Location")+"?digest="+wrong, nil)
	expect(t, r, http.StatusBadRequest, "PUT with wrong digest")
	if r.errorCode() != "DIGEST_INVALID" {
		t.Errorf("code %q, want DIGEST_INVALID", r.errorCode())
	}

	for _, d := range []string{wrong, sha(data)} {
		expect(t, call(t, "HEAD", base+"/v2/app/blobs/"+d, nil), http.StatusNotFound, "HEAD after refused upload")
	}
	for _, dir := range []string{"blobs", "uploads", "repos", "tmp"} {
		if n := countFiles(t, filepath.Join(root, dir)); n != 0 {
			t.Errorf("%s holds %d files after refused uploads", dir, n)
		}
	}

	// A manifest pushed by a digest its bytes do not have is refused too.
	_, m := pushImage(t, base, "app", "v1")
	bad := append(append([]byte{}, m...), ' ')
	r = call(t, "PUT", base+"/v2/app/manifests/"+sha(m), bad, "Content-Type", mtOCIManifest)
	expect(t, r, http.StatusBadRequest, "manifest with wrong digest")
	if r.errorCode() != "DIGEST_INVALID" {
		t.Errorf("code %q, want DIGEST_INVALID", r.errorCode())
	}
	expect(t, call(t, "GET", base+"/v2/app/manifests/"+sha(bad), nil), http.StatusNotFound, "refused manifest")
}

// Everything lives on disk: a new Server over the same root serves the same
// content, and an upload begun before the "restart" can be finished after it.
func TestRestartPersistence(t *testing.T) {
	root := t.TempDir()
	s1, err := New(Options{Root: root, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ts1 := httptest.NewServer(s1.Handler())
	md, manifest := pushImage(t, ts1.URL, "team/app", "v1")
	big := bytes.Repeat([]byte("0123456789"), 1000)
	r := call(t, "POST", ts1.URL+"/v2/team/app/blobs/uploads/", nil)
	expect(t, r, http.StatusAccepted, "start session")
	r = call(t, "PATCH", ts1.URL+r.header.Get("Location"), big[:4000], "Content-Range", "0-3999")
	expect(t, r, http.StatusAccepted, "chunk before restart")
	loc := r.header.Get("Location")
	ts1.Close()

	_, base := startServer(t, root)
	r = call(t, "GET", base+"/v2/team/app/manifests/v1", nil)
	expect(t, r, 200, "manifest by tag after restart")
	if !bytes.Equal(r.body, manifest) || r.header.Get("Docker-Content-Digest") != md {
		t.Fatalf("manifest after restart differs")
	}
	if ct := r.header.Get("Content-Type"); ct != mtOCIManifest {
		t.Errorf("Content-Type %q", ct)
	}
	r = call(t, "GET", base+"/v2/_catalog", nil)
	if !strings.Contains(string(r.body), `"team/app"`) {
		t.Errorf("catalog after restart: %s", r.body)
	}
	r = call(t, "GET", base+loc, nil)
	expect(t, r, http.StatusNoContent, "upload status after restart")
	if got := r.header.Get("Range"); got != "0-3999" {
		t.Errorf("Range after restart %q, want 0-3999", got)
	}
	r = call(t, "PUT", base+loc+"?digest="+sha(big), big[4000:], "Content-Range", fmt.Sprintf("4000-%d", len(big)-1))
	expect(t, r, http.StatusCreated, "finish upload after restart")
	r = call(t, "GET", base+"/v2/team/app/blobs/"+sha(big), nil)
	expect(t, r, 200, "blob after restart")
	if !bytes.Equal(r.body, big) {
		t.Fatal("blob content differs")
	}
}

// Chunks must arrive in order; an out-of-order chunk is 416 and the
// session carries on from where it really is.
func TestChunkOutOfOrder(t *testing.T) {
	s, base := startServer(t, t.TempDir())
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	r := call(t, "POST", base+"/v2/a/blobs/uploads/", nil)
	loc := base + r.header.Get("Location")
	expect(t, call(t, "PATCH", loc, data[:10], "Content-Range", "0-9"), 202, "chunk 1")
	r = call(t, "PATCH", loc, data[20:], "Content-Range", "20-25")
	expect(t, r, http.StatusRequestedRangeNotSatisfiable, "chunk out of order")
	if r.header.Get("Range") != "0-9" {
		t.Errorf("Range after 416 = %q, want 0-9", r.header.Get("Range"))
	}
	expect(t, call(t, "PATCH", loc, data[10:20], "Content-Range", "10-19"), 202, "chunk 2")
	expect(t, call(t, "PUT", loc+"?digest="+sha(data), data[20:], "Content-Range", "20-25"), 201, "last chunk")
	r = call(t, "GET", base+"/v2/a/blobs/"+sha(data), nil)
	if !bytes.Equal(r.body, data) {
		t.Fatalf("blob = %q", r.body)
	}
	expect(t, call(t, "PATCH", loc, data, "Content-Range", "0-25"), 404, "PATCH after the session ended")
	s.uploadLocks.mu.Lock()
	defer s.uploadLocks.mu.Unlock()
	if len(s.uploadLocks.m) != 0 {
		t.Errorf("%d upload locks left in memory", len(s.uploadLocks.m))
	}
}

func TestBlobRange(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	data := []byte("0123456789abcdefghij")
	d := pushBlob(t, base, "a/b/c", data)
	url := base + "/v2/a/b/c/blobs/" + d
	cases := []struct {
		rng, body, contentRange string
		status                  int
	}{
		{"bytes=5-9", "56789", "bytes 5-9/20", 206},
		{"bytes=15-", "fghij", "bytes 15-19/20", 206},
		{"bytes=-3", "hij", "bytes 17-19/20", 206},
		{"bytes=18-100", "ij", "bytes 18-19/20", 206},
		{"bytes=9-2", "", "", 416},
		{"bytes=20-30", "", "", 416},
		{"", string(data), "", 200},
	}
	for _, c := range cases {
		t.Run(c.rng, func(t *testing.T) {
			r := call(t, "GET", url, nil, "Range", c.rng)
			if r.status != c.status {
				t.Errorf("Range %q: status %d, want %d", c.rng, r.status, c.status)
				return
			}
			if c.status == 416 {
				return
			}
			if string(r.body) != c.body || r.header.Get("Content-Range") != c.contentRange {
				t.Errorf("Range %q: body %q Content-Range %q", c.rng, r.body, r.header.Get("Content-Range"))
			}
			if r.header.Get("Content-Length") != fmt.Sprint(len(c.body)) {
				t.Errorf("Range %q: Content-Length %q", c.rng, r.header.Get("Content-Length"))
			}
		})
	}
	r := call(t, "HEAD", url, nil)
	expect(t, r, 200, "HEAD blob")
	if r.header.Get("Content-Length") != "20" || len(r.body) != 0 || r.header.Get("Docker-Content-Digest") != d {
		t.Errorf("HEAD: %v %q", r.header, r.body)
	}
}

// Follow the Link headers of tags/list and _catalog page by page.
func TestPagination(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	var want []string
	for _, tag := range []string{"v3", "latest", "v1", "v10", "v2"} {
		pushImage(t, base, "lib/app", tag)
		want = append(want, tag)
	}
	sort.Strings(want)
	var got []string
	next := "/v2/lib/app/tags/list?n=2"
	pages := 0
	for next != "" {
		r := call(t, "GET", base+next, nil)
		expect(t, r, 200, next)
		var tl struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(r.body, &tl); err != nil || tl.Name != "lib/app" || len(tl.Tags) > 2 {
			t.Fatalf("page %s: %s", next, r.body)
		}
		got = append(got, tl.Tags...)
		next = ""
		if link := r.header.Get("Link"); link != "" {
			if !strings.HasSuffix(link, `>; rel="next"`) {
				t.Fatalf("Link %q", link)
			}
			next = strings.TrimPrefix(strings.TrimSuffix(link, `>; rel="next"`), "<")
		}
		if pages++; pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged tags %v, want %v", got, want)
	}
	r := call(t, "GET", base+"/v2/lib/app/tags/list?last=v10", nil)
	if !strings.Contains(string(r.body), `"tags":["v2","v3"]`) {
		t.Errorf("last=v10: %s", r.body)
	}

	pushBlob(t, base, "z", []byte("x"))
	pushBlob(t, base, "lib", []byte("x"))
	r = call(t, "GET", base+"/v2/_catalog?n=2", nil)
	if string(r.body) != `{"repositories":["lib","lib/app"]}` || !strings.Contains(r.header.Get("Link"), "last=lib%2Fapp") {
		t.Errorf("catalog page 1: %s Link %q", r.body, r.header.Get("Link"))
	}
	r = call(t, "GET", base+"/v2/_catalog?n=2&last=lib%2Fapp", nil)
	if string(r.body) != `{"repositories":["z"]}` || r.header.Get("Link") != "" {
		t.Errorf("catalog page 2: %s Link %q", r.body, r.header.Get("Link"))
	}
	expect(t, call(t, "GET", base+"/v2/_catalog?n=-1", nil), 400, "negative n")
	r = call(t, "GET", base+"/v2/nothing/here/tags/list", nil)
	expect(t, r, 404, "tags of unknown repo")
	if r.errorCode() != "NAME_UNKNOWN" {
		t.Errorf("code %q", r.errorCode())
	}
}

// Blobs are visible per repository; mount links them across without a copy.
func TestMountAndRepositoryIsolation(t *testing.T) {
	root := t.TempDir()
	_, base := startServer(t, root)
	data := []byte("shared layer")
	d := pushBlob(t, base, "alice/app", data)
	expect(t, call(t, "HEAD", base+"/v2/bob/app/blobs/"+d, nil), 404, "blob in another repo")

	r := call(t, "POST", base+"/v2/bob/app/blobs/uploads/?mount="+d+"&from=carol/app", nil)
	expect(t, r, http.StatusAccepted, "mount from a repo without the blob falls back to an upload")
	r = call(t, "POST", base+"/v2/bob/app/blobs/uploads/?mount="+d+"&from=alice/app", nil)
	expect(t, r, http.StatusCreated, "mount")
	if r.header.Get("Location") != "/v2/bob/app/blobs/"+d {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	expect(t, call(t, "GET", base+"/v2/bob/app/blobs/"+d, nil), 200, "mounted blob")
	if n := countFiles(t, filepath.Join(root, "blobs")); n != 1 {
		t.Errorf("%d blob files, want 1 (mount must not copy)", n)
	}

	// Deleting from one repository keeps the bytes for the other; the last
	// delete frees them.
	expect(t, call(t, "DELETE", base+"/v2/alice/app/blobs/"+d, nil), 202, "delete in alice")
	expect(t, call(t, "GET", base+"/v2/alice/app/blobs/"+d, nil), 404, "deleted in alice")
	expect(t, call(t, "GET", base+"/v2/bob/app/blobs/"+d, nil), 200, "still in bob")
	expect(t, call(t, "DELETE", base+"/v2/bob/app/blobs/"+d, nil), 202, "delete in bob")
	if n := countFiles(t, filepath.Join(root, "blobs")); n != 0 {
		t.Errorf("%d blob files after the last delete", n)
	}
	expect(t, call(t, "DELETE", base+"/v2/bob/app/blobs/"+d, nil), 404, "delete again")
}

func TestManifestRules(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	missing := sha([]byte("never pushed"))
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":%q,"size":3},"layers":[]}`,
		mtDockerManifest, missing)
	r := call(t, "PUT", base+"/v2/app/manifests/v1", []byte(m), "Content-Type", mtDockerManifest)
	expect(t, r, 400, "manifest with a missing config blob")
	if r.errorCode() != "MANIFEST_BLOB_UNKNOWN" {
		t.Errorf("code %q", r.errorCode())
	}

	r = call(t, "GET", base+"/v2/app/manifests/nope", nil)
	expect(t, r, 404, "unknown tag")
	if r.errorCode() != "MANIFEST_UNKNOWN" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown tag: %s", r.body)
	}

	// A Docker schema2 image and a manifest list over it.
	cfg := []byte(`{"os":"linux"}`)
	cd := pushBlob(t, base, "app", cfg)
	img := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":%q,"size":%d},"layers":[]}`,
		mtDockerManifest, cd, len(cfg))
	expect(t, call(t, "PUT", base+"/v2/app/manifests/amd64", []byte(img), "Content-Type", mtDockerManifest), 201, "docker manifest")
	list := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}}]}`,
		mtDockerList, mtDockerManifest, sha([]byte(img)), len(img))
	expect(t, call(t, "PUT", base+"/v2/app/manifests/latest", []byte(list), "Content-Type", mtDockerList), 201, "manifest list")
	r = call(t, "HEAD", base+"/v2/app/manifests/latest", nil)
	if r.header.Get("Content-Type") != mtDockerList || r.header.Get("Docker-Content-Digest") != sha([]byte(list)) {
		t.Errorf("HEAD manifest list: %v", r.header)
	}
	badList := strings.Replace(list, sha([]byte(img)), missing, 1)
	expect(t, call(t, "PUT", base+"/v2/app/manifests/broken", []byte(badList), "Content-Type", mtDockerList), 400, "list with a missing child")

	// Deleting by digest removes the tags that point at it.
	expect(t, call(t, "DELETE", base+"/v2/app/manifests/"+sha([]byte(list)), nil), 202, "delete list")
	expect(t, call(t, "GET", base+"/v2/app/manifests/latest", nil), 404, "tag of deleted manifest")
	expect(t, call(t, "DELETE", base+"/v2/app/manifests/amd64", nil), 202, "delete tag")
	expect(t, call(t, "GET", base+"/v2/app/manifests/"+sha([]byte(img)), nil), 200, "manifest survives its tag")

	r = call(t, "GET", base+"/v2/Bad_Name/manifests/latest", nil)
	if r.status != 400 || r.errorCode() != "NAME_INVALID" {
		t.Errorf("bad name: %d %s", r.status, r.body)
	}
}

func TestReferrers(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	subj, m := pushImage(t, base, "app", "v1")
	empty := pushBlob(t, base, "app", []byte("{}"))
	sig := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":%d},"annotations":{"k":"v"}}`,
		mtOCIManifest, empty, mtOCIManifest, subj, len(m))
	r := call(t, "PUT", base+"/v2/app/manifests/"+sha([]byte(sig)), []byte(sig), "Content-Type", mtOCIManifest)
	expect(t, r, 201, "put referrer")
	if r.header.Get("OCI-Subject") != subj {
		t.Errorf("OCI-Subject %q", r.header.Get("OCI-Subject"))
	}
	var idx struct {
		Manifests []descriptor `json:"manifests"`
	}
	r = call(t, "GET", base+"/v2/app/referrers/"+subj, nil)
	json.Unmarshal(r.body, &idx)
	if r.header.Get("Content-Type") != mtOCIIndex || len(idx.Manifests) != 1 ||
		idx.Manifests[0].ArtifactType != "application/vnd.example.sig" || idx.Manifests[0].Annotations["k"] != "v" {
		t.Fatalf("referrers: %s", r.body)
	}
	r = call(t, "GET", base+"/v2/app/referrers/"+subj+"?artifactType=other", nil)
	idx.Manifests = nil
	json.Unmarshal(r.body, &idx)
	if r.header.Get("OCI-Filters-Applied") != "artifactType" || len(idx.Manifests) != 0 || !strings.Contains(string(r.body), `"manifests":[]`) {
		t.Errorf("filtered referrers: %s %v", r.body, r.header)
	}
	expect(t, call(t, "DELETE", base+"/v2/app/manifests/"+sha([]byte(sig)), nil), 202, "delete referrer")
	r = call(t, "GET", base+"/v2/app/referrers/"+subj, nil)
	if !strings.Contains(string(r.body), `"manifests":[]`) {
		t.Errorf("referrers after delete: %s", r.body)
	}
}

func TestSHA512(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	data := []byte("sha512 content")
	d := digestOf("sha512", data).String()
	expect(t, call(t, "POST", base+"/v2/a/blobs/uploads/?digest="+d, data), 201, "sha512 upload")
	r := call(t, "GET", base+"/v2/a/blobs/"+d, nil)
	if !bytes.Equal(r.body, data) || r.header.Get("Docker-Content-Digest") != d {
		t.Fatalf("sha512 blob: %d %q", r.status, r.body)
	}
	expect(t, call(t, "POST", base+"/v2/a/blobs/uploads/?digest=sha384:"+strings.Repeat("0", 96), data), 400, "unsupported algorithm")
}

func writeHtpasswd(t *testing.T, lines ...string) string {
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBasicAuth(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	s, err := New(Options{Root: t.TempDir(), HtpasswdFile: writeHtpasswd(t, "# users", "alice:"+string(hash)), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	get := func(user, pass string) reply {
		req, _ := http.NewRequest("GET", ts.URL+"/v2/_catalog", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, resp.Header, b}
	}
	r := get("", "")
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="minidocker-registry"` || r.errorCode() != "UNAUTHORIZED" {
		t.Errorf("anonymous: %d %v %s", r.status, r.header, r.body)
	}
	for _, up := range [][2]string{{"alice", "wrong"}, {"bob", "s3cret"}} {
		t.Run(up[0]+"/"+up[1], func(t *testing.T) {
			if r := get(up[0], up[1]); r.status != 401 {
				t.Errorf("%s/%s: %d", up[0], up[1], r.status)
			}
		})
	}
	for i := 0; i < 2; i++ { // second time from the cache
		if r := get("alice", "s3cret"); r.status != 200 {
			t.Errorf("alice: %d %s", r.status, r.body)
		}
	}

	// Only bcrypt entries are accepted.
	if _, err := New(Options{Root: t.TempDir(), HtpasswdFile: writeHtpasswd(t, "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")}); err == nil {
		t.Error("a non-bcrypt htpasswd entry was accepted")
	}
}

// Serve with TLS answers HTTPS and stops when its context ends.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSignedCert(t, dir)

	ln := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{Addr: ln, Root: filepath.Join(dir, "root"), TLSCert: certFile, TLSKey: keyFile, Logf: t.Logf})
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if resp, err = client.Get("https://" + ln + "/v2/"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("HTTPS /v2/: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}

	if _, err := New(Options{Root: dir, TLSCert: certFile}); err == nil {
		t.Error("a cert without a key was accepted")
	}
}

// writeSelfSignedCert writes a throwaway certificate for 127.0.0.1/localhost.
func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

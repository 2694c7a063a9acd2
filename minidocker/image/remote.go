package image

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/minidocker/minidocker/minidocker/stringid"
	"github.com/opencontainers/go-digest"

	"golang.org/x/sync/errgroup"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// AuthConfig is a registry credential (what X-Registry-Auth carries).
type AuthConfig struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}

// RegistryOptions is the daemon's registry configuration plus the
// credential of one request.
type RegistryOptions struct {
	// Mirrors are tried, in order, for docker.io images (registry-mirrors):
	// "http://127.0.0.1:5000" or "https://mirror.example". Docker Hub is the fallback.
	Mirrors []string
	// Insecure registries (insecure-registries): "host:port", "host" or a CIDR.
	// They are tried over HTTPS without certificate checks, then plain HTTP.
	// DefaultInsecureCIDRs and localhost are always insecure, as in docker.
	Insecure []string
	// Auth is the credential for this pull or push (nil: anonymous, or Keychain).
	Auth *AuthConfig
	// CertsDir holds per-registry trust, as Docker's certs.d: CertsDir/<host:port>/
	// *.crt (CA certificates) and *.cert/*.key (a client certificate). "": none.
	CertsDir string
	// Keychain looks credentials up per registry (e.g. the docker config file).
	Keychain authn.Keychain
	// Transport is the base HTTP transport (nil: a fresh one). Tests use it.
	Transport http.RoundTripper
	// UserAgent sent to registries.
	UserAgent string
	// MaxConcurrent layer downloads/uploads (docker's default: 3 down, 5 up).
	MaxConcurrent int
}

// DefaultInsecureCIDRs are the registries every daemon reaches over plain
// HTTP without being told: the loopback ranges of both IP versions, as in
// Docker 28.0 and later (27.x and older listed only 127.0.0.0/8). A registry
// on the host itself is the user's own, and nobody else can listen there.
var DefaultInsecureCIDRs = []string{"127.0.0.0/8", "::1/128"}

// IsInsecure reports whether host (host[:port]) is an insecure registry.
func (o RegistryOptions) IsInsecure(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	for _, e := range append(DefaultInsecureCIDRs[:len(DefaultInsecureCIDRs):len(DefaultInsecureCIDRs)], o.Insecure...) {
		e = strings.TrimSpace(e)
		e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
		if e == host || e == h {
			return true
		}
		if _, n, err := net.ParseCIDR(e); err == nil && ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (o RegistryOptions) authenticator(reg name.Registry) authn.Authenticator {
	if a := o.Auth; a != nil && (a.Username != "" || a.Password != "" || a.IdentityToken != "" || a.RegistryToken != "") {
		return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
	}
	if o.Keychain != nil {
		if a, err := o.Keychain.Resolve(reg); err == nil {
			return a
		}
	}
	return authn.Anonymous
}

// endpoint is one registry we talk to for an operation.
type endpoint struct {
	host     string // as in references: 127.0.0.1:5000, index.docker.io
	insecure bool
	obs      *observer
	client   *http.Client
	opts     []remote.Option
}

func (o RegistryOptions) endpoint(ctx context.Context, reg name.Registry, insecure bool) (*endpoint, error) {
	base := o.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		tlsConfig, err := registryTLS(o.CertsDir, reg.RegistryStr())
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = tlsConfig
		if insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		}
		base = t
	}
	obs := &observer{base: base, host: reg.RegistryStr(), insecure: insecure, exists: map[string]bool{}, mounted: map[string]string{}}
	ua := o.UserAgent
	if ua == "" {
		ua = "minidocker"
	}
	e := &endpoint{host: reg.RegistryStr(), insecure: insecure, obs: obs, client: &http.Client{Transport: obs, Timeout: 30 * time.Second}}
	e.opts = []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(obs),
		remote.WithAuth(o.authenticator(reg)),
		remote.WithUserAgent(ua),
		remote.WithPlatform(v1.Platform{OS: PullPlatform.OS, Architecture: PullPlatform.Architecture}),
	}
	return e, nil
}

// ping checks the registry answers, like docker's first GET /v2/: over
// HTTPS, and for an insecure registry then over plain HTTP. A plain-HTTP
// registry that is not insecure fails with Go's (and docker's) text:
// Get "https://HOST/v2/": http: server gave HTTP response to HTTPS client.
func (e *endpoint) ping(ctx context.Context) error {
	try := func(scheme string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+e.host+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := e.client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil
	}
	err := try("https")
	if err == nil || !e.insecure {
		return err
	}
	return try("http")
}

// observer is the bottom HTTP transport: it refuses plain HTTP to secure
// registries (go-containerregistry would fall back to it for private
// addresses; docker does not) and notes which blobs a registry already had
// or mounted, so push can say "Layer already exists" / "Mounted from".
type observer struct {
	base     http.RoundTripper
	host     string
	insecure bool
	mu       sync.Mutex
	exists   map[string]bool
	mounted  map[string]string
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !o.insecure {
		return nil, fmt.Errorf("refusing plain HTTP to %s: not an insecure registry", req.URL.Host)
	}
	resp, err := o.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	p := req.URL.Path
	switch {
	case req.Method == http.MethodHead && strings.Contains(p, "/blobs/sha256:") && resp.StatusCode == http.StatusOK:
		o.mu.Lock()
		o.exists[p[strings.LastIndex(p, "/")+1:]] = true
		o.mu.Unlock()
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/blobs/uploads/") && resp.StatusCode == http.StatusCreated:
		q := req.URL.Query()
		if m := q.Get("mount"); m != "" {
			o.mu.Lock()
			o.mounted[m] = q.Get("from")
			o.mu.Unlock()
		}
	}
	return resp, nil
}

// ggcrRef turns a normalised docker reference into go-containerregistry's,
// on registry host (a mirror or the reference's own registry).
func ggcrRef(named reference.Named, host string, insecure bool) (name.Reference, error) {
	path := reference.Path(named)
	s := host + "/" + path
	if c, ok := named.(reference.Canonical); ok {
		s += "@" + c.Digest().String()
	} else if t, ok := named.(reference.Tagged); ok {
		s += ":" + t.Tag()
	}
	var o []name.Option
	if insecure {
		o = append(o, name.Insecure)
	}
	return name.ParseReference(s, o...)
}

// registryHost maps docker.io to the host docker really talks to.
func registryHost(named reference.Named) string {
	d := reference.Domain(named)
	if d == "docker.io" {
		return "index.docker.io"
	}
	return d
}

// remoteError turns registry errors into docker's messages.
func remoteError(err error, named reference.Named) error {
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return errdefs.NotFound("manifest for %s not found: manifest unknown: manifest unknown", reference.FamiliarString(named))
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return errdefs.NotFound("pull access denied for %s, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", reference.FamiliarName(named))
			}
		}
		if te.StatusCode == http.StatusNotFound {
			return errdefs.NotFound("manifest for %s not found: manifest unknown: manifest unknown", reference.FamiliarString(named))
		}
	}
	return err
}

// ---- pull ----

// PullPlatform is the platform Pull takes from a multi-platform index; a
// pull for another (--platform) is refused (CheckPullPlatform).
var PullPlatform = Platform{OS: "linux", Architecture: "amd64"}

// CheckPullPlatform refuses a pull's "platform" parameter that names
// another platform than the one Pull fetches, rather than ignore it.
func CheckPullPlatform(platform string) error {
	want, err := ParsePlatform(platform)
	if err != nil {
		return err
	}
	if !want.Matches(PullPlatform) {
		return errdefs.Invalid("minidocker pulls %s images only: --platform %s is not supported yet", PullPlatform, platform)
	}
	return nil
}

// Pull is `docker pull`: it fetches ref (linux/amd64 from a multi-platform
// index) with its layers in parallel, skipping layers already stored
// ("Already exists"), unpacks each layer while it downloads, and tags the
// image with ref and name@digest. Progress lines are docker's.
func (s *Store) Pull(ctx context.Context, ref string, opts RegistryOptions, p Progress) (*Image, error) {
	named, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	host := registryHost(named)
	type try struct {
		host     string
		insecure bool
	}
	var tries []try
	if reference.Domain(named) == "docker.io" {
		for _, m := range opts.Mirrors {
			u, err := url.Parse(m)
			if err != nil || u.Host == "" {
				continue
			}
			tries = append(tries, try{u.Host, u.Scheme == "http" || opts.IsInsecure(u.Host)})
		}
	}
	tries = append(tries, try{host, opts.IsInsecure(host)})
	var lastErr error
	for i, t := range tries {
		img, err := s.pullFrom(ctx, named, t.host, t.insecure, opts, p)
		if err == nil {
			return img, nil
		}
		lastErr = err
		if ctx.Err() != nil || i == len(tries)-1 {
			break
		}
	}
	return nil, lastErr
}

func (s *Store) pullFrom(ctx context.Context, named reference.Named, host string, insecure bool, opts RegistryOptions, p Progress) (*Image, error) {
	ri, err := fetchManifest(ctx, named, host, insecure, opts, p)
	if err != nil {
		return nil, err
	}
	var diffIDs []string
	for _, d := range ri.cfg.RootFS.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	s.pin(diffIDs...)
	defer s.unpin(diffIDs...)
	if err := s.pullLayers(ctx, named, ri, diffIDs, opts.MaxConcurrent, p); err != nil {
		return nil, err
	}
	imgID, err := s.putImage(ri.rawCfg, "")
	if err != nil {
		return nil, err
	}
	p.status("", "Digest: "+ri.desc.Digest.String())
	newer, err := s.recordPull(named, imgID, ri.desc.Digest.String())
	if err != nil {
		return nil, err
	}
	if newer {
		p.status("", "Status: Downloaded newer image for "+reference.FamiliarString(named))
	} else {
		p.status("", "Status: Image is up to date for "+reference.FamiliarString(named))
	}
	return &Image{ID: imgID, Config: ri.cfg}, nil
}

// remoteImage is what pullFrom learns before any layer moves: the
// manifest's descriptor, the image, its verified config and its layers.
type remoteImage struct {
	desc   *remote.Descriptor
	rawCfg []byte
	cfg    *ImageConfig
	layers []v1.Layer
}

// fetchManifest reaches the registry (ping, then the manifest and the
// config) and checks that the config matches its digest and the manifest's
// layers match the config's.
func fetchManifest(ctx context.Context, named reference.Named, host string, insecure bool, opts RegistryOptions, p Progress) (*remoteImage, error) {
	gref, err := ggcrRef(named, host, insecure)
	if err != nil {
		return nil, errdefs.Invalid("invalid reference format: %v", err)
	}
	ep, err := opts.endpoint(ctx, gref.Context().Registry, insecure)
	if err != nil {
		return nil, err
	}
	if err := ep.ping(ctx); err != nil {
		return nil, err
	}
	desc, err := remote.Get(gref, ep.opts...)
	if err != nil {
		return nil, remoteError(err, named)
	}
	p.status(refTagOrDigest(named), "Pulling from "+reference.Path(named))
	// for an index, Image picks the linux/amd64 manifest (remote.WithPlatform)
	img, err := desc.Image()
	if err != nil {
		return nil, remoteError(err, named)
	}
	ri := &remoteImage{desc: desc}
	if ri.rawCfg, err = img.RawConfigFile(); err != nil {
		return nil, remoteError(err, named)
	}
	if ri.cfg, err = parseConfig(ri.rawCfg); err != nil {
		return nil, err
	}
	if want, err := img.ConfigName(); err != nil || "sha256:"+want.Hex != digestOf(ri.rawCfg) {
		return nil, fmt.Errorf("config blob does not match its digest")
	}
	if ri.layers, err = img.Layers(); err != nil {
		return nil, remoteError(err, named)
	}
	if len(ri.layers) != len(ri.cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("manifest has %d layers, config %d", len(ri.layers), len(ri.cfg.RootFS.DiffIDs))
	}
	return ri, nil
}

// refTagOrDigest is what docker's "Pulling from" line is keyed by: the
// digest of a name@digest, else the tag.
func refTagOrDigest(named reference.Named) string {
	if c, ok := named.(reference.Canonical); ok {
		return c.Digest().String()
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

// layerJob is one layer pullLayers downloads.
type layerJob struct {
	layer  v1.Layer
	diffID string
	short  string
}

// pullLayers downloads and unpacks the layers the store lacks, at most
// limit (3 when 0) at once; the others say "Waiting" until a slot frees,
// as docker's do. The first failure cancels the rest.
func (s *Store) pullLayers(ctx context.Context, named reference.Named, ri *remoteImage, diffIDs []string, limit int, p Progress) error {
	jobs, err := s.missingLayers(ri, diffIDs, p)
	if err != nil {
		return err
	}
	if limit <= 0 {
		limit = 3
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	pull := func(j layerJob) func() error {
		return func() error { return s.pullLayer(gctx, j.layer, j.diffID, j.short, named.Name(), p) }
	}
	var waiting []layerJob
	for _, j := range jobs {
		if len(waiting) > 0 || !g.TryGo(pull(j)) {
			p.layer(j.short, "Waiting") // more layers than parallel downloads
			waiting = append(waiting, j)
		}
	}
	for _, j := range waiting {
		g.Go(pull(j))
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return remoteError(err, named)
	}
	return nil
}

// missingLayers lists the layers to download, saying "Pulling fs layer"
// for each and "Already exists" for those the store has. When the image
// itself is already here (only its tag was missing), dockerd prints no
// layer lines at all, just Digest and Status.
func (s *Store) missingLayers(ri *remoteImage, diffIDs []string, p Progress) ([]layerJob, error) {
	var jobs []layerJob
	haveImage := s.Exists(digestOf(ri.rawCfg))
	for i, l := range ri.layers {
		dg, err := l.Digest()
		if err != nil {
			return nil, err
		}
		short := stringid.TruncateID(dg.String())
		if s.HasLayer(diffIDs[i]) {
			if !haveImage {
				p.layer(short, "Already exists")
			}
			continue
		}
		p.layer(short, "Pulling fs layer")
		jobs = append(jobs, layerJob{l, diffIDs[i], short})
	}
	return jobs, nil
}

// recordPull tags the pulled image (unless it was pulled by digest) and
// records its name@digest reference. newer tells whether the tag moved,
// for docker's closing Status line.
func (s *Store) recordPull(named reference.Named, imgID, manifestDigest string) (newer bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	newer = true
	if _, byDigest := named.(reference.Canonical); !byDigest {
		if old, ok := s.repos[named.String()]; ok && old == imgID {
			newer = false
		}
		if err := s.tagLocked(named.String(), imgID); err != nil {
			return false, err
		}
	}
	if dref, err := reference.WithDigest(reference.TrimNamed(named), digest.Digest(manifestDigest)); err == nil {
		s.repos[dref.String()] = imgID
		s.saveReposLocked()
	}
	return newer, nil
}

func digestOf(b []byte) string {
	return "sha256:" + fmt.Sprintf("%x", sha256Sum(b))
}

func (s *Store) pullLayer(ctx context.Context, l v1.Layer, diffID, short, repo string, p Progress) error {
	dg, err := l.Digest()
	if err != nil {
		return err
	}
	size, _ := l.Size()
	mt, _ := l.MediaType()
	_, existed, err := s.storeLayer(ctx, layerIn{
		DiffID:       diffID,
		Blob:         dg.String(),
		BlobVerified: true, // go-containerregistry verifies remote blobs as they are read
		MediaType:    string(mt),
		Open: func() (io.ReadCloser, error) {
			rc, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			return &progressReader{rc: rc, total: size, emit: func(n int64) { p.detail(short, "Downloading", n, size) }}, nil
		},
	})
	if err != nil {
		return err
	}
	if existed {
		p.layer(short, "Already exists")
		return nil
	}
	s.updateLayer(diffID, func(r *layerRecord) error {
		if !slices.Contains(r.Sources, repo) {
			r.Sources = append(r.Sources, repo)
		}
		return nil
	})
	p.layer(short, "Verifying Checksum")
	p.layer(short, "Download complete")
	p.detail(short, "Extracting", size, size)
	p.layer(short, "Pull complete")
	return nil
}

// progressReader reports how much was read, at most every 100 ms.
type progressReader struct {
	rc    io.ReadCloser
	n     int64
	total int64
	last  time.Time
	emit  func(int64)
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.rc.Read(b)
	r.n += int64(n)
	if now := time.Now(); n > 0 && (now.Sub(r.last) > 100*time.Millisecond || r.n == r.total) {
		r.last = now
		r.emit(r.n)
	}
	return n, err
}

func (r *progressReader) Close() error { return r.rc.Close() }

// ---- push ----

// PushResult is the summary docker prints last ("v1: digest: sha256:… size: 735")
// and sends as aux {"Tag","Digest","Size"}.
type PushResult struct {
	Tag    string
	Digest string
	Size   int
}

// pushLayer is a stored layer as go-containerregistry's v1.Layer.
type pushLayer struct {
	diffID, blob string
	size         int64
	mt           types.MediaType
	path         string
	onRead       func(int64)
}

func (l *pushLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.blob) }
func (l *pushLayer) DiffID() (v1.Hash, error) { return v1.NewHash(l.diffID) }
func (l *pushLayer) Size() (int64, error)     { return l.size, nil }
func (l *pushLayer) MediaType() (types.MediaType, error) {
	return l.mt, nil
}
func (l *pushLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	if l.onRead == nil {
		return f, nil
	}
	return &progressReader{rc: f, total: l.size, emit: l.onRead}, nil
}
func (l *pushLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	r, err := archive.DecompressStream(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closerFunc(func() error { r.Close(); return f.Close() })}, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// compressedBlob returns a gzip blob of a layer, making (and remembering) one
// for layers stored uncompressed (loaded, imported, committed).
func (s *Store) compressedBlob(diffID string) (*layerRecord, string, int64, error) {
	rec, err := s.layer(diffID)
	if err != nil {
		return nil, "", 0, err
	}
	if rec.Blob != rec.DiffID {
		return rec, rec.Blob, rec.BlobSize, nil
	}
	if rec.Gzip != "" {
		if _, err := os.Stat(s.blobPath(rec.Gzip)); err == nil {
			return rec, rec.Gzip, rec.GzipSize, nil
		}
	}
	f, err := os.Open(s.blobPath(rec.Blob))
	if err != nil {
		return nil, "", 0, err
	}
	defer f.Close()
	bw, err := s.newBlobWriter()
	if err != nil {
		return nil, "", 0, err
	}
	defer bw.abort()
	zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if _, err := io.Copy(zw, f); err != nil {
		return nil, "", 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, "", 0, err
	}
	d, err := bw.commit(s, "")
	if err != nil {
		return nil, "", 0, err
	}
	n := bw.n
	err = s.updateLayer(diffID, func(r *layerRecord) error { r.Gzip, r.GzipSize = d, n; return nil })
	return rec, d, n, err
}

// Push is `docker push`: the image ref names is uploaded to the registry in
// ref, with docker's progress ("Preparing", "Pushing", "Pushed", "Layer
// already exists", "Mounted from …") and a schema 2 manifest.
func (s *Store) Push(ctx context.Context, ref string, opts RegistryOptions, p Progress) (*PushResult, error) {
	named, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		return nil, errdefs.Invalid("cannot push a digest reference")
	}
	id, rawCfg, cfg, err := s.pushSource(named)
	if err != nil {
		return nil, err
	}
	host := registryHost(named)
	insecure := opts.IsInsecure(host)
	gref, err := ggcrRef(named, host, insecure)
	if err != nil {
		return nil, errdefs.Invalid("invalid reference format: %v", err)
	}
	p.status("", "The push refers to repository ["+named.Name()+"]")
	ep, err := opts.endpoint(ctx, gref.Context().Registry, insecure)
	if err != nil {
		return nil, err
	}
	if err := ep.ping(ctx); err != nil {
		return nil, err
	}
	layers, err := s.preparePushLayers(cfg, p)
	if err != nil {
		return nil, err
	}
	if err := s.uploadLayers(gref.Context(), ep, named.Name(), layers, opts.MaxConcurrent, p); err != nil {
		return nil, remoteError(err, named)
	}
	cfgLayer := &pushLayer{diffID: id, blob: id, size: int64(len(rawCfg)), mt: types.DockerConfigJSON, path: s.blobPath(id)}
	if err := remote.WriteLayer(gref.Context(), cfgLayer, ep.opts...); err != nil {
		return nil, remoteError(err, named)
	}
	mb := schema2Manifest(id, len(rawCfg), layers)
	md := digestOf(mb)
	if err := remote.Put(gref, rawManifest{mb, types.DockerManifestSchema2}, ep.opts...); err != nil {
		return nil, remoteError(err, named)
	}
	res := &PushResult{Tag: tagged.Tag(), Digest: md, Size: len(mb)}
	p.status("", fmt.Sprintf("%s: digest: %s size: %d", res.Tag, res.Digest, res.Size))
	if dref, err := reference.WithDigest(reference.TrimNamed(named), digest.Digest(md)); err == nil {
		s.mu.Lock()
		s.repos[dref.String()] = id
		s.saveReposLocked()
		s.mu.Unlock()
	}
	return res, nil
}

// pushSource is the local image Push sends: its ID, raw config and config.
func (s *Store) pushSource(named reference.Named) (id string, rawCfg []byte, cfg *ImageConfig, err error) {
	id, err = s.Resolve(named.String())
	if err != nil {
		if errdefs.IsNotFound(err) {
			return "", nil, nil, errdefs.NotFound("An image does not exist locally with the tag: %s", reference.FamiliarName(named))
		}
		return "", nil, nil, err
	}
	if rawCfg, err = s.readBlob(id); err != nil {
		return "", nil, nil, err
	}
	if cfg, err = parseConfig(rawCfg); err != nil {
		return "", nil, nil, err
	}
	return id, rawCfg, cfg, nil
}

// outgoingLayer is one layer Push sends, with the repositories it is known
// to be in already (a cross-repository mount saves the upload).
type outgoingLayer struct {
	*pushLayer
	sources []string
}

// preparePushLayers says "Preparing" for every layer (top first, as docker
// does) and finds each layer's compressed blob, gzipping it once when the
// store holds it uncompressed.
func (s *Store) preparePushLayers(cfg *ImageConfig, p Progress) ([]outgoingLayer, error) {
	n := len(cfg.RootFS.DiffIDs)
	for i := n - 1; i >= 0; i-- {
		p.layer(stringid.TruncateID(cfg.RootFS.DiffIDs[i].String()), "Preparing")
	}
	layers := make([]outgoingLayer, n)
	for i, d := range cfg.RootFS.DiffIDs {
		rec, blob, size, err := s.compressedBlob(d.String())
		if err != nil {
			return nil, err
		}
		short := stringid.TruncateID(d.String())
		layers[i] = outgoingLayer{
			pushLayer: &pushLayer{diffID: d.String(), blob: blob, size: size, mt: types.DockerLayer, path: s.blobPath(blob),
				onRead: func(c int64) { p.detail(short, "Pushing", c, size) }},
			sources: rec.Sources,
		}
	}
	return layers, nil
}

// uploadLayers uploads the layers, at most limit (5 when 0) at once, top
// first, and notes repoName among each layer's sources. All uploads run to
// their end; the first failure in layer order is returned.
func (s *Store) uploadLayers(repo name.Repository, ep *endpoint, repoName string, layers []outgoingLayer, limit int, p Progress) error {
	if limit <= 0 {
		limit = 5
	}
	var g errgroup.Group
	g.SetLimit(limit)
	errs := make([]error, len(layers))
	for i := len(layers) - 1; i >= 0; i-- {
		g.Go(func() error {
			errs[i] = s.uploadLayer(repo, ep, repoName, layers[i], p)
			return nil
		})
	}
	g.Wait() // errors are in errs, reported in layer order
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// uploadLayer sends one layer (mounting it from another repository of the
// same registry when it came from there) and says docker's line for it.
func (s *Store) uploadLayer(repo name.Repository, ep *endpoint, repoName string, l outgoingLayer, p Progress) error {
	short := stringid.TruncateID(l.diffID)
	var v1l v1.Layer = l.pushLayer
	for _, src := range l.sources {
		if sref, err := name.NewRepository(src, name.WeakValidation); err == nil &&
			sref.RegistryStr() == repo.RegistryStr() && sref.RepositoryStr() != repo.RepositoryStr() {
			v1l = &remote.MountableLayer{Layer: l.pushLayer, Reference: sref.Tag("latest")}
			break
		}
	}
	if err := remote.WriteLayer(repo, v1l, ep.opts...); err != nil {
		return err
	}
	ep.obs.mu.Lock()
	existed, from := ep.obs.exists[l.blob], ep.obs.mounted[l.blob]
	ep.obs.mu.Unlock()
	switch {
	case from != "":
		p.layer(short, "Mounted from "+from)
	case existed:
		p.layer(short, "Layer already exists")
	default:
		p.layer(short, "Pushed")
	}
	s.updateLayer(l.diffID, func(r *layerRecord) error {
		if !slices.Contains(r.Sources, repoName) {
			r.Sources = append(r.Sources, repoName)
		}
		return nil
	})
	return nil
}

// schema2Manifest is the image's docker schema 2 manifest, indented with
// three spaces as dockerd writes it, so that the manifest digest (the
// RepoDigest) is the one docker push of the same image gives.
func schema2Manifest(configID string, configSize int, layers []outgoingLayer) []byte {
	type manifestDesc struct {
		MediaType string `json:"mediaType"`
		Size      int64  `json:"size"`
		Digest    string `json:"digest"`
	}
	man := struct {
		SchemaVersion int            `json:"schemaVersion"`
		MediaType     string         `json:"mediaType"`
		Config        manifestDesc   `json:"config"`
		Layers        []manifestDesc `json:"layers"`
	}{2, string(types.DockerManifestSchema2), manifestDesc{string(types.DockerConfigJSON), int64(configSize), configID}, nil}
	for _, l := range layers {
		man.Layers = append(man.Layers, manifestDesc{string(types.DockerLayer), l.size, l.blob})
	}
	mb, _ := json.MarshalIndent(man, "", "   ")
	return mb
}

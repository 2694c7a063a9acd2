package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/moby/moby/api/pkg/authconfig"
	apiimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// registerImageRoutes adds the image endpoints of the Engine API. Image
// names may contain slashes (localhost:5000/team/app), hence {name...}.
// The fixed paths (/images/json, /images/get, /images/load, /images/create)
// come first so they win over the wildcard ones.
func (s *Server) registerImageRoutes() {
	s.routes.handle("GET", "/images/json", s.imageList)
	s.routes.handle("POST", "/images/create", s.imageCreate)
	s.routes.handle("POST", "/images/load", s.imageLoad)
	s.routes.handle("GET", "/images/get", s.imageSave)
	s.routes.handle("POST", "/images/prune", s.imagePrune)
	s.routes.handle("POST", "/auth", s.auth)
	s.routes.handle("GET", "/images/{name...}/json", s.imageInspect)
	s.routes.handle("GET", "/images/{name...}/history", s.imageHistory)
	s.routes.handle("GET", "/images/{name...}/get", s.imageSave)
	s.routes.handle("POST", "/images/{name...}/push", s.imagePush)
	s.routes.handle("POST", "/images/{name...}/tag", s.imageTag)
	s.routes.handle("DELETE", "/images/{name...}", s.imageDelete)
}

// progressWriter streams docker's JSON progress lines ("\r\n" after each,
// one flush each). The 200 head is sent with the first line, so an error
// that comes before any progress (bad reference, unknown image) is still
// answered as an ordinary HTTP error, as dockerd does; after that, errors
// travel in the stream as {"errorDetail":{"message":…},"error":…}.
type progressWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
}

func newProgressWriter(w http.ResponseWriter) *progressWriter { return &progressWriter{w: w} }

func (p *progressWriter) line(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLocked()
	p.w.Write(append(b, '\r', '\n'))
	http.NewResponseController(p.w).Flush()
}

func (p *progressWriter) startLocked() {
	if !p.started {
		p.started = true
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
	}
}

// progress is the image.Progress callback writing to the stream.
func (p *progressWriter) progress(ev image.ProgressEvent) { p.line(ev) }

// finish ends the stream: err nil → nothing; before any output → the
// caller's ordinary error answer; after output → an in-stream error.
func (p *progressWriter) finish(err error) error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if err == nil {
		if !started {
			p.mu.Lock()
			p.startLocked()
			p.mu.Unlock()
		}
		return nil
	}
	if !started {
		return err
	}
	p.line(map[string]any{"errorDetail": map[string]string{"message": err.Error()}, "error": err.Error()})
	return nil
}

// registryAuth decodes the X-Registry-Auth header (base64url JSON); an
// absent or empty one ("e30=", i.e. {}) means anonymous.
func registryAuth(r *http.Request) (*image.AuthConfig, error) {
	h := r.Header.Get("X-Registry-Auth")
	if h == "" {
		return nil, nil
	}
	ac, err := authconfig.Decode(h)
	if err != nil {
		return nil, errdefs.Invalid("%v", err)
	}
	if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return nil, nil
	}
	return &image.AuthConfig{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}, nil
}

func (s *Server) imageList(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	list, err := s.daemon.Images().List(boolValue(r, "all"))
	if err != nil {
		return daemon.ImageError(err)
	}
	f := map[string][]string{}
	if q := r.URL.Query().Get("filters"); q != "" {
		if f, err = parseFilters(q); err != nil { // containers.go
			return err
		}
	}
	for k := range f {
		switch k {
		case "dangling", "reference":
		default:
			return errdefs.Invalid("invalid filter '%s'", k)
		}
	}
	out := []imageSummary{}
	legacy := requestAPIVersion(r) != "" && compareVersions(requestAPIVersion(r), "1.44") < 0
	for _, im := range list {
		dangling := len(im.RepoTags) == 0
		if v := f["dangling"]; len(v) > 0 {
			want := v[0] == "true" || v[0] == "1"
			if want != dangling {
				continue
			}
		}
		if pats := f["reference"]; len(pats) > 0 {
			keep := false
			var tags []string
			for _, t := range im.RepoTags {
				for _, p := range pats {
					if refMatches(p, t) {
						keep = true
						tags = append(tags, t)
						break
					}
				}
			}
			var digests []string
			for _, dg := range im.RepoDigests {
				repo, _, _ := strings.Cut(dg, "@")
				for _, p := range pats {
					if refMatches(p, repo) {
						keep = true
						digests = append(digests, dg)
						break
					}
				}
			}
			if !keep {
				continue
			}
			im.RepoTags, im.RepoDigests = tags, digests
		}
		sum := imageSummary{Summary: im}
		if legacy {
			sum.VirtualSize = im.Size
		}
		out = append(out, sum)
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageSummary is a row of GET /images/json; API versions before 1.44
// also carry VirtualSize (the same number as Size), as dockerd 20.10 sends.
type imageSummary struct {
	apiimage.Summary
	VirtualSize int64 `json:",omitempty"`
}

// requestAPIVersion is the "1.41" of a /v1.41/… path ("" without one).
func requestAPIVersion(r *http.Request) string {
	if m := versionPrefix().FindStringSubmatch(r.URL.Path); m != nil {
		return m[1] + "." + m[2]
	}
	return ""
}

// refMatches is the reference filter: a pattern (with * and ?) against the
// repository, or against repository:tag when the pattern has a tag.
func refMatches(pattern, repoTag string) bool {
	repo, tag := repoTag, ""
	if i := strings.LastIndex(repoTag, ":"); i > strings.LastIndex(repoTag, "/") {
		repo, tag = repoTag[:i], repoTag[i+1:]
	}
	pr, pt := pattern, ""
	if i := strings.LastIndex(pattern, ":"); i > strings.LastIndex(pattern, "/") {
		pr, pt = pattern[:i], pattern[i+1:]
	}
	if ok, _ := path.Match(pr, repo); !ok {
		return false
	}
	if pt == "" {
		return true
	}
	ok, _ := path.Match(pt, tag)
	return ok
}

// imageCreate is pull (fromImage) and import (fromSrc=-).
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		return s.imageImport(w, r)
	}
	from := q.Get("fromImage")
	if from == "" {
		return errdefs.Invalid("fromImage or fromSrc is required")
	}
	ref := from
	if tag := q.Get("tag"); tag != "" {
		if strings.Contains(tag, ":") {
			ref += "@" + tag // a digest: the CLI sends name and sha256:… apart
		} else {
			ref += ":" + tag
		}
	}
	if _, err := image.ParseReference(ref); err != nil {
		return daemon.ImageError(err)
	}
	auth, err := registryAuth(r)
	if err != nil {
		return err
	}
	pw := newProgressWriter(w)
	_, err = s.daemon.PullImage(r.Context(), ref, auth, pw.progress)
	return pw.finish(err)
}

func (s *Server) imageImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "-" {
		return errdefs.Invalid("import from a URL is not supported (offline); use fromSrc=- with the tar as the body")
	}
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	if ref != "" {
		if _, err := image.ParseRepositoryTag(ref); err != nil {
			return daemon.ImageError(err)
		}
	}
	id, err := s.daemon.Images().Import(r.Context(), r.Body, ref, q["changes"], q.Get("message"))
	if err != nil {
		return daemon.ImageError(err)
	}
	pw := newProgressWriter(w)
	pw.line(map[string]string{"status": id})
	return nil
}

func (s *Server) imagePush(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	name := vars["name"]
	tag := r.URL.Query().Get("tag")
	var refs []string
	if tag != "" {
		refs = []string{name + ":" + tag}
	} else {
		// No tag: every tag of the repository, as dockerd does.
		named, err := image.ParseReference(name)
		if err != nil {
			return daemon.ImageError(err)
		}
		repo := image.FamiliarName(named)
		list, err := s.daemon.Images().List(true)
		if err != nil {
			return daemon.ImageError(err)
		}
		for _, im := range list {
			for _, t := range im.RepoTags {
				if strings.HasPrefix(t, repo+":") {
					refs = append(refs, t)
				}
			}
		}
		if len(refs) == 0 {
			return errdefs.NotFound("An image does not exist locally with the tag: %s", repo)
		}
	}
	for _, ref := range refs {
		if _, err := image.ParseReference(ref); err != nil {
			return daemon.ImageError(err)
		}
		if _, err := s.daemon.Images().Resolve(ref); err != nil {
			shown := name
			if named, err := image.ParseReference(name); err == nil {
				shown = image.FamiliarName(named)
			}
			return errdefs.NotFound("An image does not exist locally with the tag: %s", shown)
		}
	}
	auth, err := registryAuth(r)
	if err != nil {
		return err
	}
	pw := newProgressWriter(w)
	for _, ref := range refs {
		res, err := s.daemon.PushImage(r.Context(), ref, auth, pw.progress)
		if err != nil {
			return pw.finish(err)
		}
		pw.line(pushAuxLine{Aux: pushAux{Tag: res.Tag, Digest: res.Digest, Size: res.Size}})
	}
	return pw.finish(nil)
}

// pushAuxLine is push's last line, fields in dockerd's order:
// {"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:…","Size":527}}
type pushAuxLine struct {
	ProgressDetail struct{} `json:"progressDetail"`
	Aux            pushAux  `json:"aux"`
}

type pushAux struct {
	Tag    string
	Digest string
	Size   int
}

func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	dst := q.Get("repo")
	if dst == "" {
		return errdefs.Invalid("repository name (repo parameter) is required")
	}
	if t := q.Get("tag"); t != "" {
		dst += ":" + t
	}
	if err := s.daemon.Images().Tag(vars["name"], dst); err != nil {
		return daemon.ImageError(err)
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) imageDelete(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	res, err := s.daemon.RemoveImage(vars["name"], boolValue(r, "force"), boolValue(r, "noprune"))
	if err != nil {
		return err
	}
	if res == nil {
		res = []apiimage.DeleteResponse{}
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) imageInspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	data, err := s.daemon.Images().Inspect(vars["name"])
	if err != nil {
		return daemon.ImageError(err)
	}
	return writeJSON(w, http.StatusOK, data)
}

func (s *Server) imageHistory(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, err := s.daemon.Images().History(vars["name"])
	if err != nil {
		return daemon.ImageError(err)
	}
	return writeJSON(w, http.StatusOK, h)
}

// imageSave is GET /images/{name}/get and GET /images/get?names=…: every
// name is checked first, so a wrong one is a 404 rather than a broken tar.
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	names := r.URL.Query()["names"]
	if n := vars["name"]; n != "" {
		names = []string{n}
	}
	if len(names) == 0 {
		return errdefs.Invalid("no image names given")
	}
	for _, n := range names {
		if !s.daemon.Images().Exists(n) && !s.repoExists(n) {
			_, err := s.daemon.Images().Resolve(n)
			if err == nil {
				err = fmt.Errorf("No such image: %s", n)
			}
			return errdefs.As(errdefs.KindNotFound, err)
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// Too late for a status code: a failure now cuts the tar short, which
	// the client notices as a truncated archive.
	return writeOnly(s.daemon.Images().Save(r.Context(), w, names))
}

// repoExists reports whether a tagless repository name has some tag here
// (`docker save busybox` saves every busybox tag).
func (s *Server) repoExists(name string) bool {
	named, err := image.ParseReference(name)
	if err != nil {
		return false
	}
	repo := image.FamiliarName(named)
	list, err := s.daemon.Images().List(true)
	if err != nil {
		return false
	}
	for _, im := range list {
		for _, t := range im.RepoTags {
			if strings.HasPrefix(t, repo+":") {
				return true
			}
		}
	}
	return false
}

// writeOnly logs an error that can no longer be answered as JSON.
func writeOnly(err error) error {
	if err != nil {
		slog.Error("api: save failed after the tar began", "err", err)
	}
	return nil
}

func (s *Server) imageLoad(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	pw := newProgressWriter(w)
	var p image.Progress
	if !boolValue(r, "quiet") {
		p = pw.progress
	}
	lines, err := s.daemon.Images().Load(r.Context(), r.Body, p)
	if err != nil {
		return pw.finish(daemon.ImageError(err))
	}
	for _, l := range lines {
		pw.line(map[string]string{"stream": l + "\n"})
	}
	return pw.finish(nil)
}

// auth is POST /auth (docker login): the daemon checks the credential
// against the registry; the CLI stores it.
func (s *Server) auth(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var ac registry.AuthConfig
	if err := readJSON(r, &ac); err != nil {
		return err
	}
	if err := s.daemon.Login(r.Context(), ac.ServerAddress, ac.Username, ac.Password); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}

// imagePrune is `docker image prune`: dangling images (untagged leaves),
// or with filters dangling=false every image no container uses.
func (s *Server) imagePrune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f := map[string][]string{}
	if q := r.URL.Query().Get("filters"); q != "" {
		var err error
		if f, err = parseFilters(q); err != nil {
			return err
		}
	}
	onlyDangling := true
	if v := f["dangling"]; len(v) > 0 && (v[0] == "false" || v[0] == "0") {
		onlyDangling = false
	}
	list, err := s.daemon.Images().List(false)
	if err != nil {
		return daemon.ImageError(err)
	}
	report := apiimage.PruneReport{ImagesDeleted: []apiimage.DeleteResponse{}}
	for _, im := range list {
		if onlyDangling && len(im.RepoTags) > 0 {
			continue
		}
		if cid, _ := s.daemon.ImageInUse(im.ID); cid != "" {
			continue
		}
		res, err := s.daemon.RemoveImage(im.ID, true, false)
		if err != nil {
			continue // e.g. a parent of another image: docker skips those too
		}
		report.ImagesDeleted = append(report.ImagesDeleted, res...)
		for _, it := range res {
			if it.Deleted == im.ID && im.Size > 0 {
				report.SpaceReclaimed += uint64(im.Size)
			}
		}
	}
	return writeJSON(w, http.StatusOK, report)
}

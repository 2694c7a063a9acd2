package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/moby/moby/api/pkg/authconfig"
	apiimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// imageBackend is what the image endpoints need from the daemon.
type imageBackend interface {
	ListImages(all bool, filters map[string][]string) ([]apiimage.Summary, error)
	InspectImage(ref string) (*image.InspectData, error)
	ImageHistory(ref string) ([]apiimage.HistoryResponseItem, error)
	PullImage(ctx context.Context, from, tag string, auth *image.AuthConfig, p image.Progress) (*image.Image, error)
	ImportImage(ctx context.Context, src io.Reader, repo, tag string, changes []string, message string) (string, error)
	PushImage(ctx context.Context, name, tag string, auth *image.AuthConfig, p image.Progress, pushed func(*image.PushResult)) error
	TagImage(src, repo, tag string) error
	RemoveImage(ref string, force, noPrune bool) ([]apiimage.DeleteResponse, error)
	SaveImages(ctx context.Context, names []string) (func(io.Writer) error, error)
	LoadImages(ctx context.Context, r io.Reader, p image.Progress) ([]string, error)
	PruneImages(filters map[string][]string) (apiimage.PruneReport, error)
	Login(ctx context.Context, server, username, password string) error
}

// imageRouter serves the /images endpoints and POST /auth.
type imageRouter struct{ backend imageBackend }

// register adds the image routes. Image names may contain slashes
// (localhost:5000/team/app), hence {name...}. The fixed paths
// (/images/json, /images/get, /images/load, /images/create) come first so
// they win over the wildcard ones.
func (s imageRouter) register(rt *router) {
	rt.handle("GET", "/images/json", s.imageList)
	rt.handle("POST", "/images/create", s.imageCreate)
	rt.handle("POST", "/images/load", withoutPlatform("load", s.imageLoad))
	rt.handle("GET", "/images/get", withoutPlatform("save", s.imageSave))
	rt.handle("POST", "/images/prune", s.imagePrune)
	rt.handle("POST", "/auth", s.auth)
	rt.handle("GET", "/images/{name...}/json", withoutPlatform("image inspect", s.imageInspect))
	rt.handle("GET", "/images/{name...}/history", withoutPlatform("history", s.imageHistory))
	rt.handle("GET", "/images/{name...}/get", withoutPlatform("save", s.imageSave))
	rt.handle("POST", "/images/{name...}/push", withoutPlatform("push", s.imagePush))
	rt.handle("POST", "/images/{name...}/tag", s.imageTag)
	rt.handle("DELETE", "/images/{name...}", s.imageDelete)
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

func (s imageRouter) imageList(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	filters, err := filtersParam(r, daemon.ImageFilters...)
	if err != nil {
		return err
	}
	list, err := s.backend.ListImages(boolValue(r, "all"), filters)
	if err != nil {
		return err
	}
	legacy := apiVersionBefore(r, "1.44")
	out := make([]imageSummary, 0, len(list))
	for _, im := range list {
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

// imageCreate is pull (fromImage) and import (fromSrc=-).
func (s imageRouter) imageCreate(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		return s.imageImport(w, r)
	}
	if p := q.Get("platform"); p != "" {
		if err := image.CheckPullPlatform(p); err != nil {
			return err
		}
	}
	auth, err := registryAuth(r)
	if err != nil {
		return err
	}
	pw := newProgressWriter(w)
	_, err = s.backend.PullImage(r.Context(), q.Get("fromImage"), q.Get("tag"), auth, pw.progress)
	return pw.finish(err)
}

// withoutPlatform refuses the "platform" parameter of the endpoints that
// read or write images already chosen (docker's --platform of save, load,
// push, import, image inspect and history): the store keeps one image per
// name, of one platform, and does not choose among platforms; ignoring
// the parameter would hand back another platform's image without a word.
func withoutPlatform(command string, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, v map[string]string) error {
		if r.URL.Query().Get("platform") != "" {
			return errdefs.Invalid("minidocker does not support docker %s --platform yet", command)
		}
		return h(w, r, v)
	}
}

func (s imageRouter) imageImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("platform") != "" {
		return errdefs.Invalid("minidocker does not support docker import --platform yet")
	}
	if src := q.Get("fromSrc"); src != "-" {
		return errdefs.Invalid("import from a URL is not supported (offline); use fromSrc=- with the tar as the body")
	}
	id, err := s.backend.ImportImage(r.Context(), r.Body, q.Get("repo"), q.Get("tag"), q["changes"], q.Get("message"))
	if err != nil {
		return err
	}
	pw := newProgressWriter(w)
	pw.line(map[string]string{"status": id})
	return nil
}

func (s imageRouter) imagePush(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	auth, err := registryAuth(r)
	if err != nil {
		return err
	}
	pw := newProgressWriter(w)
	err = s.backend.PushImage(r.Context(), vars["name"], r.URL.Query().Get("tag"), auth, pw.progress, func(res *image.PushResult) {
		pw.line(pushAuxLine{Aux: pushAux{Tag: res.Tag, Digest: res.Digest, Size: res.Size}})
	})
	return pw.finish(err)
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

func (s imageRouter) imageTag(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	if err := s.backend.TagImage(vars["name"], q.Get("repo"), q.Get("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s imageRouter) imageDelete(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	res, err := s.backend.RemoveImage(vars["name"], boolValue(r, "force"), boolValue(r, "noprune"))
	if err != nil {
		return err
	}
	if res == nil {
		res = []apiimage.DeleteResponse{}
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s imageRouter) imageInspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	data, err := s.backend.InspectImage(vars["name"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, data)
}

func (s imageRouter) imageHistory(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, err := s.backend.ImageHistory(vars["name"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// imageSave is GET /images/{name}/get and GET /images/get?names=….
func (s imageRouter) imageSave(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	names := r.URL.Query()["names"]
	if n := vars["name"]; n != "" {
		names = []string{n}
	}
	write, err := s.backend.SaveImages(r.Context(), names)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// Too late for a status code: a failure now cuts the tar short, which
	// the client notices as a truncated archive.
	if err := write(w); err != nil {
		slog.Error("api: save failed after the tar began", "err", err)
	}
	return nil
}

func (s imageRouter) imageLoad(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	pw := newProgressWriter(w)
	var p image.Progress
	if !boolValue(r, "quiet") {
		p = pw.progress
	}
	lines, err := s.backend.LoadImages(r.Context(), r.Body, p)
	if err != nil {
		return pw.finish(err)
	}
	for _, l := range lines {
		pw.line(map[string]string{"stream": l + "\n"})
	}
	return pw.finish(nil)
}

// auth is POST /auth (docker login): the daemon checks the credential
// against the registry; the CLI stores it.
func (s imageRouter) auth(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var ac registry.AuthConfig
	if err := readJSON(r, &ac); err != nil {
		return err
	}
	if err := s.backend.Login(r.Context(), ac.ServerAddress, ac.Username, ac.Password); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}

// imagePrune is `docker image prune`.
func (s imageRouter) imagePrune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	filters, err := filtersParam(r)
	if err != nil {
		return err
	}
	report, err := s.backend.PruneImages(filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

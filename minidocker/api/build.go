package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/registry"

	"github.com/minidocker/minidocker/minidocker/build"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

// buildBackend is what the build endpoints need from the daemon.
type buildBackend interface {
	BuildImage(ctx context.Context, contextTar io.Reader, auth *image.AuthConfig, opts build.Options) (string, error)
}

// buildRouter serves the classic builder's endpoints.
type buildRouter struct{ backend buildBackend }

func (s buildRouter) register(rt *router) {
	rt.handle("POST", "/build", s.postBuild)
	rt.handle("POST", "/build/prune", s.buildPrune)
}

// postBuild is POST /build, the classic builder's endpoint. The body is the
// context tar; the answer is a stream of JSON messages, one per line:
//
//	{"stream":"Step 1/4 : FROM busybox"}   build output, one message per write
//	{"aux":{"ID":"sha256:…"}}               the image ID, before "Successfully built"
//	{"errorDetail":{"code":1,"message":…},"error":…}   a failure once output has begun
//
// A failure before any output (bad option, unreadable context, Dockerfile
// syntax) is an ordinary HTTP error, as with dockerd.
func (s buildRouter) postBuild(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	opts, err := buildOptions(r)
	if err != nil {
		return err
	}
	auth := buildAuth(r)
	pw := newProgressWriter(w)
	opts.Out = streamWriter{pw}
	opts.Aux = func(id string) { pw.line(map[string]any{"aux": map[string]string{"ID": id}}) }
	_, err = s.backend.BuildImage(r.Context(), r.Body, auth, opts)
	if err == nil {
		return pw.finish(nil)
	}
	pw.mu.Lock()
	started := pw.started
	pw.mu.Unlock()
	if !started {
		return err
	}
	code := 0
	var se *build.StatusError
	if errors.As(err, &se) {
		code = se.Code
	}
	detail := map[string]any{"message": err.Error()}
	if code != 0 {
		detail["code"] = code
	}
	pw.line(map[string]any{"errorDetail": detail, "error": err.Error()})
	return nil
}

// streamWriter wraps each Write in {"stream":…}.
type streamWriter struct{ pw *progressWriter }

func (s streamWriter) Write(b []byte) (int, error) {
	s.pw.line(map[string]string{"stream": string(b)})
	return len(b), nil
}

// buildOptions reads the query of POST /build.
func buildOptions(r *http.Request) (build.Options, error) {
	q := r.URL.Query()
	if q.Get("version") == "2" {
		return build.Options{}, errdefs.Invalid("BuildKit builds (version=2) are not supported: minidocker has the classic builder only (DOCKER_BUILDKIT=0)")
	}
	if q.Get("remote") != "" {
		return build.Options{}, errdefs.Invalid("remote build contexts are not supported: send the context as a tar")
	}
	if err := refuseUnsupportedBuildParams(q); err != nil {
		return build.Options{}, err
	}
	opts := build.Options{
		Tags:       q["t"],
		Dockerfile: q.Get("dockerfile"),
		NoCache:    boolValue(r, "nocache"),
		Target:     q.Get("target"),
		Quiet:      boolValue(r, "q"),
		Pull:       boolValue(r, "pull"),
		Network:    q.Get("networkmode"),
	}
	if opts.Network == "default" {
		opts.Network = ""
	}
	if v := q.Get("buildargs"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.BuildArgs); err != nil {
			return opts, errdefs.Invalid("invalid buildargs: %v", err)
		}
	}
	if v := q.Get("labels"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.Labels); err != nil {
			return opts, errdefs.Invalid("invalid labels: %v", err)
		}
	}
	return opts, nil
}

// unsupportedBuildParams are the query parameters of POST /build that the
// classic builder here does not apply, each with the `docker build` flag
// that sends it and the values besides "" that ask for nothing. The docker
// CLI sends one only when its flag is given, so any other value is
// refused, never ignored.
var unsupportedBuildParams = []struct{ param, flag, unset string }{
	{"extrahosts", "--add-host", ""}, {"ulimits", "--ulimit", "[] null"}, {"shmsize", "--shm-size", "0"},
	{"memory", "--memory", "0"}, {"memswap", "--memory-swap", "0"}, {"cpushares", "--cpu-shares", "0"},
	{"cpuperiod", "--cpu-period", "0"}, {"cpuquota", "--cpu-quota", "0"}, {"cpusetcpus", "--cpuset-cpus", ""},
	{"cpusetmems", "--cpuset-mems", ""}, {"cgroupparent", "--cgroup-parent", ""}, {"cachefrom", "--cache-from", "[] null"},
	{"squash", "--squash", "0 false"}, {"outputs", "--output", "[] null"},
}

// refuseUnsupportedBuildParams fails on the first build option the
// builder would not honour. forcerm is honoured (RUN's containers never
// outlive their step, failed or not), and so is a platform that is this
// machine's; rm=0 asks to keep them, which there
// is nothing to do for; securityopt and isolation get dockerd's answers.
func refuseUnsupportedBuildParams(q url.Values) error {
	for _, p := range unsupportedBuildParams {
		if v := q.Get(p.param); v != "" && !slices.Contains(strings.Fields(p.unset), v) {
			return errdefs.Invalid("minidocker does not support docker build %s yet", p.flag)
		}
	}
	switch {
	case q.Get("rm") == "0" || q.Get("rm") == "false":
		return errdefs.Invalid("minidocker does not support docker build --rm=false yet: its RUN steps leave no intermediate container to keep")
	case q.Get("securityopt") != "":
		return errdefs.Invalid("the daemon on this platform does not support --security-opt to build")
	case q.Get("isolation") != "" && q.Get("isolation") != "default":
		return errdefs.Invalid("unsupported isolation: %q", q.Get("isolation"))
	case q.Get("platform") != "":
		return build.CheckPlatform("--platform", q.Get("platform"))
	}
	return nil
}

// buildAuth picks the credential for FROM's pulls from X-Registry-Config
// (base64url JSON: registry host → auth config). The classic builder's
// pulls take one credential, so it is used when the client sent exactly
// one; otherwise pulls are anonymous.
func buildAuth(r *http.Request) *image.AuthConfig {
	h := r.Header.Get("X-Registry-Config")
	if h == "" {
		return nil
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(h); err != nil {
			return nil
		}
	}
	var all map[string]registry.AuthConfig
	if json.Unmarshal(b, &all) != nil || len(all) != 1 {
		return nil
	}
	for _, ac := range all {
		if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
			return nil
		}
		return &image.AuthConfig{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
	}
	return nil
}

// buildPrune is POST /build/prune: the classic builder keeps its cache as
// images (removed with them), so there is nothing else to reclaim.
func (s buildRouter) buildPrune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return writeJSON(w, http.StatusOK, map[string]any{"CachesDeleted": nil, "SpaceReclaimed": 0})
}

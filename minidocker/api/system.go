package api

import (
	"net/http"

	"github.com/moby/moby/api/types/system"
)

// systemBackend is what the system endpoints need from the daemon.
type systemBackend interface {
	Version() system.VersionResponse
	Info() system.Info
}

// systemRouter serves /_ping, /version and /info.
type systemRouter struct{ backend systemBackend }

func (s systemRouter) register(rt *router) {
	rt.handle("GET", "/_ping", s.ping)
	rt.handle("GET", "/version", s.getVersion)
	rt.handle("GET", "/info", s.getInfo)
}

// ping is the client's first call: its API-Version header is how the docker
// CLI negotiates down to a version we speak.
func (s systemRouter) ping(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	_, err := w.Write([]byte("OK"))
	return err
}

func (s systemRouter) getVersion(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return writeJSON(w, http.StatusOK, s.backend.Version())
}

func (s systemRouter) getInfo(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return writeJSON(w, http.StatusOK, s.backend.Info())
}

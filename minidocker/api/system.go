package api

import (
	"net/http"
)

func (s *Server) registerSystemRoutes() {
	s.routes.handle("GET", "/_ping", s.ping)
	s.routes.handle("GET", "/version", s.getVersion)
	s.routes.handle("GET", "/info", s.getInfo)
}

// ping is the client's first call: its API-Version header is how the docker
// CLI negotiates down to a version we speak.
func (s *Server) ping(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
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

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return writeJSON(w, http.StatusOK, s.daemon.Version())
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return writeJSON(w, http.StatusOK, s.daemon.Info())
}

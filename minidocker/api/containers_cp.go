package api

import (
	"net/http"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// getContainerArchive answers GET (a tar of the path) and HEAD (only the
// X-Docker-Container-Path-Stat header) of /containers/{name}/archive.
func (s containerRouter) getContainerArchive(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p := r.URL.Query().Get("path")
	if p == "" {
		return errdefs.Invalid("Path cannot be empty")
	}
	if r.Method == http.MethodHead {
		st, err := s.backend.ContainerStatPath(vars["name"], p)
		if err != nil {
			return err
		}
		w.Header().Set("X-Docker-Container-Path-Stat", daemon.EncodePathStat(st))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	st, write, err := s.backend.ContainerArchive(vars["name"], p)
	if err != nil {
		return err
	}
	w.Header().Set("X-Docker-Container-Path-Stat", daemon.EncodePathStat(st))
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// an error now can only cut the stream short: the client sees a torn tar
	if err := write(w); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// putContainerArchive extracts the request's tar into the directory path.
func (s containerRouter) putContainerArchive(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p := r.URL.Query().Get("path")
	if p == "" {
		return errdefs.Invalid("Path cannot be empty")
	}
	if err := s.backend.ContainerExtractToDir(vars["name"], p, boolValue(r, "noOverwriteDirNonDir"), boolValue(r, "copyUIDGID"), r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

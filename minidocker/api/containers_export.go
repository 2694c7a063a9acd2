package api

import (
	"io"
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// containerFSBackend is what export and diff need.
type containerFSBackend interface {
	ContainerExport(ref string) (func(io.Writer) error, error)
	ContainerChanges(ref string) ([]container.FilesystemChange, error)
}

// containerFSRouter serves a container's file system as a whole: the tar
// of docker export and the change list of docker diff.
type containerFSRouter struct{ backend containerFSBackend }

func (s containerFSRouter) register(rt *router) {
	rt.handle("GET", "/containers/{id}/export", s.exportContainer)
	rt.handle("GET", "/containers/{id}/changes", s.containerChanges)
}

func (s containerFSRouter) exportContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	write, err := s.backend.ContainerExport(v["id"])
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if err := write(w); err != nil && r.Context().Err() == nil {
		// the status is out: cutting the stream is the only way left to
		// tell the client, which then sees a truncated tar
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s containerFSRouter) containerChanges(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	changes, err := s.backend.ContainerChanges(v["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, changes)
}

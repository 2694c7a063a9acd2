package api

import (
	"net/http"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/daemon"
)

// postCommit is POST /commit?container=&repo=&tag=&comment=&author=&changes=
// with an optional container.Config body of overrides.
func (s containerRouter) postCommit(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	var cfg *container.Config
	if r.ContentLength != 0 && r.Body != nil {
		var c container.Config
		if err := readJSON(r, &c); err != nil {
			return err
		}
		cfg = &c
	}
	id, err := s.backend.Commit(r.Context(), daemon.CommitOptions{
		Container: q.Get("container"),
		Repo:      q.Get("repo"),
		Tag:       q.Get("tag"),
		Comment:   q.Get("comment"),
		Author:    q.Get("author"),
		Changes:   q["changes"],
		Config:    cfg,
		NoPause:   q.Get("pause") == "0" || q.Get("pause") == "false",
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CommitResponse{ID: id})
}

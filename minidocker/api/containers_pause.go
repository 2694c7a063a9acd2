package api

import (
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// containerStateBackend is what pause, unpause and update need.
type containerStateBackend interface {
	PauseContainer(ref string) error
	UnpauseContainer(ref string) error
	UpdateContainer(ref string, req container.UpdateConfig) ([]string, error)
}

// containerStateRouter serves the endpoints that change a running
// container without stopping it: the freezer and the live limits.
type containerStateRouter struct{ backend containerStateBackend }

func (s containerStateRouter) register(rt *router) {
	rt.handle("POST", "/containers/{id}/pause", s.pauseContainer)
	rt.handle("POST", "/containers/{id}/unpause", s.unpauseContainer)
	rt.handle("POST", "/containers/{id}/update", s.updateContainer)
}

func (s containerStateRouter) pauseContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.PauseContainer(v["id"]))
}

func (s containerStateRouter) unpauseContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.UnpauseContainer(v["id"]))
}

// updateContainer answers {"Warnings": [...]} (never null), as dockerd.
func (s containerStateRouter) updateContainer(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	var req container.UpdateConfig
	if err := readJSON(r, &req); err != nil {
		return err
	}
	warnings, err := s.backend.UpdateContainer(v["id"], req)
	if err != nil {
		return err
	}
	if warnings == nil {
		warnings = []string{}
	}
	return writeJSON(w, http.StatusOK, container.UpdateResponse{Warnings: warnings})
}

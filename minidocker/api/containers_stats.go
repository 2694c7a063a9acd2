package api

import (
	"encoding/json"
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// getContainerStats streams one JSON document per sample (stream=true, the
// default) or answers with one (stream=false).
func (s containerRouter) getContainerStats(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	stream := q.Get("stream") == "" || boolValue(r, "stream")
	oneShot := boolValue(r, "one-shot")
	wrote := false
	enc := json.NewEncoder(w)
	return s.backend.ContainerStats(r.Context(), vars["name"], stream, oneShot, func(st *container.StatsResponse) error {
		if !wrote {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			wrote = true
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	})
}

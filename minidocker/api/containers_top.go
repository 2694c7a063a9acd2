package api

import "net/http"

func (s containerRouter) getContainerTop(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	resp, err := s.backend.ContainerTop(vars["name"], r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

package api

import "net/http"

func (s *Server) getContainerTop(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	resp, err := s.daemon.ContainerTop(vars["name"], r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

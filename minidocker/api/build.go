package api

// registerBuildRoutes adds the build endpoints of the Engine API.
func (s *Server) registerBuildRoutes() {}

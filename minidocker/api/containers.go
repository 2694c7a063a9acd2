package api

// registerContainerRoutes adds the container endpoints of the Engine API.
func (s *Server) registerContainerRoutes() {}

package api

// registerImageRoutes adds the image endpoints of the Engine API.
func (s *Server) registerImageRoutes() {}

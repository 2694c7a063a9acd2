package api

// registerNetworkRoutes adds the network endpoints of the Engine API.
func (s *Server) registerNetworkRoutes() {}

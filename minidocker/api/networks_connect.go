package api

import (
	"net/http"

	mobynet "github.com/moby/moby/api/types/network"
)

// networkConnectBackend is what `network connect|disconnect` need.
type networkConnectBackend interface {
	ConnectContainer(network, container string, es *mobynet.EndpointSettings) error
	DisconnectContainer(network, container string, force bool) error
}

// networkConnectRouter puts containers on networks and takes them off.
type networkConnectRouter struct{ backend networkConnectBackend }

func (s networkConnectRouter) register(rt *router) {
	rt.handle("POST", "/networks/{id}/connect", s.connect)
	rt.handle("POST", "/networks/{id}/disconnect", s.disconnect)
}

func (s networkConnectRouter) connect(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	var req mobynet.ConnectRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	return noContent(w, s.backend.ConnectContainer(v["id"], req.Container, req.EndpointConfig))
}

func (s networkConnectRouter) disconnect(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	var req mobynet.DisconnectRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	return noContent(w, s.backend.DisconnectContainer(v["id"], req.Container, req.Force))
}

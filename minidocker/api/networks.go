package api

import (
	"net/http"

	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/daemon"
)

// networkBackend is what the network endpoints need from the daemon.
type networkBackend interface {
	ListNetworks(filters map[string][]string) ([]mobynet.Summary, error)
	InspectNetwork(ref string) (*mobynet.Inspect, error)
	CreateNetwork(req mobynet.CreateRequest) (string, error)
	RemoveNetwork(ref string) error
}

// networkRouter serves list, inspect, create and remove (docker's
// `network ls|inspect|create|rm`).
type networkRouter struct{ backend networkBackend }

func (s networkRouter) register(rt *router) {
	rt.handle("GET", "/networks", s.listNetworks)
	rt.handle("GET", "/networks/{id}", s.inspectNetwork)
	rt.handle("POST", "/networks/create", s.createNetwork)
	rt.handle("DELETE", "/networks/{id}", s.removeNetwork)
}

func (s networkRouter) listNetworks(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	filters, err := filtersParam(r, daemon.NetworkFilters...)
	if err != nil {
		return err
	}
	out, err := s.backend.ListNetworks(filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s networkRouter) inspectNetwork(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	res, err := s.backend.InspectNetwork(v["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s networkRouter) createNetwork(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req mobynet.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	id, err := s.backend.CreateNetwork(req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, mobynet.CreateResponse{ID: id})
}

func (s networkRouter) removeNetwork(w http.ResponseWriter, r *http.Request, v map[string]string) error {
	return noContent(w, s.backend.RemoveNetwork(v["id"]))
}

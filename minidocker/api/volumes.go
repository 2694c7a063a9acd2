package api

import (
	"net/http"

	mobyvolume "github.com/moby/moby/api/types/volume"

	"github.com/minidocker/minidocker/minidocker/daemon"
)

// volumeBackend is what the volume routes need of the daemon.
type volumeBackend interface {
	CreateVolume(mobyvolume.CreateRequest) (*mobyvolume.Volume, error)
	ListVolumes(filters map[string][]string) []*mobyvolume.Volume
	InspectVolume(name string) (*mobyvolume.Volume, error)
	RemoveVolume(name string, force bool) error
	PruneVolumes(filters map[string][]string) (*mobyvolume.PruneReport, error)
}

// volumeRouter serves the /volumes endpoints (docker's `volume
// create|ls|inspect|rm|prune`).
type volumeRouter struct{ backend volumeBackend }

func (v volumeRouter) register(rt *router) {
	rt.handle("POST", "/volumes/create", v.create)
	rt.handle("GET", "/volumes", v.list)
	rt.handle("POST", "/volumes/prune", v.prune)
	rt.handle("GET", "/volumes/{name}", v.inspect)
	rt.handle("DELETE", "/volumes/{name}", v.remove)
}

func (v volumeRouter) create(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req mobyvolume.CreateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	vol, err := v.backend.CreateVolume(req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, vol)
}

func (v volumeRouter) list(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filtersParam(r, daemon.VolumeFilters...)
	if err != nil {
		return err
	}
	vols := v.backend.ListVolumes(f)
	out := struct {
		Volumes  []*mobyvolume.Volume
		Warnings []string
	}{vols, []string{}}
	return writeJSON(w, http.StatusOK, out)
}

func (v volumeRouter) inspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	vol, err := v.backend.InspectVolume(vars["name"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, vol)
}

func (v volumeRouter) remove(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	return noContent(w, v.backend.RemoveVolume(vars["name"], boolValue(r, "force")))
}

func (v volumeRouter) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filtersParam(r, daemon.VolumeFilters...)
	if err != nil {
		return err
	}
	rep, err := v.backend.PruneVolumes(f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

package api

import (
	"net/http"
	"slices"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/daemon"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// pruneBackend is what container and network prune and system df need.
// (Image, volume and build prune are served with their objects.)
type pruneBackend interface {
	PruneContainers(filters map[string][]string) (container.PruneReport, error)
	PruneNetworks(filters map[string][]string) (mobynet.PruneReport, error)
	SystemDiskUsage(types []string) (*daemon.DiskUsage, error)
}

// pruneRouter serves what `docker system df` and `docker system prune`
// call besides the image, volume and build endpoints.
type pruneRouter struct{ backend pruneBackend }

func (s pruneRouter) register(rt *router) {
	rt.handle("POST", "/containers/prune", s.pruneContainers)
	rt.handle("POST", "/networks/prune", s.pruneNetworks)
	rt.handle("GET", "/system/df", s.diskUsage)
}

func (s pruneRouter) pruneContainers(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filtersParam(r, daemon.PruneFilters...)
	if err != nil {
		return err
	}
	rep, err := s.backend.PruneContainers(f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (s pruneRouter) pruneNetworks(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filtersParam(r, daemon.PruneFilters...)
	if err != nil {
		return err
	}
	rep, err := s.backend.PruneNetworks(f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// diskUsage is GET /system/df; ?type= (repeated) picks the parts.
func (s pruneRouter) diskUsage(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	types := r.URL.Query()["type"]
	for _, t := range types {
		if !slices.Contains(daemon.DiskUsageTypes, t) {
			return errdefs.Invalid("unknown object type: %s", t)
		}
	}
	du, err := s.backend.SystemDiskUsage(types)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, du)
}

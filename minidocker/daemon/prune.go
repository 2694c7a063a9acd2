package daemon

// docker container prune and docker network prune: remove what nothing
// uses, selected by the filters every prune takes (until, label, label!).
// Image and volume prune live with their objects (images.go, volumes.go);
// docker system prune calls them all in turn.

import (
	"log/slog"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// PruneFilters are the filter keys container and network prune accept;
// the API refuses any other with a 400.
var PruneFilters = []string{"until", "label", "label!"}

// pruneFilter is a parsed prune filter: an object is pruned when it was
// created before until (if set), has every label of labels, and not all
// of notLabels.
type pruneFilter struct {
	until     time.Time
	labels    []string
	notLabels []string
}

// parsePruneFilter reads the filters, with dockerd's errors for until.
func parsePruneFilter(f map[string][]string, now time.Time) (pruneFilter, error) {
	p := pruneFilter{labels: f["label"], notLabels: f["label!"]}
	switch u := f["until"]; len(u) {
	case 0:
	case 1:
		t, err := parseEventTime(u[0], now) // events.go: timestamps, dates, durations
		if err != nil {
			return p, err
		}
		p.until = t
	default:
		return p, errdefs.Invalid("more than one until filter specified")
	}
	return p, nil
}

func (p pruneFilter) matches(created time.Time, labels map[string]string) bool {
	if !p.until.IsZero() && created.After(p.until) {
		return false
	}
	if !MatchLabels(p.labels, labels) {
		return false
	}
	return len(p.notLabels) == 0 || !MatchLabels(p.notLabels, labels)
}

// PruneContainers is `docker container prune`: every container that is
// not running (created and exited ones; not paused or restarting), removed
// as rm would, with the size of its changes counted as reclaimed.
func (d *Daemon) PruneContainers(filters map[string][]string) (container.PruneReport, error) {
	rep := container.PruneReport{ContainersDeleted: []string{}}
	pf, err := parsePruneFilter(filters, time.Now())
	if err != nil {
		return rep, err
	}
	for _, c := range d.Containers() {
		c.mu.Lock()
		busy := c.State.Running || c.State.Restarting || c.removed
		ok := !busy && pf.matches(c.Created, c.Config.Labels)
		c.mu.Unlock()
		if !ok {
			continue
		}
		size, _ := d.containerSizeRw(c)
		if err := d.removeContainer(c, removeOpts{}); err != nil {
			// started meanwhile: docker skips it too
			slog.Warn("prune: container not removed", "id", stringid.TruncateID(c.ID), "err", err)
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	return rep, nil
}

// PruneNetworks is `docker network prune`: the user-defined networks no
// running container is connected to. The predefined ones stay.
func (d *Daemon) PruneNetworks(filters map[string][]string) (mobynet.PruneReport, error) {
	rep := mobynet.PruneReport{NetworksDeleted: []string{}}
	pf, err := parsePruneFilter(filters, time.Now())
	if err != nil {
		return rep, err
	}
	list, err := d.ListNetworks(map[string][]string{"type": {"custom"}})
	if err != nil {
		return rep, err
	}
	for _, n := range list {
		if !pf.matches(n.Created, n.Labels) {
			continue
		}
		if err := d.RemoveNetwork(n.ID); err != nil {
			if k := errdefs.KindOf(err); k != errdefs.KindForbidden && k != errdefs.KindNotFound {
				slog.Warn("prune: network not removed", "network", n.Name, "err", err)
			}
			continue // in use, or removed meanwhile
		}
		rep.NetworksDeleted = append(rep.NetworksDeleted, n.Name)
	}
	return rep, nil
}

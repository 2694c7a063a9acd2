package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/minidocker/minidocker/minidocker/daemon"
)

// eventBackend is what GET /events needs of the daemon.
type eventBackend interface {
	SubscribeEvents(opts daemon.EventsOptions) ([]daemon.EventMessage, *daemon.EventSubscription)
	UnsubscribeEvents(s *daemon.EventSubscription)
}

// eventRouter serves GET /events (docker events, docker-py's
// client.events()).
type eventRouter struct {
	backend eventBackend
	closing <-chan struct{} // Server.closing: the daemon shuts down
}

func (e eventRouter) register(rt *router) {
	rt.handle("GET", "/events", e.getEvents)
}

// getEvents streams one JSON object per event: first the past ones that
// since/until select, then the new ones as they happen, until `until`
// passes, the client goes away, the daemon shuts down or it disconnects a
// client too slow to read them. An until already past ends after the replay.
func (e eventRouter) getEvents(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filtersParam(r, daemon.EventFilters...)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opts, err := daemon.ParseEventsOptions(q.Get("since"), q.Get("until"), f, time.Now())
	if err != nil {
		return err
	}
	past, sub := e.backend.SubscribeEvents(opts)
	defer e.backend.UnsubscribeEvents(sub)

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	for _, ev := range past {
		if err := enc.Encode(ev); err != nil {
			return nil
		}
	}
	rc.Flush() // the client sees the headers (and the past) at once
	var deadline <-chan time.Time
	if !opts.Until.IsZero() {
		wait := time.Until(opts.Until)
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return nil // disconnected: too slow (daemon/events.go)
			}
			if err := enc.Encode(ev); err != nil {
				return nil
			}
			rc.Flush()
		case <-deadline:
			return nil
		case <-r.Context().Done():
			return nil
		case <-e.closing:
			return nil
		}
	}
}

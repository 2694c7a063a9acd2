package daemon

// The time filters of `docker images`: before=IMAGE and since=IMAGE keep
// the images created before or after that one, until=TIME those created
// before a timestamp or a duration ago. Several values narrow the window
// (the oldest before, the newest since), as dockerd resolves them.

import (
	"time"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// imageWindow is the creation-time window the filters leave open; a zero
// bound is no bound.
type imageWindow struct{ before, since time.Time }

// contains reports whether an image created at t is inside the window.
func (w imageWindow) contains(t time.Time) bool {
	if !w.before.IsZero() && !t.Before(w.before) {
		return false
	}
	return w.since.IsZero() || t.After(w.since)
}

// imageTimeWindow reads the before, since and until filters. An image
// they name must exist (404 "No such image" otherwise).
func (d *Daemon) imageTimeWindow(f map[string][]string, now time.Time) (imageWindow, error) {
	var w imageWindow
	narrowBefore := func(t time.Time) {
		if w.before.IsZero() || t.Before(w.before) {
			w.before = t
		}
	}
	for _, ref := range f["before"] {
		t, err := d.imageCreated(ref)
		if err != nil {
			return w, err
		}
		narrowBefore(t)
	}
	for _, v := range f["until"] {
		t, err := parseEventTime(v, now) // events.go: timestamps, dates, durations
		if err != nil {
			return w, errdefs.Invalid("invalid value for 'until' filter: %v", err)
		}
		narrowBefore(t)
	}
	for _, ref := range f["since"] {
		t, err := d.imageCreated(ref)
		if err != nil {
			return w, err
		}
		if t.After(w.since) {
			w.since = t
		}
	}
	return w, nil
}

// imageCreated is when the image ref (name, ID or ID prefix) was created,
// to the nanosecond its config records.
func (d *Daemon) imageCreated(ref string) (time.Time, error) {
	insp, err := d.images.Inspect(ref)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, insp.Created)
}

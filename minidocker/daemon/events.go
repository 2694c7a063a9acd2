package daemon

// docker events: what happened to containers, images, networks and
// volumes, as a feed. Each daemon operation publishes one event (the emit
// calls sit at the operations themselves: create, start, die, tag, connect,
// mount...); GET /events subscribes. The bus keeps the last eventRingSize
// events so that `docker events --since 10m` can replay the past, and hands
// each subscriber the new ones through a buffered channel.
//
// Publishing must never wait for a client: it runs inside start, stop and
// rm. A subscriber whose buffer is full is disconnected (its channel is
// closed and its HTTP stream ends), not skipped: a client that silently
// missed a "die" would believe the container still runs, while a closed
// stream is a loss it can see, and it can reconnect with since= to replay
// what it missed from the ring.

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	apiimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/mount"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

const (
	// eventRingSize is how many past events are kept for since= (dockerd
	// keeps 256 too).
	eventRingSize = 256
	// subscriberBuffer is how many events a subscriber may fall behind
	// before it is disconnected.
	subscriberBuffer = 256
)

// EventFilters are the keys of GET /events?filters= we understand; the
// API refuses others.
var EventFilters = []string{"type", "event", "container", "image", "label", "network", "volume", "scope"}

// EventMessage is one event as GET /events sends it: docker's Message,
// plus for containers and images the old status/id/from fields that
// clients written before Type and Actor existed still read.
type EventMessage struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

// eventBus is the daemon's publish/subscribe of events. Its lock is a
// leaf (doc.go's level 6): publish takes nothing else while it holds it.
type eventBus struct {
	mu   sync.Mutex
	ring []EventMessage // the newest eventRingSize events, oldest first
	subs map[*EventSubscription]struct{}
}

// EventSubscription is one GET /events client.
type EventSubscription struct {
	// C yields the new events that pass the filter. It is closed when the
	// subscriber is unsubscribed or disconnected for being too slow.
	C      <-chan EventMessage
	ch     chan EventMessage
	filter EventFilter
}

// EventsOptions are the query of GET /events.
type EventsOptions struct {
	Since, Until time.Time // zero: not set
	Filters      EventFilter
}

// publish records ev in the ring and offers it to every subscriber.
func (b *eventBus) publish(ev EventMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ring) == eventRingSize {
		copy(b.ring, b.ring[1:])
		b.ring = b.ring[:eventRingSize-1]
	}
	b.ring = append(b.ring, ev)
	for s := range b.subs {
		if !s.filter.Matches(ev) {
			continue
		}
		select {
		case s.ch <- ev:
		default: // too slow: disconnect it (see the top of this file)
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// SubscribeEvents returns the past events the options select (from the
// ring) and a subscription to the new ones. Both are taken under one lock,
// so no event falls between them. Without since and until nothing is
// replayed, as with dockerd.
func (d *Daemon) SubscribeEvents(opts EventsOptions) ([]EventMessage, *EventSubscription) {
	b := &d.events
	b.mu.Lock()
	defer b.mu.Unlock()
	var past []EventMessage
	if !opts.Since.IsZero() || !opts.Until.IsZero() {
		for _, ev := range b.ring {
			t := time.Unix(0, ev.TimeNano)
			if t.Before(opts.Since) || (!opts.Until.IsZero() && t.After(opts.Until)) {
				continue
			}
			if opts.Filters.Matches(ev) {
				past = append(past, ev)
			}
		}
	}
	ch := make(chan EventMessage, subscriberBuffer)
	s := &EventSubscription{C: ch, ch: ch, filter: opts.Filters}
	if b.subs == nil {
		b.subs = map[*EventSubscription]struct{}{}
	}
	b.subs[s] = struct{}{}
	return past, s
}

// UnsubscribeEvents ends a subscription (a no-op when the bus already
// disconnected it).
func (d *Daemon) UnsubscribeEvents(s *EventSubscription) {
	b := &d.events
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

// logEvent publishes one event now. attrs may be nil.
func (d *Daemon) logEvent(typ events.Type, action, id string, attrs map[string]string) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	now := time.Now()
	ev := EventMessage{Message: events.Message{
		Type: typ, Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano(),
	}}
	switch typ {
	case events.ContainerEventType:
		ev.Status, ev.ID, ev.From = action, id, attrs["image"]
	case events.ImageEventType:
		ev.Status, ev.ID = action, id
	}
	d.events.publish(ev)
}

// containerEvent publishes an event about c: its attributes are its
// labels, its image and name (as docker's), then extra key, value pairs.
// It takes c.mu: never call it with c.mu held.
func (d *Daemon) containerEvent(c *Container, action string, extra ...string) {
	c.mu.Lock()
	attrs := maps.Clone(c.Config.Labels)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["image"], attrs["name"] = c.Config.Image, c.Name
	c.mu.Unlock()
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	d.logEvent(events.ContainerEventType, action, c.ID, attrs)
}

// imageEvent publishes an event about an image: id is the image ID (or
// the reference for pull and push, as docker's), name the reference.
func (d *Daemon) imageEvent(action, id, name string) {
	d.logEvent(events.ImageEventType, action, id, map[string]string{"name": name})
}

// networkEvent publishes an event about a network; containerID is the
// container connected or disconnected ("" for create and destroy).
func (d *Daemon) networkEvent(action, id, name, containerID string) {
	attrs := map[string]string{"name": name, "type": "bridge"}
	if containerID != "" {
		attrs["container"] = containerID
	}
	d.logEvent(events.NetworkEventType, action, id, attrs)
}

// volumeEvent publishes an event about a volume; extra are key, value
// pairs (the container and destination of a mount).
func (d *Daemon) volumeEvent(action, name string, extra ...string) {
	attrs := map[string]string{"driver": "local"}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	d.logEvent(events.VolumeEventType, action, name, attrs)
}

// EventFilter is GET /events' filters: each key must hold, and one of a
// key's values is enough (labels: all of them must hold), as dockerd's.
type EventFilter map[string][]string

// Matches reports whether ev passes the filter.
func (f EventFilter) Matches(ev EventMessage) bool {
	return matchesFilters(f, ev.Actor.Attributes, func(key, v string) bool {
		switch key {
		case "type":
			return string(ev.Type) == v
		case "scope":
			return v == ev.Scope
		case "event":
			// "health_status" or "exec_start" select every status and command
			a := string(ev.Action)
			return a == v || strings.HasPrefix(a, v+":")
		case "container", "network", "volume":
			return strings.HasPrefix(ev.Actor.ID, v) || (ev.Actor.Attributes["name"] != "" && strings.HasPrefix(ev.Actor.Attributes["name"], v))
		case "image":
			return matchEventImage(ev, v)
		}
		return false
	})
}

// matchEventImage is the image filter: a container's image or an
// image's own ID or name, with or without its tag.
func matchEventImage(ev EventMessage, v string) bool {
	name := ev.Actor.Attributes["image"]
	if ev.Type == events.ImageEventType {
		name = ev.Actor.Attributes["name"]
	}
	for _, s := range []string{ev.Actor.ID, name} {
		if s != "" && (s == v || stripTag(s) == v) {
			return true
		}
	}
	return false
}

// stripTag drops the :tag of a reference (not a registry's :port).
func stripTag(ref string) string {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}

// ParseEventsOptions reads the since and until of GET /events (unix
// seconds with an optional fraction, as the docker CLI sends them; also
// RFC 3339 times and durations before now, for curl users) and the
// already-parsed filters.
func ParseEventsOptions(since, until string, filters map[string][]string, now time.Time) (EventsOptions, error) {
	opts := EventsOptions{Filters: filters}
	var err error
	if opts.Since, err = parseEventTime(since, now); err != nil {
		return opts, err
	}
	if opts.Until, err = parseEventTime(until, now); err != nil {
		return opts, err
	}
	if !opts.Until.IsZero() && opts.Until.Before(opts.Since) {
		return opts, errdefs.Invalid("`since` time (%s) cannot be after `until` time (%s)", since, until)
	}
	return opts, nil
}

// parseEventTime reads one time value ("" is the zero time).
func parseEventTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if sec, frac, ok := unixTimestamp(s); ok {
		return time.Unix(sec, frac), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errdefs.Invalid("failed to parse value as time or duration: %q", s)
}

// unixTimestamp reads "seconds[.fraction]", the fraction padded to nanoseconds.
func unixTimestamp(s string) (sec, nsec int64, ok bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !hasFrac {
		return sec, 0, true
	}
	if len(frac) == 0 || len(frac) > 9 {
		return 0, 0, false
	}
	nsec, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	return sec, nsec, err == nil
}

// execAction is the action of an exec event: docker appends the command
// ("exec_start: sh -c true").
func execAction(action string, cmd []string) string {
	return fmt.Sprintf("%s: %s", action, strings.Join(cmd, " "))
}

// startEvents are what a start shows: each volume mounted, each network
// connected, then the container's start.
func (d *Daemon) startEvents(c *Container) {
	c.mu.Lock()
	nets, mps := c.networkNames(), append([]MountPoint(nil), c.MountPoints...)
	c.mu.Unlock()
	for _, m := range mps {
		if m.Type == mount.TypeVolume {
			d.volumeEvent("mount", m.Name, "container", c.ID, "destination", m.Destination,
				"read/write", strconv.FormatBool(!m.ReadOnly), "propagation", "")
		}
	}
	d.networkEvents("connect", c.ID, nets)
	d.containerEvent(c, "start")
}

// exitEvents are what an exit shows: an oom when the kernel's OOM killer
// ended it, the container's die with its exit code, then each network
// disconnected and each volume unmounted.
func (d *Daemon) exitEvents(c *Container, exitCode int, oomKilled bool) {
	if oomKilled {
		d.containerEvent(c, "oom")
	}
	d.containerEvent(c, "die", "exitCode", strconv.Itoa(exitCode))
	c.mu.Lock()
	nets, mps := c.networkNames(), append([]MountPoint(nil), c.MountPoints...)
	c.mu.Unlock()
	d.networkEvents("disconnect", c.ID, nets)
	for _, m := range mps {
		if m.Type == mount.TypeVolume {
			d.volumeEvent("unmount", m.Name, "container", c.ID)
		}
	}
}

// networkEvents publishes one network event per named network.
func (d *Daemon) networkEvents(action, containerID string, names []string) {
	if d.networks == nil {
		return
	}
	for _, n := range names {
		if insp, err := d.networks.InspectNetwork(n); err == nil {
			d.networkEvent(action, insp.ID, insp.Name, containerID)
		}
	}
}

// stopped publishes the stop of c when the stop (err) succeeded.
func (d *Daemon) stopped(c *Container, err error) error {
	if err == nil {
		d.containerEvent(c, "stop")
	}
	return err
}

// restarted publishes the restart of c when it succeeded.
func (d *Daemon) restarted(c *Container, err error) error {
	if err == nil {
		d.containerEvent(c, "restart")
	}
	return err
}

// execEvent publishes an exec_* event on the exec's container (none when
// the container is gone).
func (d *Daemon) execEvent(e *Exec, action string, extra ...string) {
	c, err := d.GetContainer(e.ContainerID)
	if err != nil {
		return
	}
	if action != "exec_die" {
		action = execAction(action, e.Config.Cmd)
	}
	d.containerEvent(c, action, append([]string{"execID", e.ID}, extra...)...)
}

// execDied publishes the end of an exec with its exit code.
func (d *Daemon) execDied(e *Exec, code int) int {
	d.execEvent(e, "exec_die", "exitCode", strconv.Itoa(code))
	return code
}

// volumeRemoved publishes a volume's destroy when its removal (err) worked.
func (d *Daemon) volumeRemoved(name string, err error) {
	if err == nil {
		d.volumeEvent("destroy", name)
	}
}

// imageRemoveEvents are rmi's: an untag per reference removed, and a
// delete when the image itself went (id: the image the reference named;
// the layers deleted with it are in the answer, not in the events).
func (d *Daemon) imageRemoveEvents(id string, res []apiimage.DeleteResponse) {
	for _, r := range res {
		switch {
		case r.Untagged != "":
			d.imageEvent("untag", id, r.Untagged)
		case r.Deleted != "" && r.Deleted == id:
			d.imageEvent("delete", id, id)
		}
	}
}

// imageLoadEvents are load's: one per "Loaded image: ref" or "Loaded
// image ID: sha256:…" line.
func (d *Daemon) imageLoadEvents(lines []string) {
	for _, l := range lines {
		_, ref, ok := strings.Cut(l, ": ")
		if !ok {
			continue
		}
		ref = strings.TrimSpace(ref)
		if id, err := d.images.Resolve(ref); err == nil {
			d.imageEvent("load", id, ref)
		}
	}
}

// familiarRef is a reference as docker's events show it (busybox:latest,
// not docker.io/library/busybox:latest); "" stays "".
func familiarRef(ref string) string {
	if named, err := image.ParseReference(ref); err == nil {
		return image.FamiliarString(named)
	}
	return ref
}

// commitEvents are commit's: the new image's create (and its tag when the
// commit named one), then the container's commit naming the image.
func (d *Daemon) commitEvents(c *Container, id, ref, comment string) {
	d.imageEvent("create", id, id)
	if ref != "" {
		ref = familiarRef(ref)
		d.imageEvent("tag", id, ref)
	}
	d.containerEvent(c, "commit", "comment", comment, "imageID", id, "imageRef", ref)
}

// eventIfDone publishes action on c when the operation's *err is nil
// (deferred by an operation that holds c.mu until it returns).
func (d *Daemon) eventIfDone(c *Container, action string, err *error) {
	if *err == nil {
		d.containerEvent(c, action)
	}
}

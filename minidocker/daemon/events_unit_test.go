package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// A subscriber that stops reading is disconnected once its buffer is
// full; publishing never waits for it, and the others keep theirs.
func TestEventBusDisconnectsASlowSubscriber(t *testing.T) {
	d := &Daemon{}
	_, slow := d.SubscribeEvents(EventsOptions{})
	_, picky := d.SubscribeEvents(EventsOptions{Filters: EventFilter{"event": {"destroy"}}})
	for i := 0; i < subscriberBuffer+10; i++ { // would block for ever if publish waited
		d.logEvent(events.ContainerEventType, "start", fmt.Sprint(i), nil)
	}
	n := 0
	for range slow.C { // closed: the loop ends
		n++
	}
	if n != subscriberBuffer {
		t.Fatalf("slow subscriber got %d events before being cut off, want %d", n, subscriberBuffer)
	}
	d.logEvent(events.ContainerEventType, "destroy", "x", nil)
	if ev := <-picky.C; ev.Action != "destroy" {
		t.Fatalf("filtered subscriber got %q", ev.Action)
	}
	d.UnsubscribeEvents(slow) // already gone: a no-op
	d.UnsubscribeEvents(picky)
	if _, open := <-picky.C; open {
		t.Fatal("unsubscribed channel still open")
	}
}

// The ring keeps the newest eventRingSize events for since/until, and
// nothing is replayed without them.
func TestEventRingReplay(t *testing.T) {
	d := &Daemon{}
	start := time.Now()
	for i := 0; i < eventRingSize+50; i++ {
		d.logEvent(events.VolumeEventType, "create", fmt.Sprint(i), nil)
	}
	past, s := d.SubscribeEvents(EventsOptions{Since: start})
	d.UnsubscribeEvents(s)
	if len(past) != eventRingSize || past[0].Actor.ID != "50" || past[len(past)-1].Actor.ID != fmt.Sprint(eventRingSize+49) {
		t.Fatalf("replayed %d events from %s", len(past), past[0].Actor.ID)
	}
	if past, s := d.SubscribeEvents(EventsOptions{}); len(past) != 0 {
		t.Fatalf("replayed %d events without since/until", len(past))
	} else {
		d.UnsubscribeEvents(s)
	}
	if past, s := d.SubscribeEvents(EventsOptions{Until: start}); len(past) != 0 {
		t.Fatalf("replayed %d events from before they happened", len(past))
	} else {
		d.UnsubscribeEvents(s)
	}
}

func TestEventFilter(t *testing.T) {
	ctr := EventMessage{Message: events.Message{Type: events.ContainerEventType, Action: "health_status: healthy", Scope: "local",
		Actor: events.Actor{ID: "abcdef0123", Attributes: map[string]string{"name": "web", "image": "localhost:5000/app:v2", "tier": "front"}}}}
	img := EventMessage{Message: events.Message{Type: events.ImageEventType, Action: "tag", Scope: "local",
		Actor: events.Actor{ID: "sha256:99", Attributes: map[string]string{"name": "busybox:latest"}}}}
	for _, c := range []struct {
		f        EventFilter
		ctr, img bool
	}{
		{EventFilter{}, true, true},
		{EventFilter{"type": {"image"}}, false, true},
		{EventFilter{"type": {"image", "container"}}, true, true},
		{EventFilter{"event": {"health_status"}}, true, false},
		{EventFilter{"event": {"health_status: unhealthy"}}, false, false},
		{EventFilter{"container": {"web"}}, true, false},
		{EventFilter{"container": {"abc"}}, true, false},
		{EventFilter{"container": {"web"}, "type": {"image"}}, false, false},
		{EventFilter{"image": {"localhost:5000/app"}}, true, false},
		{EventFilter{"image": {"busybox"}}, false, true},
		{EventFilter{"image": {"sha256:99"}}, false, true},
		{EventFilter{"label": {"tier=front"}}, true, false},
		{EventFilter{"label": {"tier=front", "zone"}}, false, false},
		{EventFilter{"scope": {"swarm"}}, false, false},
	} {
		t.Run(fmt.Sprint(c.f), func(t *testing.T) {
			if got := c.f.Matches(ctr); got != c.ctr {
				t.Errorf("%v on the container event: %v", c.f, got)
			}
			if got := c.f.Matches(img); got != c.img {
				t.Errorf("%v on the image event: %v", c.f, got)
			}
		})
	}
}

func TestParseEventTime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"1767323045":           time.Unix(1767323045, 0),
		"1767323045.5":         time.Unix(1767323045, 500000000),
		"1767323045.000000001": time.Unix(1767323045, 1),
		"10m":                  now.Add(-10 * time.Minute),
		"2026-01-02T03:00:00Z": time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
	} {
		t.Run(in, func(t *testing.T) {
			got, err := parseEventTime(in, now)
			if err != nil || !got.Equal(want) {
				t.Errorf("%q: %v %v, want %v", in, got, err, want)
			}
		})
	}
	for _, bad := range []string{"soon", "12.", "1.1234567890", "-"} {
		if _, err := parseEventTime(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

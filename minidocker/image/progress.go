package image

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/docker/go-units"
)

// ProgressEvent is one line of docker's JSON progress stream. ID is a
// 12-hex layer ID (Layer is then true), a tag ("latest" in
// "latest: Pulling from busybox") or empty for lines like "Digest: sha256:…"
// and "Status: …". HasDetail says whether progressDetail carries numbers
// (Downloading, Extracting, Pushing, Loading layer).
type ProgressEvent struct {
	ID        string
	Status    string
	Current   int64
	Total     int64
	HasDetail bool
	Layer     bool
}

// MarshalJSON writes the event exactly as dockerd does, e.g.
//
//	{"status":"Pulling from busybox","id":"latest"}
//	{"status":"Pulling fs layer","progressDetail":{},"id":"6a2c38489a85"}
//	{"status":"Downloading","progressDetail":{"current":1024,"total":2048},"progress":"[=========================\u003e                         ]  1.024kB/2.048kB","id":"6a2c38489a85"}
//	{"status":"Digest: sha256:…"}
//
// The API layer writes each one followed by "\r\n".
func (ev ProgressEvent) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString(`{"status":`)
	s, _ := json.Marshal(ev.Status)
	b.Write(s)
	if ev.HasDetail {
		if ev.Total > 0 {
			fmt.Fprintf(&b, `,"progressDetail":{"current":%d,"total":%d}`, ev.Current, ev.Total)
		} else {
			fmt.Fprintf(&b, `,"progressDetail":{"current":%d}`, ev.Current)
		}
		pb, _ := json.Marshal(ProgressBar(ev.Current, ev.Total))
		b.WriteString(`,"progress":`)
		b.Write(pb)
	} else if ev.Layer {
		b.WriteString(`,"progressDetail":{}`)
	}
	if ev.ID != "" {
		id, _ := json.Marshal(ev.ID)
		b.WriteString(`,"id":`)
		b.Write(id)
	}
	b.WriteString("}")
	return []byte(b.String()), nil
}

// ProgressBar renders docker's text bar: "[=====>      ]  1.2MB/26.5MB".
func ProgressBar(cur, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%8v", units.HumanSize(float64(cur)))
	}
	const width = 50
	n := int(float64(width) * float64(cur) / float64(total))
	if n > width {
		n = width
	}
	if n < 0 {
		n = 0
	}
	bar := strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n)
	if n == width {
		bar = strings.Repeat("=", width) + ">"
	}
	return fmt.Sprintf("[%s] %8v/%v", bar, units.HumanSize(float64(cur)), units.HumanSize(float64(total)))
}

// Progress receives events; it may be called from several goroutines at once
// (layers are fetched in parallel), so it must be safe for that.
// A nil Progress discards everything.
type Progress func(ProgressEvent)

func (p Progress) send(ev ProgressEvent) {
	if p != nil {
		p(ev)
	}
}

func (p Progress) status(id, status string) { p.send(ProgressEvent{ID: id, Status: status}) }

func (p Progress) layer(id, status string) {
	p.send(ProgressEvent{ID: id, Status: status, Layer: true})
}

func (p Progress) detail(id, status string, cur, total int64) {
	p.send(ProgressEvent{ID: id, Status: status, Current: cur, Total: total, HasDetail: true, Layer: true})
}

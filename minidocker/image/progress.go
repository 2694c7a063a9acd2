package image

// ProgressEvent is one line of docker's JSON progress stream:
// {"status":Status,"progressDetail":{"current":Current,"total":Total},"id":ID}.
// ID is a 12-hex layer ID, a tag ("latest: Pulling from ...") or empty for
// lines like "Digest: sha256:…" and "Status: …". HasDetail says whether
// progressDetail carries numbers (Downloading, Extracting, Pushing, Loading
// layer); docker sends an empty progressDetail {} for the other per-layer lines.
type ProgressEvent struct {
	ID        string
	Status    string
	Current   int64
	Total     int64
	HasDetail bool
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

func (p Progress) detail(id, status string, cur, total int64) {
	p.send(ProgressEvent{ID: id, Status: status, Current: cur, Total: total, HasDetail: true})
}

package daemon_test

import (
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestListFiltersAndLabels: several label filters must all match (docker
// ANDs them; Compose finds one service's containers by project and service
// label), the values of another key are OR'ed, and an unknown key is a 400.
func TestListFiltersAndLabels(t *testing.T) {
	d := preload.StartDaemon(t)
	web := d.Docker("create", "--net", "none", "--label", "proj=p", "--label", "svc=web", "busybox", "true")
	db := d.Docker("create", "--net", "none", "--label", "proj=p", "--label", "svc=db", "busybox", "true")
	if web.Code != 0 || db.Code != 0 {
		t.Fatalf("create: %s %s", web.Combined(), db.Combined())
	}
	r := d.Docker("ps", "-aq", "--no-trunc", "--filter", "label=proj=p", "--filter", "label=svc=web")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != strings.TrimSpace(web.Stdout) {
		t.Fatalf("ps with two label filters: want only %s, got %q %s", web.Stdout, r.Stdout, r.Stderr)
	}
	r = d.Docker("ps", "-aq", "--filter", "label=proj=p", "--filter", "label=svc")
	if n := len(strings.Fields(r.Stdout)); n != 2 {
		t.Fatalf("ps label=proj=p label=svc: want 2 rows, got %q", r.Stdout)
	}
	r = d.Docker("ps", "-aq", "--filter", "status=created", "--filter", "status=exited")
	if n := len(strings.Fields(r.Stdout)); n != 2 {
		t.Fatalf("two status filters are OR'ed: want 2 rows, got %q", r.Stdout)
	}
	r = d.Docker("ps", "-a", "--filter", "colour=blue")
	if r.Code == 0 || !strings.Contains(r.Stderr, "invalid filter 'colour'") {
		t.Fatalf("unknown filter: %d %q", r.Code, r.Stderr)
	}
	d.Docker("network", "create", "--label", "proj=p", "--label", "role=front", "front")
	d.Docker("network", "create", "--label", "proj=p", "--label", "role=back", "back")
	r = d.Docker("network", "ls", "--format", "{{.Name}}", "--filter", "label=proj=p", "--filter", "label=role=back")
	if strings.TrimSpace(r.Stdout) != "back" {
		t.Fatalf("network ls with two label filters: %q %s", r.Stdout, r.Stderr)
	}
	d.Docker("network", "rm", "front", "back")
}

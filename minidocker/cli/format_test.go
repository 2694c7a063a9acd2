package cli

import (
	"bytes"
	"testing"

	"github.com/moby/moby/api/types/volume"
)

// TestListFormat: volume ls's --format as docker's (its output for the same
// two volumes, taken from docker 28): the default table, -q, a table of
// the user's columns with label titles, json, and a plain template.
func TestListFormat(t *testing.T) {
	rows := []any{
		volumeRow{volume.Volume{Name: "bar", Driver: "local", Scope: "local", Labels: map[string]string{"com.x.tier": "db", "c": ""}}},
		volumeRow{volume.Volume{Name: "foo", Driver: "local", Scope: "local", Mountpoint: "/v/foo/_data"}},
	}
	for name, tc := range map[string]struct {
		format string
		quiet  bool
		want   string
	}{
		"default":        {"", false, "DRIVER    VOLUME NAME\nlocal     bar\nlocal     foo\n"},
		"table":          {"table", false, "DRIVER    VOLUME NAME\nlocal     bar\nlocal     foo\n"},
		"quiet":          {"", true, "bar\nfoo\n"},
		"quiet table":    {"table", true, "bar\nfoo\n"},
		"quiet template": {"{{.Driver}}", true, "local\nlocal\n"},
		"columns": {`table {{.Label "com.x.tier"}}\t{{.Name}}\t{{.Labels}}`, false,
			"tier      VOLUME NAME   LABELS\ndb        bar           c=,com.x.tier=db\n          foo           \n"},
		"template": {"{{.Name}}:{{.Mountpoint}}", false, "bar:\nfoo:/v/foo/_data\n"},
		"json": {"json", false, `{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"c=,com.x.tier=db","Links":"N/A","Mountpoint":"","Name":"bar","Scope":"local","Size":"N/A","Status":"N/A"}` + "\n" +
			`{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"","Links":"N/A","Mountpoint":"/v/foo/_data","Name":"foo","Scope":"local","Size":"N/A","Status":"N/A"}` + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := volumeFormat.write(&out, tc.format, tc.quiet, rows); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
	if err := volumeFormat.write(&bytes.Buffer{}, "{{.Nope", false, rows); err == nil {
		t.Error("a bad template was accepted")
	}
}

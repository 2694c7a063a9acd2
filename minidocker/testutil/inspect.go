package testutil

import "encoding/json"

// Inspect is `inspect REF` of one object, decoded generically (numbers are
// float64), and fails the test unless exactly one object comes back.
func (d *Daemon) Inspect(ref string) map[string]any {
	d.t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(d.MustCLI("inspect", ref)), &v); err != nil || len(v) != 1 {
		d.t.Fatalf("inspect %s: %v (%d objects)", ref, err, len(v))
	}
	return v[0]
}

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

// ContainerPid is the host PID of the PID 1 of a running container, and
// fails the test when the container has none.
func (d *Daemon) ContainerPid(ref string) int {
	d.t.Helper()
	state, _ := d.Inspect(ref)["State"].(map[string]any)
	pid, _ := state["Pid"].(float64)
	if pid <= 0 {
		d.t.Fatalf("container %s is not running (no PID 1)", ref)
	}
	return int(pid)
}

package daemon_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// networkNames lists `network ls` names for the filters, through docker's
// CLI and through ours (which must agree).
func networkNames(t *testing.T, d *testutil.Daemon, filters ...string) []string {
	t.Helper()
	args := []string{"network", "ls"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	names := strings.Fields(mustDocker(t, d, append(args, "--format", "{{.Name}}")...))
	slices.Sort(names)
	var ours []string
	for i, line := range strings.Split(strings.TrimSpace(d.MustCLI(args...)), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 1 {
			ours = append(ours, f[1])
		}
	}
	slices.Sort(ours)
	if !slices.Equal(names, ours) {
		t.Fatalf("network ls %v: docker's CLI lists %v, ours %v", filters, names, ours)
	}
	return names
}

// TestNetworkListFilters: every `network ls` filter dockerd knows, with its
// combination rules (labels ANDed, one key's values ORed), and dockerd's
// refusals of bad values.
func TestNetworkListFilters(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "network", "create", "--label", "tier=web", "--label", "env=prod", "mdfweb")
	mustDocker(t, d, "network", "create", "--label", "tier=db", "mdfdb")
	mustDocker(t, d, "network", "create", "mdfidle")
	t.Cleanup(func() { d.Docker("rm", "-f", "mdfuser"); d.Docker("network", "rm", "mdfweb", "mdfdb", "mdfidle") })
	mustDocker(t, d, "run", "-d", "--name", "mdfuser", "--net", "mdfdb", "busybox", "sleep", "300")
	dbID := mustDocker(t, d, "network", "inspect", "-f", "{{.Id}}", "mdfdb")

	for _, c := range []struct {
		filters []string
		want    string
	}{
		{[]string{"label=tier"}, "mdfdb mdfweb"},
		{[]string{"label=tier=web"}, "mdfweb"},
		{[]string{"label=tier", "label=env=prod"}, "mdfweb"},
		{[]string{"label=tier=db", "label=env"}, ""},
		{[]string{"name=mdf"}, "mdfdb mdfidle mdfweb"},
		{[]string{"name=^mdf(db|web)$"}, "mdfdb mdfweb"},
		{[]string{"name=mdfdb", "name=mdfweb"}, "mdfdb mdfweb"},
		{[]string{"id=" + dbID[:12]}, "mdfdb"},
		{[]string{"id=" + dbID[3:20]}, "mdfdb"},
		{[]string{"driver=host"}, "host"},
		{[]string{"driver=null"}, "none"},
		{[]string{"scope=global"}, ""},
		{[]string{"type=builtin"}, "bridge host none"},
		{[]string{"type=custom", "name=mdf"}, "mdfdb mdfidle mdfweb"},
		{[]string{"dangling=true"}, "mdfidle mdfweb"},
		{[]string{"dangling=0", "type=custom"}, "mdfdb"},
		{[]string{"dangling=false", "type=builtin", "name=bridge"}, "bridge"},
	} {
		got := networkNames(t, d, c.filters...)
		if !slices.Equal(got, strings.Fields(c.want)) {
			// other tests' networks live in other daemons: only ours are here
			t.Errorf("network ls %v: %v, want %q", c.filters, got, c.want)
		}
	}
	for _, c := range []struct{ filter, want string }{
		{"dangling=maybe", `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`},
		{"type=other", "invalid filter: 'type'='other'"},
		{"colour=red", "invalid filter 'colour'"},
	} {
		if r := d.Docker("network", "ls", "--filter", c.filter); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("network ls --filter %s: %d %q, want %q", c.filter, r.Code, r.Stderr, c.want)
		}
	}
	if r := d.Docker("network", "ls", "--filter", "dangling=true", "--filter", "dangling=false"); r.Code == 0 || !strings.Contains(r.Stderr, `got more than one value for filter key "dangling"`) {
		t.Errorf("two dangling values: %d %q", r.Code, r.Stderr)
	}
}

package daemon

import "testing"

// TestMatchesFilters: label filters are AND'ed, the values of one other key
// are OR'ed, and the keys are AND'ed (docker's list filters).
func TestMatchesFilters(t *testing.T) {
	labels := map[string]string{"com.docker.compose.project": "p", "com.docker.compose.service": "web"}
	status := func(key, v string) bool { return key == "status" && v == "running" }
	cases := []struct {
		name    string
		filters map[string][]string
		want    bool
	}{
		{"no filter", nil, true},
		{"both labels", map[string][]string{"label": {"com.docker.compose.project=p", "com.docker.compose.service=web"}}, true},
		{"one label of two missing", map[string][]string{"label": {"com.docker.compose.project=p", "com.docker.compose.service=db"}}, false},
		{"label key only", map[string][]string{"label": {"com.docker.compose.service"}}, true},
		{"one value of a key holds", map[string][]string{"status": {"exited", "running"}}, true},
		{"no value of a key holds", map[string][]string{"status": {"exited", "created"}}, false},
		{"keys are AND'ed", map[string][]string{"status": {"running"}, "label": {"other"}}, false},
		{"an empty key is no filter", map[string][]string{"status": {}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchesFilters(c.filters, labels, status); got != c.want {
				t.Errorf("matchesFilters(%v) = %v, want %v", c.filters, got, c.want)
			}
		})
	}
}

package daemon_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestImageListTimeFilters: docker images --filter before=, since= (image
// references) and until= (a timestamp or a duration) keep the images
// created before or after, with docker's errors for a missing image and a
// bad time.
func TestImageListTimeFilters(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "run", "--name", "src", "--net", "none", "busybox", "true")
	for _, name := range []string{"first", "second", "third"} {
		mustDocker(t, d, "commit", "src", name)
	}
	secondCreated := mustDocker(t, d, "image", "inspect", "-f", "{{.Created}}", "second")
	for _, cli := range []func(...string) testutil.Result{d.Docker, d.CLI} {
		for _, c := range []struct {
			filters []string
			want    string
		}{
			{[]string{"before=second"}, "busybox first"},
			{[]string{"since=first"}, "second third"},
			{[]string{"since=first", "before=third"}, "second"},
			{[]string{"since=busybox", "since=second"}, "third"},
			{[]string{"until=" + secondCreated}, "busybox first"},
			{[]string{"until=1h"}, "busybox"}, // the offline busybox is older than an hour
		} {
			args := []string{"images"}
			for _, f := range c.filters {
				args = append(args, "--filter", f)
			}
			r := cli(args...)
			var got []string // the REPOSITORY column of the table
			for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:] {
				got = append(got, strings.Fields(line)[0])
			}
			slices.Sort(got)
			if r.Code != 0 || strings.Join(got, " ") != c.want {
				t.Errorf("images %v: exit %d %q %s, want %q", c.filters, r.Code, got, r.Stderr, c.want)
			}
		}
	}
	for _, c := range []struct {
		filter, want string
		status       int
	}{
		{"before=nosuch", "No such image: nosuch", 404},
		{"since=nosuch:1", "No such image: nosuch:1", 404},
		{"until=soon", "invalid value for 'until' filter", 400},
	} {
		if r := d.Docker("images", "--filter", c.filter); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("images --filter %s: %d %q, want %q", c.filter, r.Code, r.Stderr, c.want)
		}
		k, v, _ := strings.Cut(c.filter, "=")
		q := `{"` + k + `":{"` + v + `":true}}`
		if code, body := apiCall(t, d, "GET", "/images/json?filters="+url.QueryEscape(q), ""); code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("GET /images/json filters=%s: %d %s, want %d", q, code, body, c.status)
		}
	}
}

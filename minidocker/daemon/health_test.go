package daemon_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// healthStatus is `docker inspect --format '{{.State.Health.Status}}'`.
func healthStatus(t *testing.T, d *testutil.Daemon, name string) string {
	t.Helper()
	r := d.Docker("inspect", "--format", "{{.State.Health.Status}}", name)
	if r.Code != 0 {
		t.Fatalf("inspect %s: %s", name, r.Combined())
	}
	return strings.TrimSpace(r.Stdout)
}

// A failing --health-cmd turns the container unhealthy after exactly
// --health-retries failed probes: the events show two probes (each an
// exec) and then the one status change, and State.Health keeps the
// failures with their output.
func TestHealthcheckTurnsUnhealthyAfterRetries(t *testing.T) {
	d := preload.StartDaemon(t)
	since := time.Now().Add(-time.Second).Format(time.RFC3339)
	mustDocker(t, d, "run", "-d", "--name", "sick", "--net", "none", "--health-cmd", "echo probing; exit 1",
		"--health-interval", "100ms", "--health-retries", "2", "busybox", "sleep", "600")
	testutil.Eventually(t, 30*time.Second, "unhealthy", func() bool { return healthStatus(t, d, "sick") == "unhealthy" })

	evs := pastEvents(t, d, since, "{{.Action}}", "container=sick")
	dies := 0
	for _, a := range evs {
		switch {
		case a == "exec_die":
			dies++
		case a == "exec_create: /bin/sh -c echo probing; exit 1" || a == "exec_start: /bin/sh -c echo probing; exit 1":
		case strings.HasPrefix(a, "health_status"):
			if a != "health_status: unhealthy" || dies != 2 {
				t.Fatalf("%q after %d probes, want unhealthy after 2:\n%s", a, dies, strings.Join(evs, "\n"))
			}
			dies = -100 // seen
		}
	}
	if dies >= 0 {
		t.Fatalf("no health_status event:\n%s", strings.Join(evs, "\n"))
	}
	out := mustDocker(t, d, "inspect", "--format", "{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "sick")
	if !strings.HasSuffix(out, " 1 probing") || strings.HasPrefix(out, "0 ") || strings.HasPrefix(out, "1 ") {
		t.Fatalf("streak, exit code, output: %q", out)
	}
	if ps := mustDocker(t, d, "ps", "--filter", "health=unhealthy", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(ps, "sick Up ") || !strings.HasSuffix(ps, " (unhealthy)") {
		t.Fatalf("ps --filter health=unhealthy: %q", ps)
	}
}

// A container is "starting" until its first successful probe, then
// healthy; ps shows both and filters on them; a probe that outlives
// --health-timeout is killed and counts as a failure.
func TestHealthcheckStartingThenHealthy(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "run", "-d", "--name", "slow", "--net", "none", "--health-cmd", "cat /tmp/ready",
		"--health-interval", "100ms", "--health-retries", "1000000", "busybox", "sleep", "600")
	if st := healthStatus(t, d, "slow"); st != "starting" {
		t.Fatalf("before the first success: %q", st)
	}
	if ps := mustDocker(t, d, "ps", "--filter", "health=starting", "--format", "{{.Status}}"); !strings.HasSuffix(ps, " (health: starting)") {
		t.Fatalf("ps while starting: %q", ps)
	}
	mustDocker(t, d, "exec", "slow", "touch", "/tmp/ready")
	testutil.Eventually(t, 30*time.Second, "healthy", func() bool { return healthStatus(t, d, "slow") == "healthy" })
	if ps := mustDocker(t, d, "ps", "--format", "{{.Status}}"); !strings.HasSuffix(ps, " (healthy)") {
		t.Fatalf("ps when healthy: %q", ps)
	}
	if ids := mustDocker(t, d, "ps", "-q", "--filter", "health=starting"); ids != "" {
		t.Fatalf("health=starting lists %q", ids)
	}
	if r := d.Docker("ps", "--filter", "health=sleepy"); r.Code == 0 || !strings.Contains(r.Stderr, "Unrecognised filter value for health: sleepy") {
		t.Fatalf("ps --filter health=sleepy: %d %s", r.Code, r.Combined())
	}

	mustDocker(t, d, "run", "-d", "--name", "hung", "--net", "none", "--health-cmd", "sleep 600",
		"--health-timeout", "200ms", "--health-interval", "100ms", "--health-retries", "1", "busybox", "sleep", "600")
	testutil.Eventually(t, 30*time.Second, "timed-out probe", func() bool { return healthStatus(t, d, "hung") == "unhealthy" })
	out := mustDocker(t, d, "inspect", "--format", "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "hung")
	if out != "-1 Health check exceeded timeout (200ms)" {
		t.Fatalf("timed-out probe: %q", out)
	}
	if top := mustDocker(t, d, "top", "hung"); strings.Count(top, "sleep 600") > 2 {
		t.Fatalf("timed-out probes were not killed:\n%s", top)
	}
}

// The image's HEALTHCHECK runs (merged with the flags field by field, as
// dockerd merges them), and --no-healthcheck turns it off.
func TestHealthcheckFromImage(t *testing.T) {
	d := preload.StartDaemon(t)
	dir := t.TempDir()
	dockerfile := "FROM busybox\nHEALTHCHECK --interval=100ms --retries=1 CMD [\"true\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	d.MustCLI("build", "-q", "-t", "checked", dir)
	mustDocker(t, d, "run", "-d", "--name", "img", "--net", "none", "checked", "sleep", "600")
	testutil.Eventually(t, 30*time.Second, "healthy from the image's HEALTHCHECK", func() bool { return healthStatus(t, d, "img") == "healthy" })

	// the flag (here through our CLI) replaces the test, the image's
	// interval and retries stay
	d.MustCLI("run", "-d", "--name", "flag", "--net", "none", "--health-cmd", "false", "checked", "sleep", "600")
	testutil.Eventually(t, 30*time.Second, "unhealthy from --health-cmd", func() bool { return healthStatus(t, d, "flag") == "unhealthy" })
	if hc := mustDocker(t, d, "inspect", "--format", "{{json .Config.Healthcheck}}", "flag"); hc != `{"Test":["CMD-SHELL","false"],"Interval":100000000,"Retries":1}` {
		t.Fatalf("merged healthcheck: %s", hc)
	}

	mustDocker(t, d, "run", "-d", "--name", "off", "--net", "none", "--no-healthcheck", "checked", "sleep", "600")
	if h := mustDocker(t, d, "inspect", "--format", "{{json .State.Health}}", "off"); h != "null" {
		t.Fatalf("--no-healthcheck: State.Health %s", h)
	}
}

// Bad healthcheck settings are refused with dockerd's messages, and
// nothing is created.
func TestHealthcheckValidation(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--health-cmd", "true", "--health-interval", "500us"}, "Interval in Healthcheck cannot be less than 1ms"},
		{[]string{"--health-cmd", "true", "--health-timeout", "10us"}, "Timeout in Healthcheck cannot be less than 1ms"},
		{[]string{"--health-cmd", "true", "--health-start-period", "1us"}, "StartPeriod in Healthcheck cannot be less than 1ms"},
		{[]string{"--health-cmd", "true", "--health-interval", "-1s"}, "--health-interval cannot be negative"},
		{[]string{"--health-cmd", "true", "--no-healthcheck"}, "--no-healthcheck conflicts with --health-* options"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := d.Docker(append(append([]string{"create", "--net", "none"}, c.args...), "busybox", "true")...)
			if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("create %v: exit %d %s, want %q", c.args, r.Code, r.Combined(), c.want)
			}
		})
	}
	if r := d.CLI("create", "--net", "none", "--health-retries=-2", "busybox", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "--health-retries cannot be negative") {
		t.Fatalf("our CLI, --health-retries -2: exit %d %s", r.Code, r.Combined())
	}
	// through the API: Retries and the test kind
	for body, want := range map[string]string{
		`{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"Retries":-1}}`: "Retries in Healthcheck cannot be negative",
		`{"Image":"busybox","Healthcheck":{"Test":["SOMETIMES","true"]}}`:        `unknown Healthcheck type \"SOMETIMES\"`,
	} {
		t.Run(want, func(t *testing.T) {
			resp, err := d.HTTPClient().Post("http://docker/containers/create", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			msg := readAll(resp)
			if resp.StatusCode != 400 || !strings.Contains(msg, want) {
				t.Fatalf("%s: %d %s, want 400 %s", body, resp.StatusCode, msg, want)
			}
		})
	}
	if ids := mustDocker(t, d, "ps", "-aq"); ids != "" {
		t.Fatalf("refused creates left containers: %q", ids)
	}
}

// The checker stops with its container and starts again with it, from
// "starting"; after a daemon restart with live-restore the running
// container keeps its status and its checker runs again. A long start
// period makes every status below stable until the test changes
// /tmp/ok: failures count only once the container has been healthy.
func TestHealthcheckAcrossStopAndLiveRestore(t *testing.T) {
	d := preload.StartDaemon(t, "--live-restore")
	mustDocker(t, d, "run", "-d", "--name", "svc", "--net", "none", "--health-cmd", "cat /tmp/ok", "--health-start-period", "1h",
		"--health-interval", "100ms", "--health-retries", "1", "busybox", "sleep", "600")
	if st := healthStatus(t, d, "svc"); st != "starting" {
		t.Fatalf("failures in the start period: %q, want starting", st)
	}
	mustDocker(t, d, "exec", "svc", "touch", "/tmp/ok")
	testutil.Eventually(t, 30*time.Second, "healthy", func() bool { return healthStatus(t, d, "svc") == "healthy" })
	mustDocker(t, d, "exec", "svc", "rm", "/tmp/ok")
	testutil.Eventually(t, 30*time.Second, "unhealthy", func() bool { return healthStatus(t, d, "svc") == "unhealthy" })

	d.Restart()
	if st := healthStatus(t, d, "svc"); st != "unhealthy" {
		t.Fatalf("after a live-restore restart: %q, want the status kept", st)
	}
	mustDocker(t, d, "exec", "svc", "touch", "/tmp/ok")
	testutil.Eventually(t, 30*time.Second, "healthy: the restored checker runs", func() bool { return healthStatus(t, d, "svc") == "healthy" })
	mustDocker(t, d, "exec", "svc", "rm", "/tmp/ok")
	testutil.Eventually(t, 30*time.Second, "unhealthy again", func() bool { return healthStatus(t, d, "svc") == "unhealthy" })

	mustDocker(t, d, "stop", "-t", "1", "svc")
	if ps := mustDocker(t, d, "ps", "-a", "--format", "{{.Status}}"); strings.Contains(ps, "health") {
		t.Fatalf("ps of a stopped container: %q", ps)
	}
	mustDocker(t, d, "start", "svc")
	if st := healthStatus(t, d, "svc"); st != "starting" {
		t.Fatalf("after start: %q, want starting again", st)
	}
}

// readAll is a response's body as text (and closes it).
func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// StartInterval came with API 1.44: a request of an older client has
// none (dockerd drops it), a newer one's is kept.
func TestHealthcheckStartIntervalNeedsAPI144(t *testing.T) {
	d := preload.StartDaemon(t)
	body := `{"Image":"busybox","Cmd":["true"],"Healthcheck":{"Test":["CMD","true"],"StartInterval":5000000}}`
	for version, want := range map[string]time.Duration{"v1.43": 0, "v1.44": 5 * time.Millisecond} {
		t.Run(version, func(t *testing.T) {
			resp, err := d.HTTPClient().Post("http://docker/"+version+"/containers/create", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var created struct{ Id string }
			if err := json.Unmarshal([]byte(readAll(resp)), &created); err != nil || resp.StatusCode != 201 {
				t.Fatalf("create: %d %v", resp.StatusCode, err)
			}
			resp, err = d.HTTPClient().Get("http://docker/containers/" + created.Id + "/json")
			if err != nil {
				t.Fatal(err)
			}
			var insp struct {
				Config struct {
					Healthcheck struct{ StartInterval time.Duration }
				}
			}
			if err := json.Unmarshal([]byte(readAll(resp)), &insp); err != nil {
				t.Fatal(err)
			}
			if got := insp.Config.Healthcheck.StartInterval; got != want {
				t.Fatalf("StartInterval %v, want %v", got, want)
			}
		})
	}
}

package networking

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// composeBin is Debian's docker-compose 1.29.2 (scripts/setup-host.sh
// installs it).
func composeBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("docker-compose")
	if err != nil {
		if testutil.InCI() {
			t.Fatal("docker-compose is not installed (scripts/setup-host.sh installs it)")
		}
		t.Skip("docker-compose is not installed (scripts/setup-host.sh installs it)")
	}
	return p
}

// compose runs docker-compose on the project in testdata/compose against d.
func compose(t *testing.T, d *testutil.Daemon, project string, port int, args ...string) string {
	t.Helper()
	cmd := exec.Command(composeBin(t), append([]string{"-p", project}, args...)...)
	cmd.Dir = filepath.Join("testdata", "compose")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host, "WEB_PORT="+strconv.Itoa(port),
		"COMPOSE_INTERACTIVE_NO_CLI=1", "DOCKER_BUILDKIT=0", "COMPOSE_DOCKER_CLI_BUILD=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose %s: %v\n%s\ndaemon log:\n%s", strings.Join(args, " "), err, out, tail(d.Log(), 40))
	}
	return string(out)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestCompose: docker-compose 1.29.2 builds and runs a three-service
// project FROM our busybox, with a named volume, two networks, service
// names resolved by the embedded DNS, depends_on (web waits for db's
// healthcheck: service_healthy), environment and a port published on the
// host; it lists, logs, execs, stops, starts, leaves a
// second up alone, scales, and `down -v` leaves nothing behind.
func TestCompose(t *testing.T) {
	composeBin(t)
	d := startDaemon(t)
	project := "shop" + testutil.RandomHex(3)
	port := freePort(t)
	t.Cleanup(func() { compose(t, d, project, port, "down", "-v", "--rmi", "local") })

	compose(t, d, project, port, "up", "-d", "--build")
	page := fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/db", port)
	if got := httpGet(t, page, nil); got != "hello from db\n" {
		t.Fatalf("host → web → db: %q", got)
	}
	ps := compose(t, d, project, port, "ps")
	for _, svc := range []string{"_db_1", "_web_1", "_worker_1"} {
		if !strings.Contains(ps, project+svc) || !strings.Contains(ps, "Up") {
			t.Fatalf("ps:\n%s", ps)
		}
	}
	// up waited for db's healthcheck before it started web
	if !regexp.MustCompile(project + `_db_1 .* Up \(healthy\)`).MatchString(ps) {
		t.Fatalf("ps does not show db healthy:\n%s", ps)
	}
	if st := mustDocker(t, d, "inspect", "--format", "{{.State.Health.Status}}", project+"_db_1"); st != "healthy" {
		t.Fatalf("db's health: %q", st)
	}
	// worker (front) reaches web by name; db is on back only
	if out := compose(t, d, project, port, "exec", "-T", "worker", "wget", "-qO-", "http://web/cgi-bin/db"); out != "hello from db\n" {
		t.Fatalf("worker → web: %q", out)
	}
	if r := d.Docker("exec", project+"_worker_1", "nslookup", "db"); r.Code == 0 {
		t.Fatalf("worker resolves db, which is on a network it is not on:\n%s", r.Combined())
	}
	compose(t, d, project, port, "stop")
	if out := mustDocker(t, d, "ps", "-q", "--filter", "label=com.docker.compose.project="+project); out != "" {
		t.Fatalf("running after stop: %q", out)
	}
	compose(t, d, project, port, "start")
	if got := httpGet(t, page, nil); got != "hello from db\n" {
		t.Fatalf("after stop/start: %q", got)
	}
	if logs := compose(t, d, project, port, "logs", "--no-color", "web"); !strings.Contains(logs, "web_1") {
		t.Fatalf("logs: %q", logs)
	}
	ids := mustDocker(t, d, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+project)
	out := compose(t, d, project, port, "up", "-d")
	if again := mustDocker(t, d, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+project); again != ids || strings.Contains(out, "Recreating") {
		t.Fatalf("a second up changed something:\n%s\nbefore %q after %q", out, ids, again)
	}
	compose(t, d, project, port, "up", "-d", "--scale", "worker=3")
	workers := mustDocker(t, d, "ps", "-q", "--filter", "label=com.docker.compose.service=worker", "--filter", "label=com.docker.compose.project="+project)
	if n := len(strings.Fields(workers)); n != 3 {
		t.Fatalf("scale worker=3: %d running", n)
	}
	compose(t, d, project, port, "down", "-v")
	for _, what := range [][]string{{"ps", "-aq"}, {"volume", "ls", "-q"}, {"network", "ls", "-q", "--filter", "type=custom"}} {
		if out := mustDocker(t, d, what...); out != "" {
			t.Fatalf("%v after down -v: %q", what, out)
		}
	}
}

func mustDocker(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	r := d.Docker(args...)
	if r.Code != 0 {
		t.Fatalf("docker %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Combined())
	}
	return strings.TrimSpace(r.Stdout)
}

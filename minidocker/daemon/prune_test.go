package daemon_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestContainerPruneRemovesOnlyStopped: container prune removes the
// created and exited containers its filters select (records, directories,
// nothing left), never a running or paused one, and refuses bad filters.
func TestContainerPruneRemovesOnlyStopped(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "run", "--name", "exited", "--net", "none", "busybox", "sh", "-c", "head -c 1000 /dev/zero > /f")
	exited := d.Inspect("exited")["Id"].(string)
	created := mustDocker(t, d, "create", "--name", "created", "--net", "none", "busybox", "true")
	mustDocker(t, d, "run", "--name", "kept", "--net", "none", "--label", "keep=yes", "busybox", "true")
	kept := d.Inspect("kept")["Id"].(string)
	mustDocker(t, d, "run", "-d", "--name", "running", "--net", "none", "busybox", "sleep", "600")
	mustDocker(t, d, "run", "-d", "--name", "paused", "--net", "none", "busybox", "sleep", "600")
	mustDocker(t, d, "pause", "paused")

	for _, c := range []struct{ filter, want string }{
		{"until=soon", "failed to parse value as time or duration"},
		{"name=x", "invalid filter 'name'"},
	} {
		if r := d.Docker("container", "prune", "-f", "--filter", c.filter); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Fatalf("prune --filter %s: %d %q, want %q", c.filter, r.Code, r.Stderr, c.want)
		}
	}
	// until=1h: all are younger than an hour, nothing goes
	if out := mustRun(t, d, "container", "prune", "-f", "--filter", "until=1h"); out != "Total reclaimed space: 0B" {
		t.Fatalf("our prune until=1h: %q", out)
	}
	out := mustDocker(t, d, "container", "prune", "-f", "--filter", "label!=keep=yes")
	for _, id := range []string{exited, created} {
		if !strings.Contains(out, id) {
			t.Errorf("prune did not report %s:\n%s", id, out)
		}
	}
	if !strings.HasPrefix(out, "Deleted Containers:\n") || !strings.HasSuffix(out, "Total reclaimed space: 1kB") {
		t.Errorf("prune output:\n%s", out)
	}
	if ps := mustDocker(t, d, "ps", "-a", "--format", "{{.Names}}"); ps != "paused\nrunning\nkept" {
		t.Fatalf("containers left after prune: %q", ps)
	}
	for _, id := range []string{exited, created} {
		testutil.Eventually(t, 10*time.Second, "the directory of "+id, func() bool {
			_, err := os.Stat(filepath.Join(d.DataRoot, "containers", id))
			return os.IsNotExist(err)
		})
	}
	// the label filter selects the rest that is not running
	out = mustDocker(t, d, "container", "prune", "-f", "--filter", "label=keep=yes", "--filter", "until=0s")
	if !strings.Contains(out, kept) {
		t.Fatalf("prune label=keep=yes: %s", out)
	}
	if left, _ := cgroups.List(d.Cgroup); len(left) != 2 {
		t.Fatalf("cgroups after prune: %v (want the running and the paused one)", left)
	}
}

// TestNetworkPruneRemovesUnused: network prune removes the user networks
// no running container is on, with their bridges, and keeps the others.
func TestNetworkPruneRemovesUnused(t *testing.T) {
	d := preload.StartDaemon(t)
	unused := mustDocker(t, d, "network", "create", "unused")
	mustDocker(t, d, "network", "create", "--label", "keep=yes", "labelled")
	mustDocker(t, d, "network", "create", "busy")
	t.Cleanup(func() { d.Docker("rm", "-f", "user"); d.Docker("network", "rm", "labelled", "busy", "unused") })
	mustDocker(t, d, "run", "-d", "--name", "user", "--net", "busy", "busybox", "sleep", "600")

	if r := d.Docker("network", "prune", "-f", "--filter", "driver=bridge"); r.Code == 0 || !strings.Contains(r.Stderr, "invalid filter 'driver'") {
		t.Fatalf("network prune --filter driver: %d %q", r.Code, r.Stderr)
	}
	out := mustDocker(t, d, "network", "prune", "-f", "--filter", "label!=keep=yes")
	if out != "Deleted Networks:\nunused" {
		t.Fatalf("network prune: %q", out)
	}
	mustDocker(t, d, "network", "create", "unused2")
	if out := mustRun(t, d, "network", "prune", "-f", "--filter", "label!=keep=yes"); out != "Deleted Networks:\nunused2" {
		t.Fatalf("our network prune: %q", out)
	}
	if err := exec.Command("ip", "link", "show", "br-"+unused[:12]).Run(); err == nil {
		t.Fatalf("the bridge of the pruned network is still there")
	}
	if ls := mustDocker(t, d, "network", "ls", "--format", "{{.Name}}"); ls != "bridge\nbusy\nhost\nlabelled\nnone" {
		t.Fatalf("networks after prune: %q", ls)
	}
}

// TestDiskUsageAndSizes: ps -s, inspect -s and system df count the bytes
// a container wrote, its image and a volume, exactly.
func TestDiskUsageAndSizes(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "volume", "create", "vol")
	mustDocker(t, d, "run", "--name", "writer", "--net", "none", "-v", "vol:/vol", "busybox", "sh", "-c",
		"head -c 1048576 /dev/zero > /big; echo hello > /vol/v")
	id := d.Inspect("writer")["Id"].(string)
	var imageSize int64
	if err := json.Unmarshal([]byte(mustDocker(t, d, "image", "inspect", "-f", "{{.Size}}", "busybox")), &imageSize); err != nil || imageSize < 1e6 {
		t.Fatalf("image size %d, %v", imageSize, err)
	}
	want := map[string]any{"SizeRw": float64(1 << 20), "SizeRootFs": float64(1<<20 + imageSize)}

	insp := d.Inspect("writer") // without --size: no sizes
	if _, ok := insp["SizeRw"]; ok {
		t.Fatalf("inspect without --size has SizeRw: %v", insp["SizeRw"])
	}
	var sized []map[string]any
	if err := json.Unmarshal([]byte(mustDocker(t, d, "inspect", "-s", "writer")), &sized); err != nil {
		t.Fatal(err)
	}
	code, body := apiCall(t, d, "GET", "/containers/json?all=1&size=1", "")
	var ps []map[string]any
	if err := json.Unmarshal([]byte(body), &ps); code != 200 || err != nil || len(ps) != 1 {
		t.Fatalf("ps size=1: %d %s", code, body)
	}
	for k, v := range want {
		if sized[0][k] != v || ps[0][k] != v {
			t.Errorf("%s: inspect -s %v, ps -s %v, want %v", k, sized[0][k], ps[0][k], v)
		}
	}
	if s := mustDocker(t, d, "ps", "-a", "-s", "--format", "{{.Size}}"); !strings.HasPrefix(s, "1.05MB (virtual ") {
		t.Errorf("ps -s: %q", s)
	}

	code, body = apiCall(t, d, "GET", "/system/df", "")
	var df struct {
		LayersSize int64
		Images     []struct {
			ID                           string
			Size, SharedSize, Containers int64
		}
		Containers []struct {
			ID                 string
			SizeRw, SizeRootFs int64
		}
		Volumes []struct {
			Name      string
			UsageData struct{ Size, RefCount int64 }
		}
		BuildCache []any
	}
	if err := json.Unmarshal([]byte(body), &df); code != 200 || err != nil {
		t.Fatalf("system df: %d %s", code, body)
	}
	if df.LayersSize != imageSize || len(df.Images) != 1 || df.Images[0].Size != imageSize || df.Images[0].Containers != 1 ||
		len(df.Containers) != 1 || df.Containers[0].ID != id || df.Containers[0].SizeRw != 1<<20 ||
		len(df.Volumes) != 1 || df.Volumes[0].UsageData.Size != 6 || df.Volumes[0].UsageData.RefCount != 1 || df.BuildCache == nil {
		t.Fatalf("system df: %s", body)
	}
	if code, body := apiCall(t, d, "GET", "/system/df?type=volume", ""); code != 200 || strings.Contains(body, `"Images"`) || !strings.Contains(body, `"vol"`) {
		t.Fatalf("system df type=volume: %d %s", code, body)
	}
	if code, body := apiCall(t, d, "GET", "/system/df?type=disk", ""); code != 400 || !strings.Contains(body, "unknown object type: disk") {
		t.Fatalf("system df type=disk: %d %s", code, body)
	}
	out := mustDocker(t, d, "system", "df")
	if ours := d.MustCLI("system", "df"); strings.TrimSpace(ours) != out {
		t.Errorf("our system df:\n%s\ndocker's:\n%s", ours, out)
	}
	for _, line := range []string{"Images          1         1", "Containers      1         0         1.049MB   1.049MB (100%)", "Local Volumes   1         1         6B        0B (0%)", "Build Cache     0         0         0B        0B"} {
		if !strings.Contains(out, line) {
			t.Errorf("system df lacks %q:\n%s", line, out)
		}
	}
}

// TestSystemPrune: docker system prune -a --volumes calls every prune
// endpoint; what a running container uses stays (its image under every
// tag), the rest goes: the stopped container, the idle network, the
// anonymous volume, the image nothing uses. A named volume stays, as with
// docker (volume prune takes anonymous ones unless told --all).
func TestSystemPrune(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "tag", "busybox", "other:1")
	mustDocker(t, d, "volume", "create", "named")
	mustDocker(t, d, "run", "-d", "--name", "alive", "--net", "none", "busybox", "sleep", "600")
	for _, cli := range []func(...string) testutil.Result{d.Docker, d.CLI} {
		systemPrune(t, d, cli)
	}
}

func systemPrune(t *testing.T, d *testutil.Daemon, cli func(...string) testutil.Result) {
	mustDocker(t, d, "network", "create", "idle")
	mustDocker(t, d, "run", "--name", "done", "--net", "none", "-v", "/anon", "busybox", "touch", "/x")
	anon := mustDocker(t, d, "inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "done")
	mustDocker(t, d, "commit", "done", "spare:1")
	r := cli("system", "prune", "-a", "-f", "--volumes")
	out := r.Stdout
	if r.Code != 0 {
		t.Fatalf("system prune: %d %s", r.Code, r.Combined())
	}
	for _, want := range []string{"Deleted Containers:", "Deleted Networks:\nidle", "Deleted Volumes:\n" + anon, "untagged: spare:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("system prune output lacks %q:\n%s", want, out)
		}
	}
	if ps := mustDocker(t, d, "ps", "-a", "--format", "{{.Names}}"); ps != "alive" {
		t.Errorf("containers after system prune: %q", ps)
	}
	// two tags of one image: their order in the list is not defined
	if im := strings.Fields(mustDocker(t, d, "images", "--format", "{{.Repository}}:{{.Tag}}")); !slices.Equal(slices.Sorted(slices.Values(im)), []string{"busybox:latest", "other:1"}) {
		t.Errorf("images after system prune: %q", im)
	}
	if v := mustDocker(t, d, "volume", "ls", "-q"); v != "named" {
		t.Errorf("volumes after system prune: %q", v)
	}
}

package daemon_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/registry"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// The stress run's size: stressClients clients, each doing up to
// stressOps random operations; a client stops early (and the run says
// so) once stressBudget has passed, so the run stays bounded on a loaded
// machine. The watchdog, not the budget, decides what is a hang.
const (
	stressClients = 8
	stressOps     = 40
	stressBudget  = 45 * time.Second
)

// stressRun is what the clients share: the daemon, what exists now (so
// that operations pick real targets) and the tally of what happened.
type stressRun struct {
	t        *testing.T
	d        *testutil.Daemon
	c        *http.Client
	w        *watchdog
	registry string // host:port of the registry on 127.0.0.1
	deadline time.Time

	mu           sync.Mutex
	containers   []string
	images       []string // tags made by tag, pull and build
	networks     []string
	counts       map[string]int // "op code" → how many
	stoppedEarly int            // clients that stopped at the time budget
	failures     []string
}

// TestStress runs stressClients clients at once against one daemon, each
// doing random ps, inspect, create, start, rm, rmi, tag, pull (from a
// registry on 127.0.0.1), build, network create and network rm. It fails
// on a hang (the watchdog dumps the daemon's goroutines), on an answer no
// interleaving explains (any 5xx, a failed pull or build), on a data race
// (scripts/test.sh runs it once more with a daemon built with -race) and
// on anything left behind once everything is removed.
func TestStress(t *testing.T) {
	d := preload.StartDaemon(t)
	r := &stressRun{t: t, d: d, c: apiClient(d), counts: map[string]int{}, registry: startStressRegistry(t)}
	d.MustCLI("tag", "busybox", r.registry+"/stress/busybox")
	d.MustCLI("push", r.registry+"/stress/busybox")
	d.MustCLI("rmi", r.registry+"/stress/busybox")
	layersBefore := layerDirs(t, d)

	r.deadline = time.Now().Add(stressBudget)
	r.w = startWatchdog(t, d)
	var wg sync.WaitGroup
	for i := 0; i < stressClients; i++ {
		subnet := testutil.FreeSubnet(t, 24).String() // each client's networks, one at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.client(i, subnet)
		}()
	}
	wg.Wait()
	r.w.stop()
	r.report()

	r.removeEverything()
	if out := strings.TrimSpace(d.MustCLI("ps", "-aq")); out != "" {
		t.Errorf("containers left: %s", out)
	}
	if tags := r.imageTags(); strings.Join(tags, " ") != "busybox:latest" {
		t.Errorf("images left besides busybox: %v", tags)
	}
	if after := layerDirs(t, d); strings.Join(after, " ") != strings.Join(layersBefore, " ") {
		t.Errorf("layers before the run %v, after removing everything %v", layersBefore, after)
	}
	d.Stop()
	if strings.Contains(d.Log(), "DATA RACE") {
		t.Errorf("the daemon reported a data race:\n%s", d.Log())
	}
	if left, _ := os.ReadDir(filepath.Join(d.DataRoot, "containers")); len(left) > 0 {
		t.Errorf("container directories left: %v", left)
	}
}

// client does up to stressOps random operations.
func (r *stressRun) client(n int, subnet string) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano() + int64(n)))
	ops := []struct {
		name string
		do   func(rng *rand.Rand, n, i int)
	}{
		{"ps", r.ps}, {"ps", r.ps}, {"inspect", r.inspect}, {"inspect", r.inspect},
		{"create", r.create}, {"create", r.create}, {"start", r.start}, {"rm", r.rm},
		{"rmi", r.rmi}, {"rmi", r.rmi}, {"tag", r.tag}, {"pull", r.pull}, {"build", r.build},
		{"network create", func(rng *rand.Rand, n, i int) { r.networkCreate(n, i, subnet) }},
		{"network rm", r.networkRm},
	}
	for i := 0; i < stressOps; i++ {
		if time.Now().After(r.deadline) {
			r.mu.Lock()
			r.stoppedEarly++
			r.mu.Unlock()
			return
		}
		op := ops[rng.Intn(len(ops))]
		op.do(rng, n, i)
		r.w.tick()
		if r.w.fired.Load() {
			return
		}
	}
}

// record counts one answer and keeps it as a failure unless its code is
// one of ok.
func (r *stressRun) record(op string, code int, body string, ok ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[fmt.Sprintf("%s %d", op, code)]++
	for _, want := range ok {
		if code == want {
			return
		}
	}
	if !r.w.fired.Load() {
		r.failures = append(r.failures, fmt.Sprintf("%s: %d %s", op, code, strings.TrimSpace(body)))
	}
}

func (r *stressRun) pick(rng *rand.Rand, list *[]string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(*list) == 0 {
		return "none"
	}
	return (*list)[rng.Intn(len(*list))]
}

func (r *stressRun) add(list *[]string, v string) {
	r.mu.Lock()
	*list = append(*list, v)
	r.mu.Unlock()
}

func (r *stressRun) ps(*rand.Rand, int, int) {
	code, body := call(r.c, "GET", "/containers/json?all=1", "")
	r.record("ps", code, body, http.StatusOK)
}

func (r *stressRun) inspect(rng *rand.Rand, _, _ int) {
	code, body := call(r.c, "GET", "/containers/"+r.pick(rng, &r.containers)+"/json", "")
	r.record("inspect", code, body, http.StatusOK, http.StatusNotFound)
}

// create makes a container that publishes a port, from busybox or from
// an image the run made, on the default bridge or a run's network.
func (r *stressRun) create(rng *rand.Rand, _, _ int) {
	img := "busybox"
	if rng.Intn(2) == 0 {
		if tag := r.pick(rng, &r.images); tag != "none" {
			img = tag
		}
	}
	netMode := "default"
	if rng.Intn(3) == 0 {
		netMode = r.pick(rng, &r.networks)
	}
	body := fmt.Sprintf(`{"Image":%q,"Cmd":["sleep","300"],"HostConfig":{"NetworkMode":%q,`+
		`"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]}}}`, img, netMode)
	code, out := call(r.c, "POST", "/containers/create", body)
	r.record("create", code, out, http.StatusCreated, http.StatusNotFound)
	var created struct{ Id string }
	if code == http.StatusCreated && json.Unmarshal([]byte(out), &created) == nil {
		r.add(&r.containers, created.Id)
	}
}

// start: 404 when another client removed the container or its network,
// 409 when it is being removed.
func (r *stressRun) start(rng *rand.Rand, _, _ int) {
	code, body := call(r.c, "POST", "/containers/"+r.pick(rng, &r.containers)+"/start", "")
	r.record("start", code, body, http.StatusNoContent, http.StatusNotModified, http.StatusNotFound, http.StatusConflict)
}

func (r *stressRun) rm(rng *rand.Rand, _, _ int) {
	code, body := call(r.c, "DELETE", "/containers/"+r.pick(rng, &r.containers)+"?force=1", "")
	r.record("rm", code, body, http.StatusNoContent, http.StatusNotFound, http.StatusConflict)
}

// rmi removes one of the run's tags: only an untag for a tag or a pull
// (busybox keeps its name and ID), a delete for a build, refused (409)
// while a container uses it.
func (r *stressRun) rmi(rng *rand.Rand, _, _ int) {
	ref := r.pick(rng, &r.images)
	code, body := call(r.c, "DELETE", "/images/"+ref, "")
	r.record("rmi", code, body, http.StatusOK, http.StatusNotFound, http.StatusConflict)
}

func (r *stressRun) tag(_ *rand.Rand, n, i int) {
	repo := fmt.Sprintf("stress/tag%d", n)
	code, body := call(r.c, "POST", "/images/busybox/tag?repo="+repo+"&tag="+fmt.Sprint(i), "")
	r.record("tag", code, body, http.StatusCreated)
	if code == http.StatusCreated {
		r.add(&r.images, fmt.Sprintf("%s:%d", repo, i))
	}
}

// pull fetches the pushed busybox from the registry on 127.0.0.1.
func (r *stressRun) pull(*rand.Rand, int, int) {
	ref := r.registry + "/stress/busybox"
	code, body := call(r.c, "POST", "/images/create?fromImage="+url.QueryEscape(ref)+"&tag=latest", "")
	if code == http.StatusOK && strings.Contains(body, `"errorDetail"`) {
		code = 599 // a stream that ends in an error
	}
	r.record("pull", code, body, http.StatusOK)
	if code == http.StatusOK {
		r.add(&r.images, ref+":latest")
	}
}

// build runs a Dockerfile with a RUN (a container of the builder's) whose
// output is unique, so that no build is a cache hit.
func (r *stressRun) build(_ *rand.Rand, n, i int) {
	tag := fmt.Sprintf("stress/build%d:%d", n, i)
	dockerfile := fmt.Sprintf("FROM busybox\nRUN echo %d-%d > /built\n", n, i)
	code, body := callBody(r.c, "POST", "/build?t="+url.QueryEscape(tag), "application/x-tar", buildContext(dockerfile))
	if code == http.StatusOK && strings.Contains(body, `"errorDetail"`) {
		code = 599
	}
	r.record("build", code, body, http.StatusOK)
	if code == http.StatusOK {
		r.add(&r.images, tag)
	}
}

func (r *stressRun) networkCreate(n, i int, subnet string) {
	name := fmt.Sprintf("stress%d-%d", n, i)
	body := fmt.Sprintf(`{"Name":%q,"IPAM":{"Config":[{"Subnet":%q}]}}`, name, subnet)
	code, out := call(r.c, "POST", "/networks/create", body)
	// 403: this client's subnet is still taken by its previous network
	r.record("network create", code, out, http.StatusCreated, http.StatusForbidden)
	if code == http.StatusCreated {
		r.add(&r.networks, name)
	}
}

// networkRm: 403 while containers are attached, as docker answers.
func (r *stressRun) networkRm(rng *rand.Rand, _, _ int) {
	code, body := call(r.c, "DELETE", "/networks/"+r.pick(rng, &r.networks), "")
	r.record("network rm", code, body, http.StatusNoContent, http.StatusNotFound, http.StatusForbidden, http.StatusConflict)
}

// report logs the tally (the counts of the closing note) and fails on
// every unexplained answer.
func (r *stressRun) report() {
	keys := make([]string, 0, len(r.counts))
	total := 0
	for k, n := range r.counts {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-30s %d\n", k, r.counts[k])
	}
	r.t.Logf("stress: %d clients, %d operations of at most %d (%d clients stopped at the time budget); op, HTTP code: count:\n%s",
		stressClients, total, stressClients*stressOps, r.stoppedEarly, b.String())
	for _, f := range r.failures {
		r.t.Error(f)
	}
}

// removeEverything removes what the run made, through the API, so that the
// leak checks can see what removal forgets.
func (r *stressRun) removeEverything() {
	for _, id := range r.containers {
		code, body := call(r.c, "DELETE", "/containers/"+id+"?force=1", "")
		if code != http.StatusNoContent && code != http.StatusNotFound {
			r.t.Errorf("rm -f %s: %d %s", id, code, body)
		}
	}
	for _, name := range r.networks {
		code, body := call(r.c, "DELETE", "/networks/"+name, "")
		if code != http.StatusNoContent && code != http.StatusNotFound {
			r.t.Errorf("network rm %s: %d %s", name, code, body)
		}
	}
	for _, ref := range r.images {
		code, body := call(r.c, "DELETE", "/images/"+url.PathEscape(ref)+"?force=1", "")
		if code != http.StatusOK && code != http.StatusNotFound {
			r.t.Errorf("rmi -f %s: %d %s", ref, code, body)
		}
	}
}

// imageTags are the tags of every image, sorted.
func (r *stressRun) imageTags() []string {
	code, body := call(r.c, "GET", "/images/json", "")
	var list []struct{ RepoTags []string }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil {
		r.t.Fatalf("images: %d %s", code, body)
	}
	var tags []string
	for _, im := range list {
		tags = append(tags, im.RepoTags...)
	}
	sort.Strings(tags)
	return tags
}

// startStressRegistry serves our registry on 127.0.0.1 from this process.
func startStressRegistry(t *testing.T) string {
	reg, err := registry.New(registry.Options{Root: t.TempDir(), Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// layerDirs are the image store's layer directories (not their .lock files).
func layerDirs(t *testing.T, d *testutil.Daemon) []string {
	entries, err := os.ReadDir(filepath.Join(d.DataRoot, "image", "layers"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

// buildContext is a build context (a tar) holding only a Dockerfile.
func buildContext(dockerfile string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	tw.Write([]byte(dockerfile))
	tw.Close()
	return buf.Bytes()
}

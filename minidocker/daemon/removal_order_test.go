package daemon_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// A removal takes what it removes in docker's order: the anonymous
// volumes (of `rm -v`, or of --rm) go before the container is marked
// removed and before its "destroy" event. So when `run --rm` returns, or
// `rm -v` answers, `volume ls` no longer lists the anonymous volume (a
// named one stays), the container's name is free, its image can be
// removed without -f and its network has no endpoint left; and `docker
// events` shows the volume's destroy before the container's. The loop
// gives the race between the answer and the rest of the removal its
// chances to show.
func TestRemovalTakesAnonymousVolumesBeforeItAnswers(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "volume", "create", "keep")
	const rounds = 20
	for i := 0; i < rounds; i++ {
		img, net := fmt.Sprintf("rmorder-img:%d", i), fmt.Sprintf("rmorder-net%d", i)
		mustDocker(t, d, "create", "--name", "rmorder-base", "--net", "none", "busybox", "true")
		mustDocker(t, d, "commit", "rmorder-base", img) // an image only the --rm container uses
		mustDocker(t, d, "rm", "rmorder-base")
		mustDocker(t, d, "network", "create", net)
		since := sinceNow()
		mustDocker(t, d, "run", "--rm", "--name", "rmorder", "--network", net, "-v", "/data", "-v", "keep:/keep", img, "true")
		assertOnlyVolumeKept(t, d, fmt.Sprintf("round %d: after run --rm returned", i))
		mustDocker(t, d, "run", "--name", "rmorder", "--net", "none", "busybox", "true") // the name is free
		mustDocker(t, d, "rm", "rmorder")
		mustDocker(t, d, "rmi", img)           // no container uses it any more
		mustDocker(t, d, "network", "rm", net) // no endpoint is left on it
		// the volume's destroy comes before the container's (the second
		// destroy is the rm of the named container, which took no volume)
		assertDestroys(t, d, since, fmt.Sprintf("round %d", i), "volume destroy", "container destroy", "container destroy")
	}
	since := sinceNow()
	mustDocker(t, d, "run", "--name", "rmorder-v", "--net", "none", "-v", "/data", "-v", "keep:/keep", "busybox", "true")
	mustDocker(t, d, "rm", "-v", "rmorder-v")
	assertOnlyVolumeKept(t, d, "after rm -v answered")

	assertDestroys(t, d, since, "rm -v", "volume destroy", "container destroy")

	// a --rm container whose start fails is removed with its volume too
	if r := d.Docker("run", "--rm", "--net", "none", "-v", "/data", "busybox", "/no/such/cmd"); r.Code == 0 {
		t.Fatalf("run of a missing command succeeded: %s", r.Combined())
	}
	assertOnlyVolumeKept(t, d, "after a --rm run whose start failed returned")
}

// assertOnlyVolumeKept fails unless the named volume "keep" is the only
// volume left.
func assertOnlyVolumeKept(t *testing.T, d *testutil.Daemon, when string) {
	t.Helper()
	if out := mustDocker(t, d, "volume", "ls", "-q"); out != "keep" {
		t.Fatalf("%s, volume ls -q lists %q, want only keep", when, out)
	}
	// and nothing of the anonymous one is left on disk either
	if dirs, _ := filepath.Glob(filepath.Join(d.DataRoot, "volumes", "*")); len(dirs) != 1 || filepath.Base(dirs[0]) != "keep" {
		t.Fatalf("%s, the volume store holds %v, want only keep", when, dirs)
	}
}

// sinceNow is the present as events' --since takes it (seconds.nanoseconds).
func sinceNow() string {
	now := time.Now()
	return fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())
}

// assertDestroys checks the container and volume destroy events since
// since, in their order.
func assertDestroys(t *testing.T, d *testutil.Daemon, since, when string, want ...string) {
	t.Helper()
	got := pastEvents(t, d, since, "{{.Type}} {{.Action}}", "event=destroy", "type=container", "type=volume")
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("%s: destroy events %v, want %v", when, got, want)
	}
}

// The same through the API, with no CLI between the answer and the next
// question: the volume list asked the moment `wait?condition=removed`
// (run --rm's wait) answers no longer holds the anonymous volume.
func TestAutoRemoveAnswersAfterItsVolumeIsGone(t *testing.T) {
	d := preload.StartDaemon(t)
	api := apiClient(d)
	for i := 0; i < 20; i++ {
		code, body := call(api, "POST", "/containers/create", `{"Image":"busybox","Cmd":["true"],"Volumes":{"/data":{}},"HostConfig":{"AutoRemove":true,"NetworkMode":"none"}}`)
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var created struct{ Id string }
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		waited := make(chan string, 1)
		go func() {
			code, body := call(api, "POST", "/containers/"+created.Id+"/wait?condition=removed", "")
			waited <- fmt.Sprint(code, " ", body)
		}()
		// the wait is taken before the start, as the CLI does
		testutil.Eventually(t, 10*time.Second, "the wait is registered", func() bool {
			return strings.Contains(d.Log(), "/containers/"+created.Id+"/wait")
		})
		if code, body := call(api, "POST", "/containers/"+created.Id+"/start", ""); code != 204 {
			t.Fatalf("start: %d %s", code, body)
		}
		if w := <-waited; !strings.HasPrefix(w, "200 ") {
			t.Fatalf("wait: %s", w)
		}
		if code, body := call(api, "GET", "/volumes", ""); code != 200 || !strings.Contains(body, `"Volumes":[]`) {
			t.Fatalf("round %d: volumes once the removal answered: %d %s", i, code, body)
		}
	}
}

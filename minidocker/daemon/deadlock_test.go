package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// watchdog catches a wedged daemon. Every finished API call ticks it; when
// nothing has finished for stallAfter, it sends the daemon SIGQUIT (the Go
// runtime then prints every goroutine's stack to the daemon's log and
// exits, which also unblocks the test's pending calls) and fails the test
// with that dump. It measures progress, not speed: a slow machine only
// makes calls slow, a deadlock makes them never finish.
type watchdog struct {
	t     *testing.T
	d     *testutil.Daemon
	ticks atomic.Int64
	fired atomic.Bool
	done  chan struct{}
	wg    sync.WaitGroup
}

const stallAfter = 30 * time.Second

func startWatchdog(t *testing.T, d *testutil.Daemon) *watchdog {
	w := &watchdog{t: t, d: d, done: make(chan struct{})}
	w.wg.Add(1)
	go w.watch()
	return w
}

func (w *watchdog) tick() { w.ticks.Add(1) }

func (w *watchdog) watch() {
	defer w.wg.Done()
	last, since := w.ticks.Load(), time.Now()
	for {
		select {
		case <-w.done:
			return
		case <-time.After(time.Second):
		}
		if n := w.ticks.Load(); n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) < stallAfter {
			continue
		}
		w.fired.Store(true)
		_ = syscall.Kill(w.d.Pid(), syscall.SIGQUIT)
		return
	}
}

// stop ends the watch and fails the test if it fired, with the daemon's
// goroutine dump.
func (w *watchdog) stop() {
	close(w.done)
	w.wg.Wait()
	if !w.fired.Load() {
		return
	}
	testutil.Eventually(w.t, 20*time.Second, "the daemon's goroutine dump", func() bool {
		return strings.Contains(w.d.Log(), "goroutine ")
	})
	w.t.Fatalf("the daemon made no progress for %s: wedged. Its goroutines:\n%s", stallAfter, w.d.Log())
}

// apiClient talks to the daemon's socket without a timeout of its own:
// the watchdog decides what counts as a hang.
func apiClient(d *testutil.Daemon) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.Socket)
		},
	}}
}

// call does one API request with a JSON body (or none) and returns its
// status code (0 when the daemon could not be reached, e.g. after the
// watchdog killed it) and body.
func call(c *http.Client, method, path, body string) (int, string) {
	return callBody(c, method, path, "application/json", []byte(body))
}

// callBody is call with a body of any content type.
func callBody(c *http.Client, method, path, contentType string, body []byte) (int, string) {
	req, err := http.NewRequest(method, "http://minidocker"+path, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Issue 10, finding 1: `ps` and a refused `rmi` at the same time wedged the
// daemon. ps held a container's lock and then asked the image store for the
// image's exposed ports; rmi held the image store's lock and then asked
// every container whether it used the image. Ten created containers that
// publish a port, one loop of rmi (refused: in use), one loop of ps -a.
func TestPsAndRmiDoNotDeadlock(t *testing.T) {
	d := preload.StartDaemon(t)
	for i := 0; i < 10; i++ {
		d.MustCLI("create", "-p", "127.0.0.1::80", "busybox", "true")
	}
	c := apiClient(d)
	w := startWatchdog(t, d)
	const rounds = 1500
	var wg sync.WaitGroup
	errs := make(chan string, 2)
	loop := func(what string, op func() (int, string), want int) {
		defer wg.Done()
		for i := 0; i < rounds; i++ {
			code, body := op()
			w.tick()
			if code == 0 {
				return // the watchdog killed the daemon
			}
			if code != want {
				errs <- fmt.Sprintf("%s, round %d: %d %s", what, i, code, body)
				return
			}
		}
	}
	wg.Add(2)
	go loop("rmi busybox", func() (int, string) { return call(c, "DELETE", "/images/busybox", "") }, http.StatusConflict)
	go loop("ps -a", func() (int, string) { return call(c, "GET", "/containers/json?all=1", "") }, http.StatusOK)
	wg.Wait()
	w.stop()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if out := d.MustCLI("images", "-q"); strings.TrimSpace(out) == "" {
		t.Fatal("busybox is gone although ten containers use it")
	}
}

package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/version"
)

// daemon serves handler on a unix socket, as minidocker's daemon does, and
// returns a client for it.
func daemon(t *testing.T, handler http.HandlerFunc) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New(WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// Every status the daemon answers becomes the error kind the CLI tests for,
// with the daemon's words behind docker's prefix.
func TestStatusBecomesErrorKind(t *testing.T) {
	kinds := []struct {
		status int
		is     func(error) bool
		name   string
	}{
		{404, cerrdefs.IsNotFound, "not found"},
		{409, cerrdefs.IsConflict, "conflict"},
		{400, cerrdefs.IsInvalidArgument, "invalid"},
		{401, cerrdefs.IsUnauthorized, "unauthorized"},
		{403, cerrdefs.IsPermissionDenied, "forbidden"},
		{422, cerrdefs.IsInvalidArgument, "another 4xx"},
		{500, cerrdefs.IsInternal, "internal"},
		{503, cerrdefs.IsUnavailable, "unavailable"},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
				jsonError(w, k.status, "No such container: nosuch\n")
			})
			_, err := c.ContainerInspect(context.Background(), "nosuch", ContainerInspectOptions{})
			if err == nil || !k.is(err) {
				t.Fatalf("status %d: err %v is not %s", k.status, err, k.name)
			}
			if want := "Error response from daemon: No such container: nosuch"; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			if IsErrConnectionFailed(err) {
				t.Error("a daemon's answer is not a connection failure")
			}
		})
	}
}

// A plain-text error body is the message as it is; a HEAD answer has no
// body, so the status line stands in for it.
func TestErrorWithoutJSON(t *testing.T) {
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		http.Error(w, "page not found", http.StatusNotFound)
	})
	_, err := c.ContainerTop(context.Background(), "x", ContainerTopOptions{})
	if err == nil || err.Error() != "Error response from daemon: page not found" || !cerrdefs.IsNotFound(err) {
		t.Errorf("plain text: %v", err)
	}
	_, err = c.ContainerStatPath(context.Background(), "x", ContainerStatPathOptions{Path: "/etc"})
	if err == nil || !cerrdefs.IsNotFound(err) || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("HEAD: %v", err)
	}
}

func TestConnectionFailed(t *testing.T) {
	c, err := New(WithHost("unix://" + filepath.Join(t.TempDir(), "nobody.sock")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Info(context.Background(), InfoOptions{})
	if !IsErrConnectionFailed(err) {
		t.Fatalf("err %v is not a connection failure", err)
	}
	if !strings.Contains(err.Error(), "nobody.sock") {
		t.Errorf("message %q does not name the socket", err)
	}
}

func TestWithHostRefusesUnknownProtocols(t *testing.T) {
	for _, h := range []string{"ssh://x", "/var/run/x.sock", "unix://"} {
		if _, err := New(WithHost(h)); err == nil {
			t.Errorf("WithHost(%q) accepted", h)
		}
	}
}

// Requests name the daemon's API version, carry the query the daemon
// reads, and send no request at all for an empty ID.
func TestRequestShape(t *testing.T) {
	var got *http.Request
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Write([]byte("[]"))
	})
	f := Filters{}.Add("label", "a=b")
	if _, err := c.ContainerList(context.Background(), ContainerListOptions{All: true, Filters: f}); err != nil {
		t.Fatal(err)
	}
	if want := "/v" + version.APIVersion + "/containers/json"; got.URL.Path != want {
		t.Errorf("path %q, want %q", got.URL.Path, want)
	}
	if q := got.URL.Query(); q.Get("all") != "1" || q.Get("filters") != `{"label":{"a=b":true}}` {
		t.Errorf("query %v", q)
	}
	if got.Host != DummyHost {
		t.Errorf("Host %q on a unix socket, want %q", got.Host, DummyHost)
	}
	got = nil
	if _, err := c.ContainerStart(context.Background(), " ", ContainerStartOptions{}); !cerrdefs.IsInvalidArgument(err) || got != nil {
		t.Errorf("empty ID: err %v, request sent %v", err, got != nil)
	}
}

// The wait is registered with the daemon before ContainerWait returns; its
// answer comes later on Result, a failure on Error.
func TestContainerWait(t *testing.T) {
	release := make(chan struct{})
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "nosuch") {
			jsonError(w, 404, "No such container: nosuch")
			return
		}
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-release
		json.NewEncoder(w).Encode(container.WaitResponse{StatusCode: 3})
	})
	wait := c.ContainerWait(context.Background(), "c1", ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	close(release)
	select {
	case res := <-wait.Result:
		if res.StatusCode != 3 {
			t.Errorf("status %d, want 3", res.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
	wait = c.ContainerWait(context.Background(), "nosuch", ContainerWaitOptions{})
	if err := <-wait.Error; !cerrdefs.IsNotFound(err) {
		t.Errorf("wait on a missing container: %v", err)
	}
}

// attachDaemon upgrades the connection and plays a container: it frames
// what it reads from stdin back as stdout, and a line on stderr.
func attachDaemon(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "nosuch") {
		jsonError(w, 404, "No such container: nosuch")
		return
	}
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	rw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	rw.Flush()
	stdin, _ := io.ReadAll(rw) // until the client half-closes
	conn.Write(frame(stdcopy.Stdout, bytes.ToUpper(stdin)))
	conn.Write(frame(stdcopy.Stderr, []byte("done\n")))
}

// frame is one stdcopy frame: stream byte, three zeros, big-endian length.
func frame(stream stdcopy.StdType, p []byte) []byte {
	n := len(p)
	return append([]byte{byte(stream), 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, p...)
}

// Attach hijacks the connection: stdin goes up, CloseWrite ends it, and the
// multiplexed output splits back into stdout and stderr.
func TestAttachHijackAndDemux(t *testing.T) {
	c := daemon(t, attachDaemon)
	res, err := c.ContainerAttach(context.Background(), "c1", ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if mt, ok := res.MediaType(); !ok || mt != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("media type %q", mt)
	}
	io.WriteString(res.Conn, "hello\n")
	if err := res.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, res.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "HELLO\n" || stderr.String() != "done\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// A refusal before the upgrade is the daemon's error, with its kind.
func TestHijackRefused(t *testing.T) {
	c := daemon(t, attachDaemon)
	_, err := c.ContainerAttach(context.Background(), "nosuch", ContainerAttachOptions{Stream: true, Stdout: true})
	if !cerrdefs.IsNotFound(err) || err.Error() != "Error response from daemon: No such container: nosuch" {
		t.Errorf("err %v", err)
	}
}

// Output the daemon sent right behind its 101 answer is not lost in the
// buffer that read the answer.
func TestHijackKeepsBytesAfterTheAnswer(t *testing.T) {
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nearly output")
	})
	res, err := c.ExecAttach(context.Background(), "e1", ExecAttachOptions{TTY: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	got, _ := io.ReadAll(bufio.NewReader(res.Reader))
	if string(got) != "early output" {
		t.Errorf("got %q", got)
	}
}

// A failed pull reports in its stream; the request itself answered 200.
func TestImagePullSendsAuthAndTag(t *testing.T) {
	var got *http.Request
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		io.WriteString(w, `{"status":"ok"}`)
	})
	rc, err := c.ImagePull(context.Background(), "localhost:5000/app", ImagePullOptions{RegistryAuth: "e30="})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	q := got.URL.Query()
	if q.Get("fromImage") != "localhost:5000/app" || q.Get("tag") != "latest" || got.Header.Get("X-Registry-Auth") != "e30=" {
		t.Errorf("query %v, auth %q", q, got.Header.Get("X-Registry-Auth"))
	}
	if _, err := c.ImagePull(context.Background(), "UPPER", ImagePullOptions{}); err == nil {
		t.Error("an invalid reference was sent")
	}
}

func TestVolumePruneAll(t *testing.T) {
	var filters string
	c := daemon(t, func(w http.ResponseWriter, r *http.Request) {
		filters = r.URL.Query().Get("filters")
		io.WriteString(w, `{}`)
	})
	if _, err := c.VolumePrune(context.Background(), VolumePruneOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if filters != `{"all":{"true":true}}` {
		t.Errorf("filters %q", filters)
	}
	_, err := c.VolumePrune(context.Background(), VolumePruneOptions{All: true, Filters: Filters{}.Add("all", "1")})
	if !cerrdefs.IsInvalidArgument(err) {
		t.Errorf("both all and an all filter: %v", err)
	}
}

// preparedEnv makes the test binary a fresh process that measures the first
// encode of a create body, after PrepareContainerCreate when it says so.
const preparedEnv = "MINIDOCKER_TEST_FIRST_CREATE_ENCODE"

// PrepareContainerCreate leaves a process's first ContainerCreate body
// nothing to build: encoding one with every part set then allocates about
// what encoding it a second time does. Fresh processes (this test binary
// again) measure the first encode, since this one may have made the
// encoders already; the unprepared one shows what the preparation takes off.
func TestPrepareContainerCreate(t *testing.T) {
	if mode := os.Getenv(preparedEnv); mode != "" {
		if mode == "prepared" {
			PrepareContainerCreate()
		}
		fmt.Println("allocs", firstCreateEncodeAllocs())
		return
	}
	allocs := func(mode string) int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrepareContainerCreate$")
		cmd.Env = append(os.Environ(), preparedEnv+"="+mode)
		out, err := cmd.CombinedOutput()
		var n int
		if _, serr := fmt.Sscanf(string(out), "allocs %d", &n); err != nil || serr != nil {
			t.Fatalf("%s: %v %v\n%s", mode, err, serr, out)
		}
		return n
	}
	cold, prepared := allocs("cold"), allocs("prepared")
	firstCreateEncodeAllocs()
	again := firstCreateEncodeAllocs()
	if prepared > again+10 || cold < prepared+500 {
		t.Errorf("first encode of a create body: %d allocations unprepared, %d prepared, %d for a second one", cold, prepared, again)
	}
}

// firstCreateEncodeAllocs is what encoding a create body with every part
// set allocates, as ContainerCreate sends it.
func firstCreateEncodeAllocs() int {
	body := container.CreateRequest{
		Config:     &container.Config{Image: "busybox", Cmd: []string{"true"}, Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}},
		HostConfig: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{}}}},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			"n": {IPAMConfig: &network.EndpointIPAMConfig{}}}},
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, _, err := encodeBody(body); err != nil {
		panic(err)
	}
	runtime.ReadMemStats(&after)
	return int(after.Mallocs - before.Mallocs)
}

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/minidocker/minidocker/minidocker/daemon"
)

// fuzzBackend stands in for the daemon behind the three routes whose JSON
// bodies FuzzRequestBodies sends: it accepts whatever the handler decoded
// and remembers it. Any other backend method is nil and would panic, which
// the fuzz target would report.
type fuzzBackend struct {
	containerBackend
	execBackend
	networkBackend
	calls int
}

func (b *fuzzBackend) CreateContainer(opts daemon.CreateOptions) (string, []string, error) {
	b.calls++
	return "0123456789ab", nil, nil
}

func (b *fuzzBackend) ExecCreate(ref string, req container.ExecCreateRequest) (string, error) {
	b.calls++
	return "e0123456789a", nil
}

func (b *fuzzBackend) CreateNetwork(req mobynet.CreateRequest) (string, error) {
	b.calls++
	return "n0123456789a", nil
}

// fuzzRoutes are the endpoints FuzzRequestBodies posts to, and the type a
// well-formed body decodes into (the oracle the handler is checked against).
var fuzzRoutes = []struct {
	path string
	body func() any
}{
	{"/v1.41/containers/create?name=fuzz", func() any { return &container.CreateRequest{} }},
	{"/v1.41/containers/box/exec", func() any { return &container.ExecCreateRequest{} }},
	{"/v1.41/networks/create", func() any { return &mobynet.CreateRequest{} }},
}

// FuzzRequestBodies posts arbitrary bodies to POST /containers/create,
// /containers/{id}/exec and /networks/create through the real router and
// handlers (issue 10, faults survived). Whatever the bytes:
//   - no panic (the fake backend panics too if a handler calls something
//     it should not);
//   - the status is 201 or 400, never a 500: garbage is the client's fault;
//   - 201 exactly when the body is one JSON value that decodes into the
//     endpoint's request type (json.Unmarshal decides, independently of the
//     handler's decoder), or is empty; the backend is called only then.
//
// Seeds: the f.Add lines (what the docker CLI sends, and broken variants)
// and testdata/fuzz/FuzzRequestBodies.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"Image":"busybox","Cmd":["sh"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"Memory":4194304}}`,
		`{"Image":"busybox","ExposedPorts":{"80/tcp":{}},"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}},"NetworkingConfig":{"EndpointsConfig":{"net":{"Aliases":["a"]}}}}`,
		`{"AttachStdout":true,"Tty":true,"Cmd":["sh","-c","echo hi"],"Env":["A=1"],"User":"1000","ConsoleSize":[24,80]}`,
		`{"Name":"net","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.99.0.0/24","Gateway":"10.99.0.1"}]},"Options":{"com.docker.network.bridge.name":"br0"}}`,
		`{"Image":"busybox"}}`, `{"Cmd":"not a list"}`, `{"HostConfig":{"Memory":-1e400}}`, `{"ExposedPorts":{"bad":{}}}`,
		`null`, ``, `  `, `[]`, `{`, `{"Image":"busybox"} {"Image":"again"}`, "\xff\xfe", `{"Tty":1}`,
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		be := &fuzzBackend{}
		s := &Server{}
		for _, set := range []routeSet{containerRouter{backend: be}, execRouter{backend: be}, networkRouter{backend: be}} {
			set.register(&s.routes)
		}
		req := httptest.NewRequest(http.MethodPost, rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)

		want := http.StatusCreated
		// only JSON's own white space makes a body empty: bytes.TrimSpace
		// would also drop "\v", which the decoder refuses
		if len(bytes.Trim(body, " \t\r\n")) > 0 && json.Unmarshal(body, rt.body()) != nil {
			want = http.StatusBadRequest
		}
		if rec.Code != want {
			t.Fatalf("POST %s with %q: %d %s, want %d", rt.path, body, rec.Code, rec.Body, want)
		}
		if called := be.calls > 0; called != (want == http.StatusCreated) {
			t.Fatalf("POST %s with %q: backend called %d times for a %d", rt.path, body, be.calls, rec.Code)
		}
	})
}

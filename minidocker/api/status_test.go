package api_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// send is one API call with a body of the given content type.
func send(t *testing.T, d *testutil.Daemon, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://minidocker"+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := d.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// createRunning starts `sleep 300` in a busybox container and returns its ID.
func createRunning(t *testing.T, d *testutil.Daemon) string {
	t.Helper()
	code, body := send(t, d, "POST", "/v1.41/containers/create", "application/json", `{"Image":"busybox","Cmd":["sleep","300"]}`)
	require.Equal(t, 201, code, body)
	var created struct{ Id string }
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	code, body = send(t, d, "POST", "/v1.41/containers/"+created.Id+"/start", "", "")
	require.Equal(t, 204, code, body)
	t.Cleanup(func() { send(t, d, "DELETE", "/v1.41/containers/"+created.Id+"?force=1", "", "") })
	return created.Id
}

// execCreate makes an exec instance and returns its ID.
func execCreate(t *testing.T, d *testutil.Daemon, cid, body string) string {
	t.Helper()
	code, resp := send(t, d, "POST", "/v1.41/containers/"+cid+"/exec", "application/json", body)
	require.Equal(t, 201, code, resp)
	var created struct{ Id string }
	require.NoError(t, json.Unmarshal([]byte(resp), &created))
	return created.Id
}

// TestStatusCodesOfBadRequests: the answers dockerd gives to requests that
// are the client's mistake or come too late (issue 11's list).
func TestStatusCodesOfBadRequests(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	cid := createRunning(t, d)
	_, img := send(t, d, "GET", "/v1.41/images/busybox/json", "", "")
	var inspected struct{ Id string }
	require.NoError(t, json.Unmarshal([]byte(img), &inspected))
	id := inspected.Id

	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		message                               string
	}{
		{"image name with an ID as its tag", "POST", "/v1.41/containers/create", "application/json",
			`{"Image":"busybox:` + id + `"}`, 400, "invalid reference format"},
		{"container resize with h=abc", "POST", "/v1.41/containers/" + cid + "/resize?h=abc&w=80", "", "",
			400, `invalid resize parameters: h="abc" w="80"`},
		{"a body that is not JSON by its Content-Type", "POST", "/v1.41/containers/create", "text/plain",
			`{"Image":"busybox"}`, 400, "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{"a body without a Content-Type", "POST", "/v1.41/networks/create", "",
			`{"Name":"x"}`, 400, "malformed Content-Type header ()"},
		{"data after the JSON body", "POST", "/v1.41/containers/create", "application/json",
			`{"Image":"busybox"} {"Image":"busybox"}`, 400, "unexpected content after JSON"},
		{"a tag named after the digest algorithm", "POST", "/v1.41/images/busybox/tag?repo=sha256&tag=x", "", "",
			400, "refusing to create an ambiguous tag using digest algorithm as name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, d, tc.method, tc.path, tc.contentType, tc.body)
			assert.Equal(t, tc.status, code, body)
			var e struct{ Message string }
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			assert.Contains(t, e.Message, tc.message)
		})
	}
	// nothing was made by the refused creates
	_, body := send(t, d, "GET", "/v1.41/containers/json?all=1", "", "")
	var list []struct{ Id string }
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	if assert.Len(t, list, 1) {
		assert.Equal(t, cid, list[0].Id)
	}
}

// TestResizeOfAFinishedExecIsAConflict: its terminal is gone (409, as the
// client's view is stale), not a server failure.
func TestResizeOfAFinishedExecIsAConflict(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	cid := createRunning(t, d)
	eid := execCreate(t, d, cid, `{"Cmd":["true"],"Tty":true}`)
	code, body := send(t, d, "POST", "/v1.41/exec/"+eid+"/start", "application/json", `{"Detach":true,"Tty":true}`)
	require.Equal(t, 200, code, body)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = send(t, d, "GET", "/v1.41/exec/"+eid+"/json", "", "")
		var ins struct{ Running bool }
		require.NoError(t, json.Unmarshal([]byte(body), &ins))
		if !ins.Running || time.Now().After(deadline) {
			require.False(t, ins.Running, "exec still running after 30s")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body = send(t, d, "POST", "/v1.41/exec/"+eid+"/resize?h=24&w=80", "", "")
	assert.Equal(t, 409, code, body)
	assert.Contains(t, body, "is not running")
}

// TestExecStartFramingFollowsTheStartRequest: as in dockerd, a client that
// starts a tty exec with Tty:false gets the multiplexed stream (8-byte
// frame headers), and with Tty:true the raw one.
func TestExecStartFramingFollowsTheStartRequest(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	cid := createRunning(t, d)
	for _, tc := range []struct {
		name        string
		startTty    bool
		contentType string
	}{
		{"Tty false", false, "application/vnd.docker.multiplexed-stream"},
		{"Tty true", true, "application/vnd.docker.raw-stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eid := execCreate(t, d, cid, `{"Cmd":["echo","hi"],"Tty":true,"AttachStdout":true}`)
			start, _ := json.Marshal(map[string]bool{"Tty": tc.startTty})
			conn, err := net.Dial("unix", d.Socket)
			require.NoError(t, err)
			defer conn.Close()
			_, err = io.WriteString(conn, "POST /v1.41/exec/"+eid+"/start HTTP/1.1\r\nHost: minidocker\r\n"+
				"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"+
				"Content-Length: "+strconv.Itoa(len(start))+"\r\n\r\n"+string(start))
			require.NoError(t, err)
			require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			assert.Equal(t, 101, resp.StatusCode)
			assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			out, _ := io.ReadAll(br)
			if tc.startTty {
				assert.Equal(t, "hi\r\n", string(out))
				return
			}
			require.GreaterOrEqual(t, len(out), 8, "%q", out)
			assert.Equal(t, byte(1), out[0], "stdout frame")
			assert.Equal(t, "hi\r\n", string(out[8:]))
		})
	}
}

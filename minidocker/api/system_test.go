package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

func get(t *testing.T, d *testutil.Daemon, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://minidocker"+path, nil)
	require.NoError(t, err)
	resp, err := d.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestPingHeadersAndVersionPrefixes(t *testing.T) {
	d := testutil.StartDaemon(t)

	resp, _ := get(t, d, "HEAD", "/_ping")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "1.51", resp.Header.Get("Api-Version"))
	assert.Equal(t, "linux", resp.Header.Get("Ostype"))
	assert.Contains(t, resp.Header.Get("Server"), "Minidocker/")

	resp, body := get(t, d, "GET", "/v1.41/version")
	assert.Equal(t, 200, resp.StatusCode)
	var v struct{ ApiVersion, MinAPIVersion, Os string }
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	assert.Equal(t, "1.51", v.ApiVersion)
	assert.Equal(t, "1.41", v.MinAPIVersion)

	resp, body = get(t, d, "GET", "/v1.12/info")
	assert.Equal(t, 400, resp.StatusCode)
	assert.JSONEq(t, `{"message":"client version 1.12 is too old. Minimum supported API version is 1.41, please upgrade your client to a newer version"}`, body)

	resp, body = get(t, d, "GET", "/v1.99/info")
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, body, "is too new")

	resp, body = get(t, d, "GET", "/v1.45/no/such/route")
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, `{"message":"page not found"}`, body)
}

func TestInfoReportsTheHost(t *testing.T) {
	d := testutil.StartDaemon(t)
	_, body := get(t, d, "GET", "/info")
	var info struct {
		NCPU           int
		MemTotal       int64
		KernelVersion  string
		CgroupVersion  string
		DockerRootDir  string
		OSType         string
		MemoryLimit    bool
		RegistryConfig struct{ InsecureRegistryCIDRs []string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	assert.Positive(t, info.NCPU)
	assert.Positive(t, info.MemTotal)
	assert.NotEmpty(t, info.KernelVersion)
	assert.Equal(t, d.DataRoot, info.DockerRootDir)
	assert.Contains(t, []string{"1", "2"}, info.CgroupVersion)
	assert.True(t, info.MemoryLimit, "-m is applied (the memory controller), so info must say so")
	assert.Equal(t, []string{"127.0.0.0/8", "::1/128"}, info.RegistryConfig.InsecureRegistryCIDRs)
}

func TestRealDockerCLI(t *testing.T) {
	d := testutil.StartDaemon(t)
	r := d.Docker("version")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Contains(t, r.Stdout, "Server: minidocker")
	assert.Contains(t, r.Stdout, "API version:      1.51 (minimum version 1.41)")

	r = d.Docker("info")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Contains(t, r.Stdout, "Docker Root Dir: "+d.DataRoot)
	assert.Contains(t, r.Stdout, "Cgroup Driver: cgroupfs")
	// the CLI's types read the firewall backend (28.2 does not print it yet)
	r = d.Docker("info", "--format", "{{.FirewallBackend.Driver}}")
	assert.Equal(t, "iptables\n", r.Stdout, r.Combined())
}

func TestOurCLIVersionAndInfo(t *testing.T) {
	d := testutil.StartDaemon(t)
	out := d.MustCLI("version")
	assert.Contains(t, out, "Client:\n Version:")
	assert.Contains(t, out, "Server: minidocker\n Engine:\n")
	out = d.MustCLI("info")
	assert.Contains(t, out, " Docker Root Dir: "+d.DataRoot)
	assert.Contains(t, out, " Insecure Registries:\n  127.0.0.0/8\n  ::1/128\n")
}

func TestSecondDaemonOnALiveSocketIsRefused(t *testing.T) {
	d := testutil.StartDaemon(t)
	second := testutil.NewDaemon(t)
	second.Socket, second.Host = d.Socket, d.Host
	second.WriteConfig("{}")
	cmd := exec.Command(second.Bin, second.DaemonArgs()...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a second daemon must not start")
	assert.Contains(t, string(out), "another daemon is already listening on "+d.Host)
	require.NoError(t, d.Ping(), "the first daemon keeps serving")
}

func TestStaleSocketIsReplacedAndSocketMode(t *testing.T) {
	d := testutil.NewDaemon(t)
	require.NoError(t, os.WriteFile(d.Socket, nil, 0o600))
	d.Start()
	t.Cleanup(d.Stop)
	st, err := os.Stat(d.Socket)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket|0o660, st.Mode()&(os.ModeSocket|os.ModePerm))
}

func TestBadDaemonJSONStopsTheDaemon(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"unknown key": {`{"registry-mirror": []}`, `unknown key "registry-mirror"`},
		"wrong type":  {`{"insecure-registries": "x"}`, `key "insecure-registries"`},
		"bad json":    {`{`, "bad JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			testutil.RequireRoot(t)
			d := testutil.NewDaemon(t)
			d.WriteConfig(tc.json)
			out, err := exec.Command(d.Bin, d.DaemonArgs()...).CombinedOutput()
			require.Error(t, err)
			assert.Contains(t, string(out), filepath.Join(d.Dir, "daemon.json"))
			assert.Contains(t, string(out), tc.want)
			_, statErr := os.Stat(d.Socket)
			assert.True(t, os.IsNotExist(statErr), "no socket is left behind")
		})
	}
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	d := testutil.NewDaemon(t)
	d.Start()
	d.Stop()
	assert.True(t, strings.Contains(d.Log(), "daemon stopped"), d.Log())
	_, err := os.Stat(filepath.Join(d.Dir, "minidocker.pid"))
	assert.True(t, os.IsNotExist(err), "pidfile removed")
}

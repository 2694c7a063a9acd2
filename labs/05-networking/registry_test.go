package networking

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Step 14 — the article's private registry, end to end:
//
//	docker run -d -p 5000:5000 --restart always --name registry registry:2
//	docker tag busybox localhost:5000/busybox && docker push localhost:5000/busybox
//	curl http://127.0.0.1:5000/v2/_catalog
//
// registry:2 is made here (scripts/mkregistry-image.sh): FROM scratch with
// only the static minidocker binary, run as `registry serve`. The push and
// pull go from the daemon on the host to 127.0.0.1:5000, which our DNAT
// rule sends into the container. With --restart always the registry comes
// back when its process is killed, and after the daemon restarts — also
// when it died while the daemon was away.
func TestRegistryContainer(t *testing.T) {
	// a daemon that keeps its network over a restart, as a real one does
	d := startDaemonKeepingNetwork(t)
	tmp := t.TempDir()

	// the image: built and loaded by the course's script
	cmd := exec.Command("bash", filepath.Join(testutil.RepoRoot(), "scripts", "mkregistry-image.sh"))
	cmd.Env = append(os.Environ(), "MINIDOCKER_HOST="+d.Host, "MD="+d.Bin, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "Loaded image: registry:2")
	hist := d.MustCLI("history", "--no-trunc", "registry:2")
	assert.Equal(t, 2, len(strings.Split(strings.TrimSpace(hist), "\n")), "one layer, FROM scratch:\n%s", hist)

	// the article's line (port 5000 unless someone on this machine has it)
	port := 5000
	if ln, err := net.Listen("tcp4", ":5000"); err != nil {
		port = freePort(t)
		t.Logf("port 5000 is taken on this machine: using %d", port)
	} else {
		ln.Close()
	}
	d.MustCLI("run", "-d", "-p", fmt.Sprintf("%d:5000", port), "--restart", "always", "--name", "registry", "registry:2")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	assert.Equal(t, `{"repositories":[]}`, strings.TrimSpace(httpGet(t, base+"/v2/_catalog", nil)))

	// tag, push, look, pull
	reg := fmt.Sprintf("localhost:%d", port)
	d.MustCLI("tag", "busybox", reg+"/busybox:latest")
	d.MustCLI("push", reg+"/busybox:latest")
	assert.Equal(t, `{"repositories":["busybox"]}`, strings.TrimSpace(httpGet(t, base+"/v2/_catalog", nil)))
	var tags struct {
		Name string
		Tags []string
	}
	require.NoError(t, json.Unmarshal([]byte(httpGet(t, base+"/v2/busybox/tags/list", nil)), &tags))
	assert.Equal(t, []string{"latest"}, tags.Tags)
	want := strings.TrimSpace(d.MustCLI("images", "-q", "--no-trunc", "busybox"))
	d.MustCLI("rmi", reg+"/busybox:latest")
	d.MustCLI("pull", reg+"/busybox:latest")
	assert.Equal(t, want, strings.TrimSpace(d.MustCLI("images", "-q", "--no-trunc", reg+"/busybox")), "the same image comes back")

	// killed: --restart always brings it back, with its data
	pid := d.ContainerPid("registry")
	require.NoError(t, killPid(pid))
	waitRestarted(t, d, "registry", pid)
	assert.Equal(t, `{"repositories":["busybox"]}`, strings.TrimSpace(httpGet(t, base+"/v2/_catalog", nil)))

	// the daemon restarts: its shutdown stops the registry, --restart always
	// starts it again at the next start, serving the same data
	d.Restart()
	assert.True(t, inspect(t, d, "registry").State.Running)
	assert.Equal(t, `{"repositories":["busybox"]}`, strings.TrimSpace(httpGet(t, base+"/v2/_catalog", nil)))

	// the registry dies while the daemon is away: the daemon brings it back at start
	pid = d.ContainerPid("registry")
	d.Kill9()
	require.NoError(t, killPid(pid))
	time.Sleep(300 * time.Millisecond)
	d.Start()
	waitRestarted(t, d, "registry", pid)
	assert.Equal(t, `{"repositories":["busybox"]}`, strings.TrimSpace(httpGet(t, base+"/v2/_catalog", nil)))
	r := d.CLI("run", "-d", "-p", fmt.Sprintf("%d:80", port), "busybox", "true")
	assert.Contains(t, r.Stderr, "port is already allocated", "the restarted registry holds its port")

	d.MustCLI("rm", "-f", "registry")
	assertNoTraces(t, d, "")
}

// waitRestarted waits until the container runs again with a new PID.
func waitRestarted(t *testing.T, d *testutil.Daemon, name string, oldPid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := inspect(t, d, name).State
		if st != nil && st.Running && st.Pid > 0 && st.Pid != oldPid {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not come back: %+v", name, inspect(t, d, name).State)
}

// startDaemonKeepingNetwork is startDaemon for a daemon that, like a real
// one, leaves running containers' networks in place when it stops (the test
// harness's --remove-network-on-exit is turned off); the bridge and chains
// are purged at the end instead.
func startDaemonKeepingNetwork(t *testing.T) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t, "--remove-network-on-exit=false")
	preload.Busybox(t, d)
	d.Start()
	t.Cleanup(func() {
		d.RemoveAllContainers()
		d.Stop()
		// what d.Purge does, with its error reported (and retried: iptables
		// may be busy with other daemons' rules on a loaded machine)
		var err error
		for try := 0; try < 3; try++ {
			if err = network.Purge(network.Config{
				BridgeName: d.Bridge, BridgeCIDR: d.Bip, ChainPrefix: d.Chain, IPTables: true,
				StateDir: filepath.Join(d.DataRoot, "network"), ExecRoot: d.ExecRoot,
			}); err == nil {
				break
			}
			t.Logf("removing the daemon's bridge and chains (try %d): %v", try+1, err)
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("removing the daemon's bridge and chains: %v", err)
		}
		d.AssertNoLeaks()
		d.Purge()
	})
	return d
}

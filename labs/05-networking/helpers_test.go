package networking

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/vishvananda/netlink"

	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// startDaemon starts an isolated daemon (own bridge, subnet, chains) with
// the offline busybox image already in its store, and checks at the end
// that nothing it made is left on the host.
func startDaemon(t *testing.T, extraArgs ...string) *testutil.Daemon {
	t.Helper()
	return startDaemonWith(t, nil, extraArgs...)
}

// startDaemonWith is startDaemon with a chance to add images to the store
// (its root directory is passed) before the daemon opens it.
func startDaemonWith(t *testing.T, prep func(store string), extraArgs ...string) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatal("iptables is not installed (scripts/setup-host.sh installs it)")
	}
	if err := network.EnableIPForward(); err != nil {
		t.Fatal(err)
	}
	d := testutil.NewDaemon(t, extraArgs...)
	preload.Busybox(t, d)
	if prep != nil {
		prep(filepath.Join(d.DataRoot, "image"))
	}
	d.StartWithCleanup()
	return d
}

// importImage makes a one-layer image from the host's static busybox (with
// sh, sleep, httpd) and Dockerfile-like changes, as `minidocker import -c`.
func importImage(t *testing.T, storeRoot, ref string, changes ...string) {
	t.Helper()
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("a static busybox is needed on the host: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))})
	tw.Write(bin)
	for _, applet := range []string{"sh", "sleep", "httpd", "ip", "cat"} {
		tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := image.Open(storeRoot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(context.Background(), &buf, ref, changes, ""); err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
}

// runD is `minidocker run -d ARGS...`; it returns the container ID.
func runD(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	return strings.TrimSpace(d.MustCLI(append([]string{"run", "-d"}, args...)...))
}

// inspect is `minidocker inspect ID`, decoded.
func inspect(t *testing.T, d *testutil.Daemon, id string) container.InspectResponse {
	t.Helper()
	var out []container.InspectResponse
	if err := json.Unmarshal([]byte(d.MustCLI("inspect", id)), &out); err != nil || len(out) != 1 {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return out[0]
}

// containerIP is the container's address on the network it runs on.
func containerIP(t *testing.T, d *testutil.Daemon, id string) netip.Addr {
	t.Helper()
	for _, ep := range inspect(t, d, id).NetworkSettings.Networks {
		if ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress
		}
	}
	t.Fatalf("container %s has no IP address", id)
	return netip.Addr{}
}

// gateway is the bridge's own address (10.66.N.1 on a test daemon).
func gateway(d *testutil.Daemon) netip.Addr {
	return netip.MustParsePrefix(d.Bip).Addr()
}

// freePort finds a TCP port nobody uses on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	// Below the kernel's ephemeral range (32768–60999 by default): a port
	// the test reuses across many runs must not be taken meanwhile as the
	// local port of some other process's outgoing connection.
	for try := 0; try < 100; try++ {
		port := 20000 + rand.Intn(12000)
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// httpGet fetches url from the host (or from a namespace through dial),
// retrying for a few seconds while the server in the container starts.
// Only 127.0.0.0/8 and addresses of namespaces the test made are used.
func httpGet(t *testing.T, url string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) string {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	if dial != nil {
		tr.DialContext = dial
	}
	c := &http.Client{Timeout: 3 * time.Second, Transport: tr}
	var last error
	for i := 0; i < 30; i++ {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// webServer runs busybox httpd on port 80 serving a page that names the
// container, and returns the container's ID.
func webServer(t *testing.T, d *testutil.Daemon, name string, args ...string) string {
	t.Helper()
	cmd := fmt.Sprintf("mkdir -p /www && echo hello from %s > /www/index.html && exec httpd -f -p 80 -h /www", name)
	all := append([]string{"--name", name}, args...)
	return runD(t, d, append(all, "busybox", "sh", "-c", cmd)...)
}

// assertNoTraces checks that a removed container left nothing: no nat rule
// naming it, no netns file, no endpoint record (its IP). With id "" it
// checks that no container left anything, including veths on the bridge.
func assertNoTraces(t *testing.T, d *testutil.Daemon, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := traces(d, id)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s left: %s", id[:12], strings.Join(left, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func traces(d *testutil.Daemon, id string) []string {
	var left []string
	out, _ := exec.Command("iptables-save", "-t", "nat").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if id != "" && strings.Contains(l, id) {
			left = append(left, "rule "+l)
		}
	}
	if id == "" {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, d.Chain) && strings.Contains(l, "-j DNAT") {
				left = append(left, "rule "+l)
			}
		}
	}
	if ports, _ := filepath.Glob("/sys/class/net/" + d.Bridge + "/brif/*"); id == "" && len(ports) > 0 {
		left = append(left, fmt.Sprintf("%d veth(s) on the bridge", len(ports)))
	}
	ents, _ := os.ReadDir(filepath.Join(d.ExecRoot, "netns"))
	for _, e := range ents {
		if id == "" || e.Name() == id {
			left = append(left, "netns file "+e.Name())
		}
	}
	eps, _ := os.ReadDir(filepath.Join(d.DataRoot, "network", "endpoints"))
	for _, e := range eps {
		if id == "" || e.Name() == id+".json" {
			left = append(left, "endpoint record (IP) "+e.Name())
		}
	}
	return left
}

// vethOf finds the host end of a container's veth pair: eth0's peer
// ifindex, read inside the container, is the host link's index.
func vethOf(t *testing.T, d *testutil.Daemon, id string) netlink.Link {
	t.Helper()
	out := strings.TrimSpace(d.MustCLI("exec", id, "cat", "/sys/class/net/eth0/iflink"))
	idx, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("iflink %q: %v", out, err)
	}
	l, err := netlink.LinkByIndex(idx)
	if err != nil {
		t.Fatalf("host link %d: %v", idx, err)
	}
	return l
}

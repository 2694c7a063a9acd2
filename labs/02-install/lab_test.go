// Lab 02 — installing (chapters/02-install).
//
// The article installs Docker, sets kernel parameters, and edits
// daemon.json to add registry mirrors and insecure registries. This lab
// checks what scripts/setup-host.sh left on the host and that the daemon
// really reads its daemon.json. Run it as root: `make lab-02`.
package install

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Step 1: the sysctls the article sets are on (setup-host.sh wrote them to
// /etc/sysctl.d/90-minidocker.conf and applied them).
func TestKernelParameters(t *testing.T) {
	testutil.RequireRoot(t)
	for _, name := range []string{"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"} {
		b, err := os.ReadFile("/proc/sys/" + name)
		require.NoError(t, err, "%s: is bridge netfilter available?", name)
		assert.Equal(t, "1", strings.TrimSpace(string(b)), name)
	}
	conf, err := os.ReadFile("/etc/sysctl.d/90-minidocker.conf")
	require.NoError(t, err, "setup-host.sh persists the settings")
	assert.Contains(t, string(conf), "net.ipv4.ip_forward")
}

// Step 2: `info` reports this host's cgroup version, as the kernel shows it.
func TestInfoShowsTheCgroupVersion(t *testing.T) {
	d := testutil.StartDaemon(t)
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs("/sys/fs/cgroup", &st))
	want := "1"
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		want = "2"
	}
	out := d.MustCLI("info")
	assert.Contains(t, out, " Cgroup Version: "+want+"\n")
}

// Step 3: daemon.json's registry-mirrors and insecure-registries reach the
// daemon, and `info` lists them — the article's mirror set-up.
func TestDaemonJSONMirrorsAndInsecureRegistries(t *testing.T) {
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t)
	cfg, _ := json.Marshal(map[string]any{
		"registry-mirrors":    []string{"https://mirror.invalid"},
		"insecure-registries": []string{"registry.invalid:5000", "192.0.2.0/24"},
	})
	d.WriteConfig(string(cfg))
	d.Start()
	t.Cleanup(d.Stop)

	out := d.MustCLI("info")
	assert.Contains(t, out, " Registry Mirrors:\n  https://mirror.invalid\n")
	assert.Contains(t, out, "  registry.invalid:5000\n")
	assert.Contains(t, out, "  192.0.2.0/24\n")
	assert.Contains(t, out, "  127.0.0.0/8\n", "loopback is always insecure")
}

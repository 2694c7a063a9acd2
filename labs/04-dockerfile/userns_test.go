// Lab 04, user namespaces (chapters/04-dockerfile/pid1-namespaces-cgroups.md,
// "7c. User namespaces"): with --userns-remap=default the container's root
// is uid 0 inside and an unprivileged uid on the host. The same file made by
// root in a container is 0 inside and 100000+ outside, and what the host's
// root may do through a container — write a root-only host file, mount a
// disk file system, make a disk's device node — is refused to
// the remapped root even with the capabilities and without seccomp. An
// exec'd process is that same remapped root.
package dockerfile

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// rootPowers tries, as root with CAP_SYS_ADMIN and CAP_MKNOD and no
// seccomp filter, three things only the host's root may do, on a host
// directory mounted at /host: write a file only root may write, mount a
// disk file system, make a disk's device node; it prints what happened to
// each, then makes /host/made and prints its owner inside.
const rootPowers = `echo more >> /host/root-only && echo write-ok || echo write-refused
mount -t ext4 /dev/null /tmp 2>&1 | grep -q 'permission denied' && echo ext4-refused || echo ext4-tried
mknod /tmp/sda b 8 0 2>/dev/null && echo mknod-ok || echo mknod-refused
touch /host/made && stat -c 'inside:%u' /host/made`

func TestUserNamespaceRemap(t *testing.T) {
	d := preload.StartDaemon(t, "--userns-remap=default")
	require.NoError(t, os.Chmod(d.Dir, 0o711)) // the remapped root must reach the bundle
	subuid, err := os.ReadFile("/etc/subuid")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^dockremap:(\d+):`).FindSubmatch(subuid)
	require.NotNil(t, m, "dockremap has a range in /etc/subuid")
	remapped, _ := strconv.Atoi(string(m[1]))

	try := func(flags ...string) (string, int) {
		// a host directory anyone may write to (like /tmp), with a file
		// only the host's root may write; the test's directories are
		// 0700, root's: opened to the remapped root
		host := t.TempDir()
		require.NoError(t, os.Chmod(filepath.Dir(host), 0o711))
		require.NoError(t, os.Chmod(host, 0o777))
		require.NoError(t, os.WriteFile(filepath.Join(host, "root-only"), []byte("x\n"), 0o644))
		args := append([]string{"run", "--rm", "--net", "none", "-v", host + ":/host",
			"--cap-add", "SYS_ADMIN", "--cap-add", "MKNOD", "--security-opt", "seccomp=unconfined"}, flags...)
		out := d.MustCLI(append(args, "busybox", "sh", "-c", rootPowers)...)
		var st syscall.Stat_t
		require.NoError(t, syscall.Stat(filepath.Join(host, "made"), &st))
		return out, int(st.Uid)
	}

	out, uid := try("--userns", "host")
	assert.Equal(t, "write-ok\next4-tried\nmknod-ok\ninside:0\n", out, "the host's root in a container")
	assert.Equal(t, 0, uid, "made by the host's root")

	out, uid = try()
	assert.Equal(t, "write-refused\next4-refused\nmknod-refused\ninside:0\n", out, "the remapped root")
	assert.Equal(t, remapped, uid, "the same file, made by root inside, belongs to dockremap's first subordinate uid")
	assert.True(t, remapped >= 100000, "%d", remapped)
	assert.True(t, strings.Contains(d.MustCLI("info"), "  userns\n"), "info lists userns under Security Options")

	// exec joins the same user namespace (through the container's
	// userns-helper): root inside, refused the host's root-only file, and
	// what it makes is the remapped uid's on the host
	host := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(host), 0o711))
	require.NoError(t, os.Chmod(host, 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(host, "root-only"), []byte("x\n"), 0o644))
	id := strings.TrimSpace(d.MustCLI("run", "-d", "--net", "none", "-v", host+":/host", "busybox", "sleep", "300"))
	out = d.MustCLI("exec", id, "sh", "-c", "id -u; echo more >> /host/root-only && echo write-ok || echo write-refused; touch /host/exec-made")
	assert.Equal(t, "0\nwrite-refused\n", out, "an exec'd process is the remapped root too")
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(host, "exec-made"), &st))
	assert.Equal(t, remapped, int(st.Uid), "the file an exec'd root made")
	d.MustCLI("rm", "-f", id)
}

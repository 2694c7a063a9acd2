// Lab 04, confinement (chapters/04-dockerfile/pid1-namespaces-cgroups.md,
// "Confinement"): each mechanism is proven by a system call that works in
// one container and is refused in another — capabilities, --privileged,
// no_new_privs, the read-only root with --tmpfs, and seccomp. A mechanism
// that is accepted but not applied fails here.
package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// statusField is one line's value of /proc/self/status of `sh -c` in a
// container started with flags.
func statusField(t *testing.T, d *testutil.Daemon, field string, flags ...string) string {
	t.Helper()
	args := append(flags, "busybox", "grep", field+":", "/proc/self/status")
	out := pid1Run(t, d, args...)
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), field+":"))
}

// refused runs `run --rm --net none FLAGS… busybox sh -c SCRIPT` and
// returns its output; the script must fail.
func refused(t *testing.T, d *testutil.Daemon, script string, flags ...string) string {
	t.Helper()
	args := append(append([]string{"run", "--rm", "--net", "none"}, flags...), "busybox", "sh", "-c", script)
	r := d.CLI(args...)
	require.NotEqual(t, 0, r.Code, "%q with %v should have been refused: %s", script, flags, r.Combined())
	return r.Combined()
}

// TestConfinementCapabilities: --cap-drop takes a capability away from PID
// 1 and from exec'd processes (chown fails), --cap-add gives one (ip link
// add needs CAP_NET_ADMIN), ALL works both ways.
func TestConfinementCapabilities(t *testing.T) {
	d := pid1Daemon(t)
	assert.Equal(t, "00000000a80425fb", statusField(t, d, "CapEff"), "docker's default set")
	pid1Run(t, d, "busybox", "chown", "1:1", "/tmp")
	out := refused(t, d, "chown 1:1 /tmp", "--cap-drop", "chown")
	assert.Contains(t, out, "Operation not permitted")
	assert.Equal(t, "00000000a80425fa", statusField(t, d, "CapEff", "--cap-drop", "CAP_CHOWN"))

	out = refused(t, d, "ip link add br9 type bridge")
	assert.Contains(t, out, "Operation not permitted")
	pid1Run(t, d, "--cap-add", "NET_ADMIN", "busybox", "ip", "link", "add", "br9", "type", "bridge")

	assert.Equal(t, "0000000000000000", statusField(t, d, "CapEff", "--cap-drop", "ALL"))
	assert.Equal(t, "0000000000000000", statusField(t, d, "CapBnd", "--cap-drop", "ALL"))
	assert.Equal(t, "0000000000001000", statusField(t, d, "CapBnd", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN"))
	assert.Equal(t, allCaps(t), statusField(t, d, "CapEff", "--cap-add", "ALL"))

	// exec'd processes get the container's set
	pid1Detached(t, d, "capdrop", "--cap-drop", "CHOWN", "busybox", "sleep", "1000")
	r := d.CLI("exec", "capdrop", "chown", "1:1", "/tmp")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "Operation not permitted")
	assert.Contains(t, d.MustCLI("exec", "capdrop", "grep", "CapBnd", "/proc/self/status"), "00000000a80425fa")
	d.MustCLI("exec", "--privileged", "capdrop", "chown", "1:1", "/tmp")
	d.MustCLI("rm", "-f", "capdrop")

	r = d.CLI("run", "--rm", "--cap-add", "FOO", "busybox", "true")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, `invalid CapAdd: unknown capability: "CAP_FOO"`)
	assert.Empty(t, strings.TrimSpace(d.MustCLI("ps", "-aq")), "a refused create leaves no container")
}

// allCaps is every capability the daemon can give: the bounding set of
// this (root) test process, as /proc/self/status shows it.
func allCaps(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return ""
}

// TestConfinementPrivileged: --privileged has every capability, no seccomp
// filter, a writable /sys, the host's devices and no masked /proc paths.
// `ip link add` (CAP_NET_ADMIN in the container's own network namespace)
// works only there. (A bridge, not docker's usual dummy: this kernel has
// no dummy driver.)
func TestConfinementPrivileged(t *testing.T) {
	d := pid1Daemon(t)
	out := refused(t, d, "ip link add br9 type bridge")
	assert.Contains(t, out, "Operation not permitted")
	pid1Run(t, d, "--privileged", "busybox", "ip", "link", "add", "br9", "type", "bridge")

	assert.Equal(t, allCaps(t), statusField(t, d, "CapEff", "--privileged"))
	assert.Equal(t, "0", statusField(t, d, "Seccomp", "--privileged"))
	mounts := pid1Run(t, d, "--privileged", "busybox", "cat", "/proc/mounts")
	assert.Regexp(t, `sysfs /sys sysfs rw,`, mounts)
	assert.NotContains(t, mounts, "/proc/keys", "nothing masked")
	assert.Contains(t, pid1Run(t, d, "busybox", "cat", "/proc/mounts"), "/proc/keys", "masked by default")
	hostDev := firstHostDevice(t)
	pid1Run(t, d, "--privileged", "busybox", "test", "-e", hostDev)
	refused(t, d, "test -e "+hostDev)
}

// firstHostDevice is a device node of the host that a default container
// does not have.
func firstHostDevice(t *testing.T) string {
	for _, p := range []string{"/dev/kmsg", "/dev/loop0", "/dev/tty1", "/dev/mem", "/dev/fuse"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeDevice != 0 {
			return p
		}
	}
	t.Fatal("the host has none of the usual device nodes")
	return ""
}

// TestConfinementNoNewPrivileges: no_new_privs is set only when asked, for
// PID 1 and exec'd processes.
func TestConfinementNoNewPrivileges(t *testing.T) {
	d := pid1Daemon(t)
	assert.Equal(t, "0", statusField(t, d, "NoNewPrivs"))
	assert.Equal(t, "1", statusField(t, d, "NoNewPrivs", "--security-opt", "no-new-privileges"))
	assert.Equal(t, "1", statusField(t, d, "NoNewPrivs", "--security-opt", "no-new-privileges=true"))
	pid1Detached(t, d, "nnp", "--security-opt", "no-new-privileges", "busybox", "sleep", "1000")
	assert.Contains(t, d.MustCLI("exec", "nnp", "grep", "NoNewPrivs", "/proc/self/status"), "1")
	d.MustCLI("rm", "-f", "nnp")
	r := d.CLI("create", "--security-opt", "no-new-privileges=maybe", "busybox")
	assert.Contains(t, r.Stderr, `invalid --security-opt 2: "no-new-privileges=maybe"`)
}

// TestConfinementReadOnly: --read-only makes writes to the root fail with
// EROFS; --tmpfs mounts a writable spot (noexec,nosuid,nodev by default).
func TestConfinementReadOnly(t *testing.T) {
	d := pid1Daemon(t)
	pid1Run(t, d, "busybox", "touch", "/x")
	out := refused(t, d, "touch /x", "--read-only")
	assert.Contains(t, out, "Read-only file system")
	mounts := pid1Run(t, d, "--read-only", "--tmpfs", "/scratch:size=1m,mode=0755", "busybox", "sh", "-c", "touch /scratch/x && cat /proc/mounts")
	assert.Regexp(t, `tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=755`, mounts)
	pid1Run(t, d, "--tmpfs", "/scratch:exec", "busybox", "sh", "-c", "cp /bin/busybox /scratch/ && /scratch/busybox true")
	refused(t, d, "cp /bin/busybox /scratch/ && /scratch/busybox true", "--tmpfs", "/scratch")
	r := d.CLI("create", "--tmpfs", "/scratch:nosuchopt", "busybox")
	assert.Contains(t, r.Stderr, `unknown tmpfs option "nosuchopt"`)
}

// TestConfinementSeccomp: docker's default profile refuses unshare (and
// clone with namespace flags) to PID 1 and to exec'd processes, while the
// usual commands work; seccomp=unconfined and --privileged lift it; a
// profile file of one's own applies.
func TestConfinementSeccomp(t *testing.T) {
	d := pid1Daemon(t)
	assert.Equal(t, "2", statusField(t, d, "Seccomp"), "filter mode")
	out := refused(t, d, "unshare -U true")
	assert.Contains(t, out, "Operation not permitted")
	pid1Run(t, d, "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")
	assert.Equal(t, "0", statusField(t, d, "Seccomp", "--security-opt", "seccomp=unconfined"))
	pid1Run(t, d, "busybox", "sh", "-c", "ls / >/dev/null && ps >/dev/null && wget -q -O /dev/null -T 1 http://127.0.0.1:1 2>/dev/null; date >/dev/null")

	pid1Detached(t, d, "filtered", "busybox", "sleep", "1000")
	r := d.CLI("exec", "filtered", "unshare", "-U", "true")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "Operation not permitted")
	d.MustCLI("rm", "-f", "filtered")

	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	require.NoError(t, os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`), 0o644))
	pid1Run(t, d, "busybox", "mkdir", "/newdir")
	out = refused(t, d, "mkdir /newdir", "--security-opt", "seccomp="+profile)
	assert.Contains(t, out, "Permission denied", "the profile's errno (EACCES)")
	pid1Run(t, d, "--security-opt", "seccomp="+profile, "busybox", "unshare", "-U", "true")

	// info says so, in docker's words (and docker's CLI reads it the same)
	assert.Contains(t, d.MustCLI("info"), " Security Options:\n  seccomp\n   Profile: builtin\n")
	assert.Contains(t, d.Docker("info").Stdout, " Security Options:\n  seccomp\n   Profile: builtin\n")
	// …and claims no cgroup namespace, which minidocker does not make
	assert.NotContains(t, d.MustCLI("info"), "cgroupns")
}

// TestConfinementThroughDockerCLI: the same settings sent by docker's own
// CLI (the Engine API fields CapDrop, ReadonlyRootfs, SecurityOpt, Tmpfs,
// Privileged) are applied, not accepted and ignored.
func TestConfinementThroughDockerCLI(t *testing.T) {
	d := pid1Daemon(t)
	docker := func(args ...string) testutil.Result {
		return d.Docker(append([]string{"run", "--rm", "--net", "none"}, args...)...)
	}
	r := docker("--cap-drop", "ALL", "--security-opt", "no-new-privileges", "busybox", "grep", "-E", "CapEff|NoNewPrivs|Seccomp:", "/proc/self/status")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Regexp(t, `CapEff:\s+0000000000000000`, r.Stdout)
	assert.Regexp(t, `NoNewPrivs:\s+1`, r.Stdout)
	assert.Regexp(t, `Seccomp:\s+2`, r.Stdout)
	r = docker("--read-only", "--tmpfs", "/run", "busybox", "sh", "-c", "touch /run/ok && touch /x")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "touch: /x: Read-only file system")
	r = docker("--privileged", "busybox", "ip", "link", "add", "br9", "type", "bridge")
	assert.Equal(t, 0, r.Code, r.Combined())
	r = docker("busybox", "unshare", "-U", "true")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "Operation not permitted")
	// --cap-add: the same syscall refused, then allowed
	r = docker("busybox", "ip", "link", "add", "br8", "type", "bridge")
	assert.Contains(t, r.Combined(), "Operation not permitted", "no NET_ADMIN by default")
	r = docker("--cap-add", "NET_ADMIN", "busybox", "ip", "link", "add", "br8", "type", "bridge")
	assert.Equal(t, 0, r.Code, "--cap-add NET_ADMIN: %s", r.Combined())
	// seccomp=<file>: the docker CLI reads the profile and sends its JSON
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	require.NoError(t, os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644))
	r = docker("--security-opt", "seccomp="+profile, "busybox", "mkdir", "/made")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Combined(), "Operation not permitted", "the profile refuses mkdir")
	// systempaths=unconfined: /proc/sys is no longer a read-only mount
	r = docker("--security-opt", "systempaths=unconfined", "busybox", "grep", "-c", " /proc/sys ", "/proc/self/mountinfo")
	assert.Equal(t, "0\n", r.Stdout, r.Combined())

	// a field minidocker does not implement is refused, not ignored
	r = d.Docker("create", "--oom-kill-disable", "busybox")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Stderr, "minidocker does not support HostConfig.OomKillDisable yet")
	assert.Empty(t, strings.TrimSpace(d.MustCLI("ps", "-aq")), "nothing was created")
}

// Lab 04 — what a container really is (chapters/04-dockerfile/pid1-namespaces-cgroups.md).
//
// Each test proves one sentence of the chapter against a real daemon, as
// root: the CMD is PID 1 and sees only its own processes; the hostname,
// the files, and the namespaces are the container's own, and `exec` joins
// exactly the namespaces of PID 1; a file installed inside never reaches
// the host; --memory, --pids-limit and --cpus are cgroup files the kernel
// enforces (an OOM kill is exit 137 with State.OOMKilled); `stop` of a PID
// 1 that ignores SIGTERM waits for the timeout; the daemon can die by
// kill -9 and the container lives on, manageable after the restart.
//
// Nothing here sleeps to synchronise: waiting is polling with a deadline.
// Everything starts with TestPID1 / TestContainer / pid1 so that the
// Dockerfile lab (build_test.go) can live beside it. Run: `make lab-04`.
//
// TestContainerMemoryLimitOOM also runs on a cgroup-v2-only kernel:
//
//	scripts/cgroup2-vm-test.sh -m 1024 -modules overlay,bridge -minidocker \
//	  -add build/busybox.tar:/busybox.tar -env MINIDOCKER_BUSYBOX_TAR=/busybox.tar \
//	  -run 'TestContainerMemoryLimitOOM|TestContainerCgroupFiles' -v ./labs/04-dockerfile
//
// The guest has busybox and no iptables, so testutil starts the daemon with
// --iptables=false when no iptables binary is found.
package dockerfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// pid1Daemon starts an isolated daemon with busybox:latest loaded. Every
// container of this lab runs with --net none: the network chapter proves
// the bridge; here a container still gets a network namespace of its own.
func pid1Daemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	return preload.StartDaemon(t) // without iptables (the cgroup-v2 VM), with --iptables=false
}

// pid1Run is `run --rm --net none ARGS…` that must succeed; its stdout.
func pid1Run(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	return d.MustCLI(append([]string{"run", "--rm", "--net", "none"}, args...)...)
}

func pid1State(t *testing.T, d *testutil.Daemon, name string) map[string]any {
	t.Helper()
	return d.Inspect(name)["State"].(map[string]any)
}

// pid1Detached starts `run -d --net none --name NAME FLAGS… busybox CMD…`
// and waits until it runs.
func pid1Detached(t *testing.T, d *testutil.Daemon, name string, flagsAndCmd ...string) {
	t.Helper()
	d.MustCLI(append([]string{"run", "-d", "--net", "none", "--name", name}, flagsAndCmd...)...)
	testutil.Eventually(t, 10*time.Second, name+" running", func() bool { return pid1State(t, d, name)["Running"] == true })
}

// TestPID1IsTheCMD: the process the image (or the command line) names is
// PID 1 in its PID namespace, and that namespace holds nothing else.
func TestPID1IsTheCMD(t *testing.T) {
	d := pid1Daemon(t)

	// $$ is the shell's own PID: 1.
	assert.Equal(t, "1", strings.TrimSpace(pid1Run(t, d, "busybox", "sh", "-c", "echo $$")))

	// Another command replaces the image's CMD and is PID 1 itself:
	// /proc/1/cmdline is cat's own argv (NUL-separated).
	assert.Equal(t, "cat\x00/proc/1/cmdline\x00", pid1Run(t, d, "busybox", "cat", "/proc/1/cmdline"))

	// ps inside sees PID 1 (the shell), the sleep it started and ps
	// itself — none of the host's hundreds of processes. (The trailing
	// "; true" keeps sh from exec'ing ps in its own place as PID 1.)
	out := pid1Run(t, d, "busybox", "sh", "-c", "sleep 1000 & ps -o pid,comm; true")
	var pids []string
	procs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		require.Len(t, f, 2, "ps line %q", line)
		pids = append(pids, f[0])
		procs[f[0]] = f[1]
	}
	assert.Len(t, pids, 3, "ps inside the container:\n%s", out)
	assert.Equal(t, "sh", procs["1"], "PID 1 inside is the CMD:\n%s", out)

	// exec adds a process to the same PID namespace: it sees PID 1 and
	// itself, and PID 1 is still the CMD.
	pid1Detached(t, d, "pid1", "busybox", "sleep", "1000")
	out = d.MustCLI("exec", "pid1", "ps", "-o", "pid,comm")
	assert.Contains(t, out, "    1 sleep")
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 3, "ps via exec:\n%s", out)
	// and from the host, PID 1 of the container is an ordinary process
	hostPid := d.ContainerPid("pid1")
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", hostPid))
	require.NoError(t, err)
	assert.Equal(t, "sleep\x001000\x00", string(cmdline))
	assert.NotEqual(t, 1, hostPid)
	d.MustCLI("rm", "-f", "pid1")

	// The article's `run -d … echo 123`: the container lives exactly as
	// long as its PID 1, so it has exited by the time anyone looks.
	d.MustCLI("run", "-d", "--net", "none", "--name", "echo123", "busybox", "echo", "123")
	testutil.Eventually(t, 10*time.Second, "echo123 exited", func() bool { return pid1State(t, d, "echo123")["Status"] == "exited" })
	assert.Equal(t, float64(0), pid1State(t, d, "echo123")["ExitCode"])
	assert.Equal(t, "123\n", d.MustCLI("logs", "echo123"))
	d.MustCLI("rm", "echo123")
}

// TestContainerSharesTheKernel: namespaces isolate views, not kernels —
// the container runs on the host's kernel (which is why no package
// installed inside can upgrade it).
func TestContainerSharesTheKernel(t *testing.T) {
	d := pid1Daemon(t)
	host, err := os.ReadFile("/proc/sys/kernel/osrelease")
	require.NoError(t, err)
	assert.Equal(t, string(host), pid1Run(t, d, "busybox", "uname", "-r"))
}

// TestContainerHostname: the UTS namespace gives the container its own
// host name; the host's does not change.
func TestContainerHostname(t *testing.T) {
	d := pid1Daemon(t)
	before, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, "lab04-box\nlab04-box\n", pid1Run(t, d, "--hostname", "lab04-box", "busybox", "sh", "-c", "hostname; cat /etc/hostname"))
	// the default is the first 12 characters of the ID, as in docker
	pid1Detached(t, d, "named", "busybox", "sleep", "1000")
	id := d.Inspect("named")["Id"].(string)
	assert.Equal(t, id[:12], strings.TrimSpace(d.MustCLI("exec", "named", "hostname")))
	// changing it inside needs CAP_SYS_ADMIN, which a container does not
	// have (docker's default capability set): the namespace is the
	// container's, the permission is not
	r := d.CLI("exec", "named", "hostname", "changed-inside")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Operation not permitted")
	after, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, before, after)
	d.MustCLI("rm", "-f", "named")
}

// TestContainerHostFilesInvisible: after pivot_root the container's / is
// the image's file system; a file on the host's / does not exist inside.
func TestContainerHostFilesInvisible(t *testing.T) {
	d := pid1Daemon(t)
	canary := "/lab04-canary-" + testutil.RandomHex(4)
	require.NoError(t, os.WriteFile(canary, []byte("host only\n"), 0o644))
	t.Cleanup(func() { os.Remove(canary) })

	r := d.CLI("run", "--rm", "--net", "none", "busybox", "cat", canary)
	assert.Equal(t, 1, r.Code, "the host's %s was readable inside: %q", canary, r.Stdout)
	assert.Contains(t, r.Stderr, "No such file or directory")
	ls := pid1Run(t, d, "busybox", "ls", "/")
	assert.NotContains(t, ls, strings.TrimPrefix(canary, "/"))
	assert.Contains(t, strings.Fields(ls), "bin")
	// and there is no way back to the old root through the mount table:
	// the container's mounts are its own (no host /work, no host /home)
	mounts := pid1Run(t, d, "busybox", "cat", "/proc/self/mounts")
	for _, line := range strings.Split(strings.TrimSpace(mounts), "\n") {
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 2, "mount line %q", line)
		assert.NotEqual(t, canary, f[1])
	}
	assert.Regexp(t, `(?m)^overlay / overlay `, mounts, "/ is the overlay of the image")
}

var pid1Namespaces = []string{"mnt", "pid", "uts", "ipc", "net"}

// TestContainerNamespaces: /proc/<pid>/ns/* names each namespace
// (type:[inode]). The container's differ from the host's, and a process
// started with exec is in exactly the same ones as PID 1.
func TestContainerNamespaces(t *testing.T) {
	d := pid1Daemon(t)
	pid1Detached(t, d, "ns", "busybox", "sleep", "1000")
	hostPid := d.ContainerPid("ns")
	for _, ns := range pid1Namespaces {
		host, err := os.Readlink("/proc/self/ns/" + ns)
		require.NoError(t, err)
		// PID 1 seen from the host
		ctr, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", hostPid, ns))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(ctr, ns+":["), ctr)
		assert.NotEqual(t, host, ctr, "the %s namespace is the host's", ns)
		// an exec'd process reads its own ns links and PID 1's
		out := d.MustCLI("exec", "ns", "sh", "-c", "readlink /proc/self/ns/"+ns+"; readlink /proc/1/ns/"+ns)
		assert.Equal(t, ctr+"\n"+ctr+"\n", out, "exec is not in PID 1's %s namespace", ns)
	}
	// the exec'd process is also in PID 1's cgroups
	out := d.MustCLI("exec", "ns", "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
	self, one, ok := strings.Cut(out, "--\n")
	require.True(t, ok, out)
	assert.Equal(t, one, self)
	// two containers do not share namespaces either
	pid1Detached(t, d, "ns2", "busybox", "sleep", "1000")
	other := d.ContainerPid("ns2")
	for _, ns := range pid1Namespaces {
		a, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", hostPid, ns))
		b, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", other, ns))
		assert.NotEqual(t, a, b, "two containers share the %s namespace", ns)
	}
	d.MustCLI("rm", "-f", "ns", "ns2")
}

// TestContainerInstallStaysInside: writing a program into the container's
// /usr/local/bin lands in its overlay upper directory. The host, the image
// and other containers never see it.
func TestContainerInstallStaysInside(t *testing.T) {
	d := pid1Daemon(t)
	tool := "lab04-tool-" + testutil.RandomHex(4)
	hostPath := "/usr/local/bin/" + tool
	_, err := os.Stat(hostPath)
	require.True(t, os.IsNotExist(err))

	pid1Detached(t, d, "inst", "busybox", "sleep", "1000")
	d.MustCLI("exec", "inst", "sh", "-c", fmt.Sprintf(`mkdir -p /usr/local/bin && printf '#!/bin/sh\necho installed tool\n' > %s && chmod +x %s`, hostPath, hostPath))
	assert.Equal(t, "installed tool\n", d.MustCLI("exec", "inst", tool))

	_, err = os.Stat(hostPath)
	assert.True(t, os.IsNotExist(err), "the container's install reached the host: %v", err)
	r := d.CLI("run", "--rm", "--net", "none", "busybox", "test", "-e", hostPath)
	assert.Equal(t, 1, r.Code, "a new container of the same image sees the file")
	// where it really is: the container's upper directory on the host
	id := d.Inspect("inst")["Id"].(string)
	found := false
	_ = filepath.WalkDir(d.DataRoot, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, "/usr/local/bin/"+tool) && strings.Contains(p, id) {
			found = true
		}
		return nil
	})
	assert.True(t, found, "no %s under the container's directory in %s", tool, d.DataRoot)
	d.MustCLI("rm", "-f", "inst")
}

// pid1CgroupDir is the directory of controller's cgroup of host process
// pid: on v2 the unified tree, on v1 (or a hybrid) that controller's mount.
func pid1CgroupDir(t *testing.T, pid int, controller string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(t, err)
	v2 := cgroups.Detect() == cgroups.V2
	var rel string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v2 && parts[0] == "0" && parts[1] == "" {
			rel = parts[2]
		}
		if !v2 {
			for _, c := range strings.Split(parts[1], ",") {
				if c == controller {
					rel = parts[2]
				}
			}
		}
	}
	require.NotEmpty(t, rel, "no %s cgroup in /proc/%d/cgroup:\n%s", controller, pid, data)
	// the mount point (and its root, which a cgroup namespace may move)
	f, err := os.Open("/proc/self/mountinfo")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fs, pf := strings.Fields(pre), strings.Fields(post)
		if len(fs) < 5 || len(pf) < 3 {
			continue
		}
		root, mnt := fs[3], fs[4]
		match := v2 && pf[0] == "cgroup2" && mnt == "/sys/fs/cgroup"
		if !v2 && pf[0] == "cgroup" {
			for _, o := range strings.Split(pf[2], ",") {
				if o == controller {
					match = true
				}
			}
		}
		if match {
			return filepath.Join(mnt, strings.TrimPrefix(rel, root))
		}
	}
	t.Fatalf("the %s controller is not mounted", controller)
	return ""
}

func pid1ReadCgroup(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// TestContainerCgroupFiles: --memory, --cpus and --pids-limit are nothing
// but numbers written into the container's cgroup files.
func TestContainerCgroupFiles(t *testing.T) {
	d := pid1Daemon(t)
	pid1Detached(t, d, "limits", "--memory", "32m", "--cpus", "0.5", "--pids-limit", "7", "busybox", "sleep", "1000")
	pid := d.ContainerPid("limits")
	mem, cpu, pids := pid1CgroupDir(t, pid, "memory"), pid1CgroupDir(t, pid, "cpu"), pid1CgroupDir(t, pid, "pids")
	id := d.Inspect("limits")["Id"].(string)
	for _, dir := range []string{mem, cpu, pids} {
		assert.Equal(t, id, filepath.Base(dir), "PID 1 is not in the container's cgroup")
		assert.Equal(t, d.Cgroup, filepath.Base(filepath.Dir(dir)), "not below --cgroup-parent")
	}
	if cgroups.Detect() == cgroups.V2 {
		assert.Equal(t, strconv.Itoa(32<<20), pid1ReadCgroup(t, mem, "memory.max"))
		assert.Equal(t, "50000 100000", pid1ReadCgroup(t, cpu, "cpu.max"))
	} else {
		assert.Equal(t, strconv.Itoa(32<<20), pid1ReadCgroup(t, mem, "memory.limit_in_bytes"))
		assert.Equal(t, "50000", pid1ReadCgroup(t, cpu, "cpu.cfs_quota_us"))
		assert.Equal(t, "100000", pid1ReadCgroup(t, cpu, "cpu.cfs_period_us"))
	}
	assert.Equal(t, "7", pid1ReadCgroup(t, pids, "pids.max"))
	// stats --no-stream reads the same memory cgroup
	out := d.MustCLI("stats", "--no-stream", "limits")
	assert.Contains(t, out, "/ 32MiB")
	d.MustCLI("rm", "-f", "limits")
}

// TestContainerMemoryLimitOOM: a process that allocates more than
// --memory is killed by the kernel: exit 137 (128+SIGKILL) and
// State.OOMKilled. The same allocation under a larger limit survives.
// It runs on cgroup v1 here and on v2 in the VM (see the file comment).
func TestContainerMemoryLimitOOM(t *testing.T) {
	d := pid1Daemon(t)
	// 40 MB of "x" held in a shell variable
	hog := `a=$(head -c 40000000 /dev/zero | tr "\0" x); echo survived ${#a}`

	r := d.CLI("run", "--name", "oom", "--net", "none", "--memory", "16m", "--memory-swap", "16m", "busybox", "sh", "-c", hog)
	assert.Equal(t, 137, r.Code, "stdout %q stderr %q", r.Stdout, r.Stderr)
	assert.NotContains(t, r.Stdout, "survived")
	st := pid1State(t, d, "oom")
	assert.Equal(t, true, st["OOMKilled"], "State: %v", st)
	assert.Equal(t, float64(137), st["ExitCode"], "State: %v", st)
	assert.Equal(t, "exited", st["Status"])
	d.MustCLI("rm", "oom")

	out := pid1Run(t, d, "--memory", "256m", "busybox", "sh", "-c", hog)
	assert.Equal(t, "survived 40000000\n", out)
}

// TestContainerPidsLimit: with --pids-limit the kernel refuses fork once
// the cgroup holds that many tasks; without it the same script forks.
func TestContainerPidsLimit(t *testing.T) {
	d := pid1Daemon(t)
	forker := `for i in $(seq 20); do sleep 1000 & done; echo forked all`
	assert.Equal(t, "forked all\n", pid1Run(t, d, "busybox", "sh", "-c", forker))

	// 16, not 4: on cgroup v2 init is born inside the cgroup, and the Go
	// runtime of init needs a few threads before it execs the CMD; those
	// count against pids.max too
	r := d.CLI("run", "--rm", "--net", "none", "--pids-limit", "16", "busybox", "sh", "-c", forker)
	assert.NotContains(t, r.Stdout, "forked all")
	assert.Contains(t, r.Stderr, "can't fork", "exit %d stdout %q", r.Code, r.Stdout)
	assert.NotEqual(t, 0, r.Code)
}

// TestPID1StopTimeout: stop sends SIGTERM to PID 1, waits -t seconds,
// then SIGKILL. The kernel delivers no signal to a namespace's PID 1 for
// which it has no handler, so a PID 1 that ignores SIGTERM (explicitly,
// or by having no handler at all, like sleep) costs the whole timeout and
// exits 137; one that handles it (busybox top) exits at once with 143.
func TestPID1StopTimeout(t *testing.T) {
	d := pid1Daemon(t)
	const timeout = 2 * time.Second

	pid1Detached(t, d, "stubborn", "busybox", "sh", "-c", `trap "" TERM; echo ready; while :; do sleep 1; done`)
	testutil.Eventually(t, 10*time.Second, "ready in the log", func() bool { return strings.Contains(d.CLI("logs", "stubborn").Stdout, "ready") })
	start := time.Now()
	d.MustCLI("stop", "-t", "2", "stubborn")
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, timeout, "stop of a SIGTERM-ignoring PID 1 returned before -t")
	assert.Less(t, took, timeout+5*time.Second)
	assert.Equal(t, float64(137), pid1State(t, d, "stubborn")["ExitCode"])

	pid1Detached(t, d, "nohandler", "busybox", "sleep", "1000")
	start = time.Now()
	d.MustCLI("stop", "-t", "1", "nohandler")
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "sleep as PID 1 has no SIGTERM handler: the kernel drops it")
	assert.Equal(t, float64(137), pid1State(t, d, "nohandler")["ExitCode"])

	pid1Detached(t, d, "polite", "busybox", "top", "-b", "-d", "100")
	start = time.Now()
	d.MustCLI("stop", "-t", "10", "polite")
	assert.Less(t, time.Since(start), 5*time.Second, "a PID 1 that handles SIGTERM should not wait for the timeout")
	assert.Equal(t, float64(143), pid1State(t, d, "polite")["ExitCode"])
	d.MustCLI("rm", "stubborn", "nohandler", "polite")
}

// TestContainerSurvivesDaemonKill9: the container's parent is its shim,
// not the daemon. kill -9 of the daemon leaves PID 1 running; the restarted
// daemon finds it again, and ps, logs, exec, stop and rm all work.
func TestContainerSurvivesDaemonKill9(t *testing.T) {
	d := pid1Daemon(t)
	pid1Detached(t, d, "survivor", "busybox", "sh", "-c", `echo before; trap "exit 0" TERM; while :; do sleep 1; done`)
	testutil.Eventually(t, 10*time.Second, "first log line", func() bool { return d.CLI("logs", "survivor").Stdout == "before\n" })
	pid := d.ContainerPid("survivor")

	d.Kill9()
	// still alive, and not a child of the dead daemon
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	require.NoError(t, err, "PID 1 died with the daemon")
	d.Start()

	assert.Contains(t, d.MustCLI("ps"), "survivor")
	st := pid1State(t, d, "survivor")
	assert.Equal(t, true, st["Running"])
	assert.Equal(t, float64(pid), st["Pid"])
	assert.Equal(t, "before\n", d.MustCLI("logs", "survivor"))
	assert.Equal(t, "after\n", d.MustCLI("exec", "survivor", "echo", "after"))
	d.MustCLI("exec", "survivor", "sh", "-c", "echo from-exec > /proc/1/fd/1")
	testutil.Eventually(t, 10*time.Second, "exec's line in the log", func() bool {
		return strings.Contains(d.CLI("logs", "survivor").Stdout, "from-exec")
	})
	d.MustCLI("stop", "-t", "10", "survivor")
	st = pid1State(t, d, "survivor")
	assert.Equal(t, false, st["Running"])
	assert.Equal(t, float64(0), st["ExitCode"])
	d.MustCLI("rm", "survivor")
	assert.NotContains(t, d.MustCLI("ps", "-a"), "survivor")
}

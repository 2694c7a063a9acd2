package daemon_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// cgroupFile reads one control file of a container's cgroup: v1 names it
// in the controller's directory, v2 in the only one.
func cgroupFile(t *testing.T, d *testutil.Daemon, id, controller, file string) string {
	t.Helper()
	cg, err := cgroups.Load(d.Cgroup, id)
	if err != nil {
		t.Fatal(err)
	}
	dir := cg.Path()
	if cg.Version() == cgroups.V1 {
		dir = filepath.Join("/sys/fs/cgroup", controller, cg.Name())
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// memoryLimit is the container's memory limit as the kernel has it.
func memoryLimit(t *testing.T, d *testutil.Daemon, id string) string {
	if cgroups.Detect() == cgroups.V2 {
		return cgroupFile(t, d, id, "", "memory.max")
	}
	return cgroupFile(t, d, id, "memory", "memory.limit_in_bytes")
}

// TestUpdateResourcesLive: docker update writes new limits into a running
// container's cgroup at once, keeps them for the next start, changes the
// restart policy, and refuses bad values and fields it would not apply
// without changing anything.
func TestUpdateResourcesLive(t *testing.T) {
	d := preload.StartDaemon(t)
	id := mustDocker(t, d, "run", "-d", "--name", "up", "--net", "none", "busybox", "sleep", "600")
	before := memoryLimit(t, d, id)

	out := mustDocker(t, d, "update", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares", "512",
		"--pids-limit", "50", "--cpus", "0.5", "--restart", "on-failure:3", "up")
	if out != "up" {
		t.Fatalf("update printed %q", out)
	}
	want := map[string]string{"memory.limit_in_bytes": "67108864", "pids.max": "50", "cpu.cfs_quota_us": "50000", "cpu.shares": "512"}
	if cgroups.Detect() == cgroups.V2 {
		want = map[string]string{"memory.max": "67108864", "pids.max": "50", "cpu.max": "50000 100000", "cpu.weight": "20"}
	}
	for file, v := range want {
		ctl, _, _ := strings.Cut(file, ".")
		if got := cgroupFile(t, d, id, ctl, file); got != v {
			t.Errorf("%s of the running container: %q, want %q", file, got, v)
		}
	}
	hc := d.Inspect("up")["HostConfig"].(map[string]any)
	if hc["Memory"] != float64(64<<20) || hc["MemorySwap"] != float64(128<<20) || hc["CpuShares"] != float64(512) ||
		hc["NanoCpus"] != float64(5e8) || hc["PidsLimit"] != float64(50) {
		t.Fatalf("inspect after update: %v", hc)
	}
	if rp := hc["RestartPolicy"].(map[string]any); rp["Name"] != "on-failure" || rp["MaximumRetryCount"] != float64(3) {
		t.Fatalf("restart policy after update: %v", rp)
	}

	// --cpu-shares at create goes to the same file
	sharesID := mustDocker(t, d, "run", "-d", "--name", "shares", "--net", "none", "--cpu-shares", "256", "busybox", "sleep", "600")
	if cgroups.Detect() == cgroups.V1 {
		if got := cgroupFile(t, d, sharesID, "cpu", "cpu.shares"); got != "256" {
			t.Errorf("cpu.shares of run --cpu-shares 256: %s", got)
		}
	} else if got := cgroupFile(t, d, sharesID, "", "cpu.weight"); got != "10" {
		t.Errorf("cpu.weight of run --cpu-shares 256: %s", got)
	}

	// kept for the next start
	mustDocker(t, d, "restart", "-t", "0", "up")
	if got := memoryLimit(t, d, id); got != "67108864" {
		t.Fatalf("memory limit after a restart: %s", got)
	}

	// refused, and nothing changes: neither the cgroup nor the record
	for _, c := range []struct {
		args   []string
		status int
		body   string
		want   string
	}{
		{[]string{"update", "--memory", "1k", "up"}, 400, `{"Memory":1024,"MemorySwap":-1}`, "Minimum memory limit allowed is 6MB"},
		{[]string{"update", "--cpuset-cpus", "0-x", "up"}, 400, `{"CpusetCpus":"0-x"}`, "Invalid value 0-x for cpuset cpus: invalid format: 0-x"},
		{[]string{"update", "--cpuset-cpus", "8000", "up"}, 400, `{"CpusetCpus":"8000"}`, "Requested CPUs are not available - requested 8000, available: "},
		{[]string{"update", "--cpuset-mems", "8000", "up"}, 400, `{"CpusetMems":"8000"}`, "Requested memory nodes are not available - requested 8000, available: "},
		{[]string{"update", "--cpu-rt-runtime", "10", "up"}, 400, `{"CpuRealtimeRuntime":10}`, "minidocker does not support updating CpuRealtimeRuntime yet"},
		{[]string{"update", "--cpu-period", "50000", "up"}, 409, `{"CpuPeriod":50000}`, "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"},
		{[]string{"update", "--restart", "sometimes", "up"}, 400, `{"RestartPolicy":{"Name":"sometimes"}}`, "invalid restart policy: unknown policy 'sometimes'"},
		{[]string{"update", "--memory", "32m", "nosuch"}, 404, `{"Memory":33554432}`, "No such container: nosuch"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			if r := d.Docker(c.args...); r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("docker %v: exit %d %q, want %q", c.args, r.Code, r.Stderr, c.want)
			}
			path := "/containers/" + c.args[len(c.args)-1] + "/update"
			if code, body := apiCall(t, d, "POST", path, c.body); code != c.status || !strings.Contains(body, c.want) {
				t.Errorf("POST %s %s: %d %s, want %d %q", path, c.body, code, body, c.status, c.want)
			}
		})
	}
	if got := memoryLimit(t, d, id); got != "67108864" {
		t.Fatalf("memory limit after refused updates: %s", got)
	}
	if hc := d.Inspect("up")["HostConfig"].(map[string]any); hc["Memory"] != float64(64<<20) || hc["CpusetCpus"] != "" {
		t.Fatalf("record after refused updates: %v", hc)
	}
	if code, body := apiCall(t, d, "POST", "/containers/up/update", `{"Memory":33554432}`); code != 200 || strings.TrimSpace(body) != `{"Warnings":[]}` {
		t.Fatalf("update answer: %d %s", code, body)
	}

	// a stopped container: the record only, applied at its start
	mustDocker(t, d, "stop", "-t", "0", "up")
	mustDocker(t, d, "update", "--memory", "48m", "up")
	mustDocker(t, d, "start", "up")
	if got := memoryLimit(t, d, id); got != "50331648" || got == before {
		t.Fatalf("memory limit of an updated stopped container once started: %s", got)
	}
}

// allowedList is PID 1's Cpus_allowed_list or Mems_allowed_list, as the
// kernel enforces it inside the container.
func allowedList(t *testing.T, d *testutil.Daemon, name, field string) string {
	t.Helper()
	out := mustDocker(t, d, "exec", name, "grep", field, "/proc/1/status")
	_, v, _ := strings.Cut(out, ":")
	return strings.TrimSpace(v)
}

// TestCpusetAndBlkioWeight: --cpuset-cpus and --cpuset-mems pin the
// container (the kernel's Cpus_allowed_list of PID 1 says so) at run and
// through update of a running container; bad lists are refused in
// dockerd's words and make nothing; --blkio-weight is written where the
// kernel has a weight file, and elsewhere discarded with dockerd's warning.
func TestCpusetAndBlkioWeight(t *testing.T) {
	d := preload.StartDaemon(t)
	mustDocker(t, d, "run", "-d", "--name", "pinned", "--net", "none", "--cpuset-cpus", "0", "--cpuset-mems", "0", "busybox", "sleep", "600")
	if got := allowedList(t, d, "pinned", "Cpus_allowed_list"); got != "0" {
		t.Fatalf("Cpus_allowed_list of run --cpuset-cpus 0: %q", got)
	}
	if got := allowedList(t, d, "pinned", "Mems_allowed_list"); got != "0" {
		t.Fatalf("Mems_allowed_list of run --cpuset-mems 0: %q", got)
	}
	// our CLI's run takes the same flags
	d.MustCLI("run", "-d", "--name", "ours", "--net", "none", "--cpuset-cpus", "0", "--cpu-shares", "512", "busybox", "sleep", "600")
	if got := allowedList(t, d, "ours", "Cpus_allowed_list"); got != "0" {
		t.Fatalf("Cpus_allowed_list of our run --cpuset-cpus 0: %q", got)
	}
	if got := strings.TrimSpace(mustDocker(t, d, "inspect", "-f", "{{.HostConfig.CpuShares}}", "ours")); got != "512" {
		t.Fatalf("our run --cpu-shares 512: %s", got)
	}
	last := strconv.Itoa(runtime.NumCPU() - 1)
	mustDocker(t, d, "update", "--cpuset-cpus", last, "pinned")
	if got := allowedList(t, d, "pinned", "Cpus_allowed_list"); got != last {
		t.Fatalf("Cpus_allowed_list after update --cpuset-cpus %s: %q", last, got)
	}
	// an exec'd process joins the same cpuset
	if out := mustDocker(t, d, "exec", "pinned", "grep", "Cpus_allowed_list", "/proc/self/status"); !strings.HasSuffix(out, "\t"+last) && !strings.HasSuffix(out, " "+last) {
		t.Fatalf("exec's Cpus_allowed_list: %q", out)
	}
	if got := strings.TrimSpace(mustDocker(t, d, "inspect", "-f", "{{.HostConfig.CpusetCpus}} {{.HostConfig.CpusetMems}}", "pinned")); got != last+" 0" {
		t.Fatalf("inspect after update: %q", got)
	}
	// a container without a cpuset has every CPU
	if out := mustDocker(t, d, "run", "--rm", "--net", "none", "busybox", "grep", "Cpus_allowed_list", "/proc/self/status"); !strings.HasSuffix(out, "0-"+last) && runtime.NumCPU() > 1 {
		t.Fatalf("Cpus_allowed_list without --cpuset-cpus: %q", out)
	}

	if cgroups.BlkioWeightSupported() {
		mustDocker(t, d, "update", "--blkio-weight", "300", "pinned")
		if got := strings.TrimSpace(mustDocker(t, d, "inspect", "-f", "{{.HostConfig.BlkioWeight}}", "pinned")); got != "300" {
			t.Fatalf("BlkioWeight after update: %s", got)
		}
	} else {
		const warning = "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
		r := d.Docker("run", "-d", "--name", "weighted", "--net", "none", "--blkio-weight", "300", "busybox", "sleep", "600")
		if r.Code != 0 || !strings.Contains(r.Stderr, warning) {
			t.Fatalf("run --blkio-weight without the kernel's support: exit %d %q", r.Code, r.Stderr)
		}
		if r := d.Docker("update", "--blkio-weight", "300", "pinned"); r.Code != 0 || r.Stdout != "pinned\n"+warning+"\n" {
			t.Fatalf("update --blkio-weight without the kernel's support: exit %d %q", r.Code, r.Combined())
		}
		if got := d.MustCLI("update", "--blkio-weight", "300", "pinned"); got != "pinned\n"+warning+"\n" {
			t.Fatalf("our update --blkio-weight without the kernel's support: %q", got)
		}
		if got := strings.TrimSpace(mustDocker(t, d, "inspect", "-f", "{{.HostConfig.BlkioWeight}}", "weighted", "pinned")); got != "0\n0" {
			t.Fatalf("a discarded weight is not recorded: %q", got)
		}
	}
	d.RemoveAllContainers() // a refusal is checked by an empty ps -a
	for _, c := range []struct{ flag, value, want string }{
		{"--cpuset-cpus", "1-0", "Invalid value 1-0 for cpuset cpus: invalid format: 1-0"},
		{"--cpuset-cpus", "8000", "Requested CPUs are not available - requested 8000, available: "},
		{"--cpuset-mems", "a", "Invalid value a for cpuset mems: invalid format: a"},
		{"--cpuset-cpus", "0-99999", "value of out range, maximum is 8192"},
	} {
		t.Run(c.flag+"="+c.value, func(t *testing.T) {
			refused(t, d, c.want, "run", "--net", "none", c.flag, c.value, "busybox", "true")
		})
	}
	if cgroups.BlkioWeightSupported() {
		refused(t, d, "Range of blkio weight is from 10 to 1000", "run", "--net", "none", "--blkio-weight", "5", "busybox", "true")
	}
}

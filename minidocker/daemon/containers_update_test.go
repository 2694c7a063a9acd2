package daemon_test

import (
	"os"
	"path/filepath"
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
		{[]string{"update", "--cpuset-cpus", "0", "up"}, 400, `{"CpusetCpus":"0"}`, "minidocker does not support updating CpusetCpus yet"},
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

package libcontainer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkRunTrue is start→exit of `true` in a container with --net none:
// CreateShim + Start + Wait + Cleanup, what `run --rm` costs below the
// daemon. The baseline sub-benchmark is unshare(1) with the same
// namespaces (no rootfs, no cgroup, no shim).
func BenchmarkRunTrue(b *testing.B) {
	b.Run("minidocker", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			spec, bundle := newSpec(b, "true")
			if err := WriteSpec(bundle, spec); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			s, err := CreateShim(ctx, bundle)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				b.Fatal(err)
			}
			if st, err := s.Wait(ctx); err != nil || st.ExitCode != 0 {
				b.Fatal(st, err)
			}
			if err := Cleanup(bundle); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runc-baseline", func(b *testing.B) {
		runc, err := exec.LookPath("runc")
		if err != nil {
			b.Skip("no runc (apt-get install runc)")
		}
		// a bundle from `runc spec`, on a copy-free bind of the same rootfs
		bundle := b.TempDir()
		if out, err := exec.Command(runc, "spec", "-b", bundle).CombinedOutput(); err != nil {
			b.Fatal(err, string(out))
		}
		cfg, err := os.ReadFile(filepath.Join(bundle, "config.json"))
		if err != nil {
			b.Fatal(err)
		}
		c := strings.Replace(string(cfg), `"sh"`, `"true"`, 1)
		c = strings.Replace(c, `"terminal": true`, `"terminal": false`, 1)
		c = strings.Replace(c, `"path": "rootfs"`, `"path": "`+busyboxRootfs(b)+`"`, 1)
		if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(c), 0o644); err != nil {
			b.Fatal(err)
		}
		root := b.TempDir()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := "mdbench-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(i)
			if out, err := exec.Command(runc, "--root", root, "run", "-b", bundle, id).CombinedOutput(); err != nil {
				b.Fatal(err, string(out))
			}
		}
	})
	b.Run("unshare-baseline", func(b *testing.B) {
		if _, err := exec.LookPath("unshare"); err != nil {
			b.Skip("no unshare")
		}
		for i := 0; i < b.N; i++ {
			if err := exec.Command("unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkExecTrue is `exec c true` in a running container.
func BenchmarkExecTrue(b *testing.B) {
	spec, bundle := newSpec(b, "sleep", "1000")
	c := create(b, spec, bundle)
	if err := c.start(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := Exec(context.Background(), c.shim.Pid, Process{Args: []string{"true"}, Env: spec.Process.Env}, ExecIO{})
		if err != nil {
			b.Fatal(err)
		}
		if code, err := e.Wait(context.Background()); err != nil || code != 0 {
			b.Fatal(code, err)
		}
	}
}

// TestShimRSS measures the resident memory of a shim holding a running
// container (the figure `make bench` reports; the target is ≤ 4.3 MiB).
func TestShimRSS(t *testing.T) {
	spec, bundle := newSpec(t, "sleep", "1000")
	c := create(t, spec, bundle)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	pid := readPidFile(filepath.Join(bundle, ShimPidFile))
	// let the shim settle (its start-up ends with trimMemory)
	time.Sleep(trimDelay + 500*time.Millisecond)
	kb := vmRSSKiB(t, pid)
	t.Logf("shim RSS: %d KiB (%.2f MiB)", kb, float64(kb)/1024)
	if os.Getenv("RTTEST_SMAPS") != "" {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
		t.Logf("%s", b)
		b, _ = os.ReadFile(filepath.Join(bundle, ShimLogFile))
		t.Logf("%s", b)
	}
	if kb > 16*1024 && !raceEnabled {
		t.Errorf("shim RSS %d KiB is far too big", kb)
	}
}

func vmRSSKiB(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

package libcontainer

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

func TestMain(m *testing.M) {
	if RunReexecEntrypoint() {
		return
	}
	if exe := os.Getenv("RTTEST_BINARY"); exe != "" {
		selfExe = exe // run the shim and nsexec from a built minidocker
	}
	if b := os.Getenv(testDaemonEnv); b != "" {
		runTestDaemon(b)
	}
	code := m.Run()
	if os.Geteuid() == 0 {
		// every test cleans up after itself; the leak check is the tests'
		// business, this only keeps the machine clean when one failed
		if left, _ := cgroups.List(testCgroupParent); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "LEAK: cgroups left under %s: %v\n", testCgroupParent, left)
			for _, n := range left {
				if cg, err := cgroups.New(testCgroupParent, n); err == nil {
					cg.Destroy()
				}
			}
			code = 1
		}
		cgroups.RemoveParent(testCgroupParent)
	}
	os.Exit(code)
}

var testCgroupParent = fmt.Sprintf("minidocker-rttest-%d", os.Getpid())

var (
	rootfsOnce sync.Once
	rootfsDir  string
	rootfsErr  error
)

// busyboxRootfs builds (once per test binary) a tiny image layer from
// Debian's busybox-static: /bin/busybox, a symlink per applet, /etc/passwd
// and /etc/group, and an executable-less file for the 126 test.
func busyboxRootfs(t testing.TB) string {
	t.Helper()
	rootfsOnce.Do(func() {
		bb, err := exec.LookPath("busybox")
		if err != nil {
			rootfsErr = fmt.Errorf("busybox not installed (apt-get install busybox-static): %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "minidocker-rootfs-")
		if err != nil {
			rootfsErr = err
			return
		}
		rootfsDir = dir
		rootfsErr = buildBusyboxRootfs(bb, dir)
	})
	if rootfsErr != nil {
		t.Fatal(rootfsErr)
	}
	return rootfsDir
}

func buildBusyboxRootfs(bb, dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "proc", "sys", "dev", "root", "home/user"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		return err
	}
	for _, l := range strings.Fields(string(out)) {
		if l == "bin/busybox" {
			continue
		}
		os.Symlink("/bin/busybox", filepath.Join(dir, l))
	}
	return buildBusyboxRootfsEtc(dir)
}

func buildBusyboxRootfsEtc(dir string) error {
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	files := map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":   "root:x:0:\nuser:x:1000:\nwheel:x:10:user\nnogroup:x:65534:\n",
		"etc/notexec": "just text\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// testContainer is one container made for a test, cleaned up with it.
type testContainer struct {
	t      testing.TB
	bundle string
	spec   *Spec
	shim   *Shim
}

var ctrSeq int

// newSpec returns a spec for a container running args on the busybox rootfs.
func newSpec(t testing.TB, args ...string) (*Spec, string) {
	t.Helper()
	testutil.RequireRoot(t)
	lower := busyboxRootfs(t)
	base := t.TempDir()
	ctrSeq++
	id := fmt.Sprintf("c%d-%d", os.Getpid(), ctrSeq)
	bundle := filepath.Join(base, "bundle")
	spec := &Spec{
		ID: id,
		Rootfs: Rootfs{
			LowerDirs: []string{lower},
			UpperDir:  filepath.Join(base, "upper"),
			WorkDir:   filepath.Join(base, "work"),
			MergedDir: filepath.Join(base, "merged"),
		},
		Process: Process{
			Args: args,
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		Hostname: "ctr-" + id,
		Network:  Network{Mode: "none"},
		Cgroup:   Cgroup{Parent: testCgroupParent, Name: id},
		LogPath:  filepath.Join(bundle, id+"-json.log"),
	}
	for _, d := range []string{bundle, spec.Rootfs.UpperDir, spec.Rootfs.WorkDir, spec.Rootfs.MergedDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return spec, bundle
}

// create writes the spec and creates the shim (init waits for Start).
func create(t testing.TB, spec *Spec, bundle string) *testContainer {
	t.Helper()
	if err := WriteSpec(bundle, spec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := CreateShim(ctx, bundle)
	if err != nil {
		t.Fatalf("CreateShim: %v", err)
	}
	c := &testContainer{t: t, bundle: bundle, spec: spec, shim: s}
	t.Cleanup(func() {
		if err := Cleanup(bundle); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return c
}

func (c *testContainer) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.shim.Start(ctx)
}

func (c *testContainer) wait() ExitStatus {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.shim.Wait(ctx)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.bundle, ShimLogFile))
		ls, _ := os.ReadDir(c.bundle)
		c.t.Fatalf("Wait: %v; shim.log: %s; bundle: %v", err, log, ls)
	}
	return st
}

// run runs args in a new container and returns stdout, stderr (from an
// attach made before start) and the exit status.
func run(t testing.TB, spec *Spec, bundle string) (string, string, ExitStatus) {
	t.Helper()
	c := create(t, spec, bundle)
	conn, err := c.shim.Attach(context.Background(), false, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out, errb bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- demux(conn, &out, &errb) }()
	if err := c.start(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.bundle, ShimLogFile))
		t.Fatalf("start: %v; shim.log: %s", err, log)
	}
	st := c.wait()
	if err := <-done; err != nil {
		t.Fatalf("demux: %v", err)
	}
	return out.String(), errb.String(), st
}

// demux splits a stdcopy stream.
func demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		w := stdout
		if hdr[0] == 2 {
			w = stderr
		}
		if _, err := io.CopyN(w, r, int64(n)); err != nil {
			return err
		}
	}
}

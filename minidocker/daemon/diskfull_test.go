package daemon_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Issue 10, faults survived: a full disk. The daemon's data root is a
// 64 MiB tmpfs the test mounts (and unmounts); once a filler file has taken
// every byte, pull, load, build, commit and run must each fail with
// docker's "no space left on device" in the message (a 500 where the
// error comes before any output), leave nothing half-made (no image, no
// layer directory, no container record, nothing in the work areas, no
// cgroup, veth or DNAT rule), and logs must still answer. Once the filler
// is gone, every one of them works, and the container that kept printing
// while the disk was full is logged again.
func TestFullDisk(t *testing.T) {
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t)
	d.DataRoot = mountSmallFS(t, "64m") // outside d.Dir, whose mounts the harness counts as leaks
	preload.Busybox(t, d)
	d.StartWithCleanup()
	f := newFaultRig(t, d)
	d.MustCLI("run", "-d", "--name", "changed", "--net", "none", "busybox", "sh", "-c", "echo changed > /changed; sleep 600")
	d.MustCLI("run", "-d", "--name", "talker", "--net", "none", "busybox", "sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")
	testutil.Eventually(t, 30*time.Second, "the talker's first lines", func() bool { return strings.Count(d.MustCLI("logs", "talker"), "line") >= 2 })
	before := f.snapshotNames()

	filler := fillDisk(t, d.DataRoot)
	for _, c := range f.fullDiskCommands() {
		r := d.CLI(c...)
		if r.Code == 0 || !strings.Contains(r.Combined(), "no space left on device") {
			t.Errorf("%q on a full disk: exit %d, want an error saying \"no space left on device\":\n%s", strings.Join(c, " "), r.Code, r.Combined())
		}
	}
	code, body := call(apiClient(d), "POST", "/containers/create", `{"Image":"busybox","Cmd":["true"]}`)
	if code != 500 || !strings.Contains(body, "no space left on device") {
		t.Errorf("POST /containers/create on a full disk: %d %s, want a 500 saying \"no space left on device\"", code, body)
	}
	code, body = call(apiClient(d), "POST", "/commit?container=changed&repo=faults/committed", "")
	if code != 500 || !strings.Contains(body, "no space left on device") {
		t.Errorf("POST /commit on a full disk: %d %s, want a 500 saying \"no space left on device\"", code, body)
	}
	if out := d.MustCLI("logs", "talker"); !strings.Contains(out, "line 1") {
		t.Errorf("logs on a full disk: %q", out)
	}
	if after := f.snapshotNames(); after != before {
		t.Errorf("the failures on a full disk left things behind:\nbefore %s\nafter  %s", before, after)
	}
	f.checkConsistent("on a full disk, after the refused commands,")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(d.MustCLI("logs", "talker"), "line")
	for _, c := range f.fullDiskCommands() {
		d.MustCLI(c...)
	}
	testutil.Eventually(t, 30*time.Second, "the talker's lines logged again once there is space", func() bool {
		return strings.Count(d.MustCLI("logs", "talker"), "line") > lines+2
	})
	f.checkConsistent("once space was freed, after the commands,")
}

// fullDiskCommands are the commands that need space: each must fail on a
// full disk and succeed once there is room.
func (f *faultRig) fullDiskCommands() [][]string {
	return [][]string{
		{"pull", f.remote},
		{"load", "-i", f.savedTar},
		{"build", "-q", "--no-cache", "-t", "faults/built:full", f.ctxDir},
		{"commit", "changed", "faults/committed"},
		{"run", "-d", "--name", "fresh", "-p", "127.0.0.1::80", "busybox", "sleep", "600"},
	}
}

// snapshotNames is what a refused command must not change: the image and
// container lists, the image store's layers, and the work areas of the
// image store and the builder.
func (f *faultRig) snapshotNames() string {
	var b strings.Builder
	b.WriteString("images: " + strings.Join(strings.Fields(f.d.MustCLI("images", "-aq")), ",") + "\n")
	b.WriteString("containers: " + strings.Join(strings.Fields(f.d.MustCLI("ps", "-aq")), ",") + "\n")
	for _, dir := range []string{"image/layers", "image/images", "image/tmp", "build/tmp", "build/contexts", "containers"} {
		entries, _ := os.ReadDir(filepath.Join(f.d.DataRoot, dir))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		b.WriteString(dir + ": " + strings.Join(names, ",") + "\n")
	}
	return b.String()
}

// mountSmallFS mounts a tmpfs of the given size on a new directory,
// unmounted and removed when the test ends (after the daemon stopped:
// cleanups run last first).
func mountSmallFS(t *testing.T, size string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "mdtfull")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0711", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs on %s: %v\n%s", dir, err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	return dir
}

// fillDisk writes a file in dir until the file system refuses another
// byte, and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	chunk := make([]byte, 1<<20)
	for len(chunk) > 0 {
		if _, err := fh.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			chunk = chunk[:len(chunk)/2]
		}
	}
	return p
}

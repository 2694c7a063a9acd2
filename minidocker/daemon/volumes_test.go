package daemon_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

func mustDocker(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	r := d.Docker(args...)
	if r.Code != 0 {
		t.Fatalf("docker %s: exit %d\n%s\n%s", strings.Join(args, " "), r.Code, r.Combined(), d.Log())
	}
	return strings.TrimSpace(r.Stdout)
}

// TestNamedVolume: a named volume outlives its containers, is listed,
// inspected and filtered, and cannot be removed while a container (even a
// stopped one) uses it.
func TestNamedVolume(t *testing.T) {
	d := preload.StartDaemon(t)
	if out := mustDocker(t, d, "volume", "create", "--label", "app=shop", "data"); out != "data" {
		t.Fatalf("volume create printed %q", out)
	}
	mp := mustDocker(t, d, "volume", "inspect", "-f", "{{.Driver}} {{.Mountpoint}} {{.Labels.app}}", "data")
	if mp != "local "+filepath.Join(d.DataRoot, "volumes", "data", "_data")+" shop" {
		t.Fatalf("volume inspect: %q", mp)
	}
	mustDocker(t, d, "run", "--name", "w1", "--net", "none", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	if out := mustDocker(t, d, "run", "--rm", "--net", "none", "-v", "data:/data:ro", "busybox", "cat", "/data/f"); out != "kept" {
		t.Fatalf("second container reads %q", out)
	}
	if r := d.Docker("run", "--rm", "--net", "none", "-v", "data:/data:ro", "busybox", "touch", "/data/g"); r.Code == 0 {
		t.Fatalf("a :ro volume is writable")
	}
	if out := mustDocker(t, d, "inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}", "w1"); out != "volume data /data true" {
		t.Fatalf("inspect Mounts: %q", out)
	}
	r := d.Docker("volume", "rm", "data")
	if r.Code == 0 || !strings.Contains(r.Stderr, "remove data: volume is in use - [") {
		t.Fatalf("rm of a used volume: %d %q", r.Code, r.Stderr)
	}
	if out := mustDocker(t, d, "volume", "ls", "-q", "--filter", "label=app=shop", "--filter", "dangling=false"); out != "data" {
		t.Fatalf("volume ls with filters: %q", out)
	}
	mustDocker(t, d, "rm", "-v", "w1") // -v leaves named volumes alone
	if out := mustDocker(t, d, "volume", "ls", "-q", "--filter", "dangling=true"); out != "data" {
		t.Fatalf("volume ls dangling after rm -v: %q", out)
	}
	mustDocker(t, d, "volume", "rm", "data")
	if r := d.Docker("volume", "inspect", "data"); r.Code == 0 || !strings.Contains(r.Stderr, "no such volume") {
		t.Fatalf("inspect after rm: %d %q", r.Code, r.Stderr)
	}
}

// TestAnonymousVolumes: the image's VOLUME becomes an anonymous volume
// filled with the image's content; --volumes-from shares it; rm -v removes
// it; prune removes unused anonymous volumes only.
func TestAnonymousVolumes(t *testing.T) {
	d := preload.StartDaemon(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN mkdir /vol && echo from-image > /vol/f && chown 7:7 /vol\nVOLUME /vol\n"), 0o644)
	mustDocker(t, d, "build", "-q", "-t", "withvol", dir)
	mustDocker(t, d, "create", "--name", "aa", "--net", "none", "withvol", "sh", "-c", "cat /vol/f; stat -c %u /vol; echo more >> /vol/f")
	if out := mustDocker(t, d, "start", "-a", "aa"); out != "from-image\n7" {
		t.Fatalf("VOLUME content: %q", out)
	}
	name := mustDocker(t, d, "inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "aa")
	if len(name) != 64 {
		t.Fatalf("anonymous volume name %q", name)
	}
	if out := mustDocker(t, d, "run", "--rm", "--net", "none", "--volumes-from", "aa:ro", "busybox", "cat", "/vol/f"); out != "from-image\nmore" {
		t.Fatalf("--volumes-from: %q", out)
	}
	mustDocker(t, d, "volume", "create", "named")
	out := mustDocker(t, d, "volume", "prune", "-f")
	if strings.Contains(out, name) || strings.Contains(out, "named") {
		t.Fatalf("prune removed a used or a named volume: %q", out)
	}
	mustDocker(t, d, "rm", "-v", "aa")
	if out := mustDocker(t, d, "volume", "ls", "-q"); out != "named" {
		t.Fatalf("after rm -v: volumes %q", out)
	}
	id := mustDocker(t, d, "create", "--net", "none", "withvol", "true")
	mustDocker(t, d, "rm", id) // without -v: its anonymous volume stays, for prune
	if out := mustDocker(t, d, "volume", "prune", "-f"); !strings.Contains(out, "Total reclaimed space") {
		t.Fatalf("prune: %q", out)
	}
	if out := mustDocker(t, d, "volume", "ls", "-q"); out != "named" {
		t.Fatalf("after prune: volumes %q", out)
	}
	mustDocker(t, d, "volume", "rm", "named")
}

// TestMounts: --mount bind (read-only), volume and tmpfs (its mode keeps
// the sticky bit), --tmpfs, and the
// refusals, which leave no container and no volume behind.
func TestMounts(t *testing.T) {
	d := preload.StartDaemon(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("host\n"), 0o644)
	out := mustDocker(t, d, "run", "--rm", "--net", "none",
		"--mount", "type=bind,src="+src+",dst=/b,readonly",
		"--mount", "type=volume,src=mv,dst=/v",
		"--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
		"--tmpfs", "/t2:size=2m",
		"busybox", "sh", "-c", "cat /b/f; touch /b/x 2>/dev/null || echo ro; touch /v/x && echo rw; grep -E ' /t2? ' /proc/mounts | cut -d' ' -f1-4")
	want := "host\nro\nrw\ntmpfs /t tmpfs rw,nosuid,nodev,relatime,size=1024k,mode=1770\ntmpfs /t2 tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k"
	if out != want {
		t.Fatalf("mounts:\n%s\nwant:\n%s", out, want)
	}
	for _, bad := range [][]string{
		{"--mount", "type=bind,src=/does/not/exist,dst=/b", "bind source path does not exist: /does/not/exist"},
		{"--mount", "type=volume,src=newvol,dst=/v", "-v", "/tmp:/v", "Duplicate mount point: /v"},
		{"--tmpfs", "/t:bogus", `unknown tmpfs option "bogus"`},
		{"--volumes-from", "nosuch", "No such container: nosuch"},
	} {
		t.Run(strings.Join(bad[:len(bad)-1], " "), func(t *testing.T) {
			args := append(append([]string{"create", "--net", "none"}, bad[:len(bad)-1]...), "busybox", "true")
			r := d.Docker(args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, bad[len(bad)-1]) {
				t.Fatalf("%v: %d %q", bad, r.Code, r.Stderr)
			}
		})
	}
	if out := mustDocker(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("refused creates left containers: %q", out)
	}
	if out := mustDocker(t, d, "volume", "ls", "-q"); out != "mv" {
		t.Fatalf("refused creates left volumes: %q", out)
	}
	mustDocker(t, d, "volume", "rm", "mv")
}

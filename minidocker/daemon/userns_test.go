package daemon_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// startRemappedDaemon starts a daemon with --userns-remap=default and
// returns it with the host uid of its containers' root (dockremap's first
// subordinate id). Its directory is opened to that uid, as /var/lib and
// /run are (a test's temporary directory is 0700).
func startRemappedDaemon(t *testing.T) (*testutil.Daemon, int) {
	t.Helper()
	d := preload.StartDaemon(t, "--userns-remap=default")
	if err := os.Chmod(d.Dir, 0o711); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/etc/subuid")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^dockremap:(\d+):65536$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no dockremap range in /etc/subuid: %q", b)
	}
	root, _ := strconv.Atoi(m[1])
	if root < 100000 {
		t.Fatalf("dockremap's range starts at %d, below 100000", root)
	}
	return d, root
}

func ownerOf(t *testing.T, path string) (uid, gid int) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid), int(st.Gid)
}

// TestUsernsRemap: with --userns-remap=default a container's root is uid
// 0 inside and dockremap's first subordinate uid on the host: the image's
// files are root's inside (idmapped layers), what it writes (its upper
// dir, a new volume) is the remapped uid's on the host. info says so; the
// usual life cycle works through both CLIs; --userns=host opts out; what
// dockerd refuses is refused (exec: usernsexec_test.go).
func TestUsernsRemap(t *testing.T) {
	d, root := startRemappedDaemon(t)

	for _, info := range []string{d.MustCLI("info"), dockerOK(t, d, "info")} {
		if !regexp.MustCompile(`(?m)^ +userns$`).MatchString(info) || !strings.Contains(info, "Docker Root Dir: "+d.DataRoot+"\n") {
			t.Errorf("info lacks the userns security option or changed the root dir:\n%s", info)
		}
	}

	out := dockerOK(t, d, "run", "--rm", "busybox", "sh", "-c", `id -u; stat -c %u /bin/busybox /etc/hostname; tr -s ' ' </proc/self/uid_map | sed 's/^ //'`)
	want := "0\n0\n0\n0 " + strconv.Itoa(root) + " 65536\n"
	if out != want {
		t.Errorf("remapped container: %q, want %q", out, want)
	}

	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "-v", "remapvol:/data", "busybox", "sh", "-c", "touch /made /data/x; echo ready; sleep 300"))
	d.MustCLI("logs", id) // the log is the shim's, as without a user namespace
	waitForLog(t, d, id, "ready")
	if uid, gid := ownerOf(t, filepath.Join(d.DataRoot, "containers", id, "diff", "made")); uid != root || gid != root {
		t.Errorf("/made on the host is %d:%d, want %d:%d", uid, gid, root, root)
	}
	vol := filepath.Join(d.DataRoot, "volumes", "remapvol", "_data")
	for _, p := range []string{vol, filepath.Join(vol, "x")} {
		if uid, _ := ownerOf(t, p); uid != root {
			t.Errorf("%s on the host is uid %d, want %d", p, uid, root)
		}
	}

	assertArchivesUnshifted(t, d, id, root)

	dockerOK(t, d, "stop", "-t", "1", id)
	dockerOK(t, d, "rm", id)
	dockerOK(t, d, "volume", "rm", "remapvol")

	refused(t, d, "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode", "run", "--privileged", "busybox", "true")
	refused(t, d, "cannot share the host's network namespace when user namespaces are enabled", "run", "--net", "host", "busybox", "true")
	refused(t, d, "cannot share the host PID namespace when user namespaces are enabled", "run", "--pid", "host", "busybox", "true")
	assertPidJoinRefused(t, d)
	assertRemappedDevices(t, d)
	out = dockerOK(t, d, "run", "--rm", "--userns", "host", "--privileged", "busybox", "sh", "-c", `tr -s ' ' </proc/self/uid_map | sed 's/^ //'`)
	if out != "0 0 4294967295\n" {
		t.Errorf("--userns=host: uid_map %q, want the host's", out)
	}
}

// assertPidJoinRefused: --pid container: is refused under remapping,
// before anything is made (it failed at start, mounting /proc), and works
// with --userns host.
func assertPidJoinRefused(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	target := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--net", "none", "busybox", "sleep", "300"))
	r := d.Docker("run", "--net", "none", "--pid", "container:"+target, "busybox", "true")
	want := "minidocker does not support --pid container: with user namespaces yet; add --userns host"
	if r.Code != 125 || !strings.Contains(r.Stderr, want) {
		t.Errorf("--pid container: under remapping: exit %d, stderr %q; want 125 and %q", r.Code, r.Stderr, want)
	}
	if ps := strings.Fields(dockerOK(t, d, "ps", "-aq", "--no-trunc")); len(ps) != 1 || ps[0] != target {
		t.Errorf("the refused run left containers: %v", ps)
	}
	out := dockerOK(t, d, "run", "--rm", "--net", "none", "--userns", "host", "--pid", "container:"+target, "busybox", "cat", "/proc/1/comm")
	if out != "sleep\n" {
		t.Errorf("--userns host --pid container:: PID 1 is %q, want the target's sleep", out)
	}
	dockerOK(t, d, "rm", "-f", target)
}

// assertRemappedDevices: --device works in a remapped container, where
// mknod is refused: the host's node is bound at the container's path (over
// the bound /dev/null too), and the device cgroup still enforces its
// permissions (fuse: not in docker's default list, harmless to open).
func assertRemappedDevices(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	out := dockerOK(t, d, "run", "--rm", "--net", "none", "--device", "/dev/zero:/dev/myzero", "--device", "/dev/zero:/dev/null",
		"busybox", "sh", "-c", "head -c 3 /dev/myzero | od -An -tx1; head -c 2 /dev/null | wc -c")
	if out != " 00 00 00\n2\n" {
		t.Errorf("remapped --device /dev/zero:/dev/myzero and over /dev/null: %q, want 3 zero bytes and 2 bytes", out)
	}
	out = dockerOK(t, d, "run", "--rm", "--net", "none", "--device", "/dev/fuse:/dev/f:r", "busybox", "sh", "-c",
		"exec 3</dev/f && echo read-open; (exec 4>/dev/f) 2>&1 && echo write-open; true")
	if out != "read-open\nsh: can't create /dev/f: Operation not permitted\n" {
		t.Errorf("remapped --device /dev/fuse:/dev/f:r:\n%s", out)
	}
}

// tarOwner is the uid of name in a tar archive.
func tarOwner(t *testing.T, tarball []byte, name string) int {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s is not in the archive", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(hdr.Name, "./") == name {
			return hdr.Uid
		}
	}
}

// waitForLog waits (bounded) until the container's log has line.
func waitForLog(t *testing.T, d *testutil.Daemon, id, line string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if strings.Contains(d.MustCLI("logs", id), line) {
			return
		}
		d.MustCLI("inspect", "-f", "{{.State.Status}}", id) // paces the loop without a sleep
	}
	t.Fatalf("%s never logged %q: %s", id, line, d.MustCLI("logs", id))
}

// assertArchivesUnshifted: what leaves a remapped container (cp out,
// export, commit) has the owners seen inside (0), not the host's
// (remapped); what cp puts in is the remapped root's on the host.
func assertArchivesUnshifted(t *testing.T, d *testutil.Daemon, id string, remapped int) {
	t.Helper()
	ownerInTar := func(tarball []byte, name string) int { return tarOwner(t, tarball, name) }
	if uid := ownerInTar([]byte(dockerOK(t, d, "cp", id+":/made", "-")), "made"); uid != 0 {
		t.Errorf("docker cp out: /made is uid %d in the tar, want 0", uid)
	}
	if uid := ownerInTar([]byte(dockerOK(t, d, "export", id)), "made"); uid != 0 {
		t.Errorf("docker export: /made is uid %d in the tar, want 0", uid)
	}
	dockerOK(t, d, "commit", id, "remapped:committed")
	out := dockerOK(t, d, "run", "--rm", "--userns", "host", "remapped:committed", "stat", "-c", "%u", "/made")
	if out != "0\n" {
		t.Errorf("committed /made seen by the host's root: uid %q, want 0", out)
	}
	dockerOK(t, d, "rmi", "remapped:committed")

	src := filepath.Join(t.TempDir(), "copied")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dockerOK(t, d, "cp", src, id+":/copied")
	if uid, _ := ownerOf(t, filepath.Join(d.DataRoot, "containers", id, "diff", "copied")); uid != remapped {
		t.Errorf("docker cp in: /copied is uid %d on the host, want %d", uid, remapped)
	}
}

// TestUsernsRemapBuild: a RUN step runs remapped too (its uid_map is
// dockremap's), and its layer holds the owners seen inside (0), not the
// host's: the image's root sees its files as root's.
func TestUsernsRemapBuild(t *testing.T) {
	d, root := startRemappedDaemon(t)
	r := d.CLIInput("FROM busybox\nRUN tr -s ' ' </proc/self/uid_map | sed 's/^ //' > /map && touch /made\n", "build", "-q", "-t", "remapped:built", "-")
	if r.Code != 0 {
		t.Fatalf("build: %s\n%s", r.Combined(), d.Log())
	}
	out := dockerOK(t, d, "run", "--rm", "--userns", "host", "remapped:built", "sh", "-c", "cat /map; stat -c %u:%g /made")
	if want := "0 " + strconv.Itoa(root) + " 65536\n0:0\n"; out != want {
		t.Errorf("built image: %q, want %q", out, want)
	}
	dockerOK(t, d, "rmi", "remapped:built")
}

// TestUsernsRemapKeptAcrossRestarts: a container keeps the user namespace
// it was created with when the daemon restarts under another setting. Made
// remapped, it is not started by a daemon without --userns-remap (it would
// run as the host's root), though export still maps its files back to 0;
// made without, it is not started by a remapping daemon (its files are the
// host root's), by hand or by its restart policy; each starts again under
// the setting it was made with.
func TestUsernsRemapKeptAcrossRestarts(t *testing.T) {
	d, root := startRemappedDaemon(t)
	remapArgs := d.Args
	uidMap := `tr -s ' ' </proc/self/uid_map | sed 's/^ //'`
	dockerOK(t, d, "create", "--name", "remapped", "busybox", "sh", "-c", "touch /made; "+uidMap)
	remappedMap := "0 " + strconv.Itoa(root) + " 65536\n"
	if out := dockerOK(t, d, "start", "-a", "remapped"); out != remappedMap {
		t.Fatalf("remapped container: uid_map %q, want %q", out, remappedMap)
	}

	d.Stop()
	d.Args = nil
	d.Start()
	wantRemapped := "container remapped was created with --userns-remap (root is host uid " + strconv.Itoa(root) +
		") and this daemon would start it without --userns-remap (root is the host's root)"
	if r := d.Docker("start", "remapped"); r.Code == 0 || !strings.Contains(r.Stderr, wantRemapped) {
		t.Errorf("remapped container under a daemon without remap: exit %d, %q; want %q", r.Code, r.Stderr, wantRemapped)
	}
	if uid := tarOwner(t, []byte(dockerOK(t, d, "export", "remapped")), "made"); uid != 0 {
		t.Errorf("export under a daemon without remap: /made is uid %d in the tar, want 0 (the recorded maps)", uid)
	}
	dockerOK(t, d, "create", "--name", "plain", "busybox", "sh", "-c", uidMap)
	dockerOK(t, d, "run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done")

	d.Stop()
	d.Args = remapArgs
	d.Start()
	wantPlain := "was created without --userns-remap (root is the host's root) and this daemon would start it with --userns-remap (root is host uid " + strconv.Itoa(root) + ")"
	if r := d.Docker("start", "plain"); r.Code == 0 || !strings.Contains(r.Stderr, wantPlain) {
		t.Errorf("plain container under a remapping daemon: exit %d, %q; want %q", r.Code, r.Stderr, wantPlain)
	}
	// the daemon's start ran the restart policy before it answered
	if out := dockerOK(t, d, "inspect", "-f", "{{.State.Running}}", "always"); out != "false\n" || !strings.Contains(d.Log(), wantPlain) {
		t.Errorf("--restart always container made without remap, after a restart with it: running %q; want false and %q logged", out, wantPlain)
	}
	if out := dockerOK(t, d, "start", "-a", "remapped"); out != remappedMap {
		t.Errorf("remapped container back under its remap: uid_map %q, want %q", out, remappedMap)
	}
}

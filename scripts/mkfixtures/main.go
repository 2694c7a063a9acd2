// Command mkfixtures remakes testdata/docker: what the real Docker engine
// builds, saves and prints for the fixture image, which minidocker's tests
// compare themselves with (the build, image and layer tests).
//
// What it needs:
//   - root (dockerd runs containers for the Dockerfile's RUN steps);
//   - dockerd 20.10 from Debian's docker.io package (apt-get install
//     docker.io: it brings containerd and runc), whose legacy builder the
//     fixtures describe;
//   - a docker CLI: /usr/local/bin/docker (CLI 28, which the fixtures were
//     first made with: its legacy builder prints a deprecation banner that
//     build-output.txt keeps) if present, else docker.io's own;
//   - GNU tar (for layers-listing.txt, the listing tests parse);
//   - Go and a static busybox binary (Debian's busybox-static), from which
//     scripts/mkbusybox makes the rootfs of the base image.
//
// It runs a private dockerd (its own --data-root, --exec-root and socket
// under a temporary directory, no bridge, no iptables or ip_forward changes,
// so the host's network is left alone), imports busybox into it, builds
// fixture:v1 from testdata/docker/fixture.Dockerfile and context/, writes
// the outputs next to them, then stops that dockerd by its PID and removes
// the temporary directory.
//
//	sudo go run ./scripts/mkfixtures [-out testdata/docker]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	out := flag.String("out", "testdata/docker", "fixture directory: fixture.Dockerfile and context/ are read from it, the outputs written to it")
	dockerd := flag.String("dockerd", "dockerd", "dockerd 20.10 (Debian's docker.io)")
	cli := flag.String("docker", defaultCLI(), "docker CLI")
	flag.Parse()
	if err := run(*out, *dockerd, *cli); err != nil {
		fmt.Fprintln(os.Stderr, "mkfixtures:", err)
		os.Exit(1)
	}
}

func defaultCLI() string {
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	return "docker"
}

func run(out, dockerdBin, cli string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: dockerd runs the build's RUN steps in containers")
	}
	for _, p := range []string{filepath.Join(out, "fixture.Dockerfile"), filepath.Join(out, "context")} {
		if _, err := os.Stat(p); err != nil {
			return err
		}
	}
	work, err := os.MkdirTemp("", "mkfixtures-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	d, err := startDockerd(dockerdBin, cli, work)
	if err != nil {
		return err
	}
	defer d.stop()
	if err := importBusybox(d, work); err != nil {
		return err
	}
	if err := prepareBuild(out, work); err != nil {
		return err
	}
	return makeFixtures(d, out, work)
}

// makeFixtures builds fixture:v1 twice (no cache, then cached) and writes
// what docker printed and saved.
func makeFixtures(d *dockerd, out, work string) error {
	build := []string{"build", "-t", "fixture:v1", "-f", "fixture.Dockerfile", "context"}
	var first bytes.Buffer // stdout and stderr interleaved, as `> f 2>&1` gives
	if err := d.dockerIn(work, &first, &first, append([]string{"build", "--no-cache"}, build[1:]...)...); err != nil {
		return fmt.Errorf("%w\n%s", err, first.String())
	}
	var stdout, stderr bytes.Buffer // stderr first, then stdout
	if err := d.dockerIn(work, &stdout, &stderr, build...); err != nil {
		return err
	}
	files := map[string][]byte{
		"build-output.txt":        first.Bytes(),
		"build-output-cached.txt": append(stderr.Bytes(), stdout.Bytes()...),
	}
	for name, args := range map[string][]string{
		"image-inspect.json": {"image", "inspect", "fixture:v1"},
		"history.txt":        {"history", "--no-trunc", "fixture:v1"},
	} {
		var b bytes.Buffer
		if err := d.docker(&b, nil, args...); err != nil {
			return err
		}
		files[name] = b.Bytes()
	}
	saveTar := filepath.Join(out, "fixture-v1.docker-save.tar")
	if err := d.docker(nil, nil, "save", "-o", saveTar, "fixture:v1"); err != nil {
		return err
	}
	if err := os.Chmod(saveTar, 0o644); err != nil { // docker save -o makes it 0600
		return err
	}
	listing, err := layersListing(saveTar, work)
	if err != nil {
		return err
	}
	files["layers-listing.txt"] = listing
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// importBusybox makes the base image as the fixtures' busybox:latest was
// made: `docker import` of the busybox rootfs (the layer of our offline
// busybox image, from scripts/mkbusybox) with CMD, PATH and a label. So its
// history reads "Imported from -", as the tests' fake base image does.
func importBusybox(d *dockerd, work string) error {
	rootfs := filepath.Join(work, "busybox-rootfs.tar")
	mk := exec.Command("go", "run", "./scripts/mkbusybox", "-rootfs-tar", rootfs)
	if out, err := mk.CombinedOutput(); err != nil {
		return fmt.Errorf("mkbusybox: %v\n%s", err, out)
	}
	return d.docker(io.Discard, nil, "import",
		"--change", `CMD ["sh"]`,
		"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", "LABEL minidocker.peer=busybox",
		rootfs, "busybox:latest")
}

// prepareBuild copies the Dockerfile and the context into work with the
// modes a fresh checkout has (0644 files, 0755 dirs): the COPY lines of the
// history hash them, so the tests see the same hashes.
func prepareBuild(out, work string) error {
	df, err := os.ReadFile(filepath.Join(out, "fixture.Dockerfile"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "fixture.Dockerfile"), df, 0o644); err != nil {
		return err
	}
	src := filepath.Join(out, "context")
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(work, "context", rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

// dockerd is the private daemon.
type dockerd struct {
	cmd      *exec.Cmd
	cli, dir string
	host     string
	cgroup   string // the parent of the build's containers, removed at stop
}

// startDockerd starts dockerd with everything of its own under dir and
// waits until it answers.
func startDockerd(bin, cli, dir string) (*dockerd, error) {
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, err
	}
	d := &dockerd{cli: cli, dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"),
		cgroup: fmt.Sprintf("mkfixtures-%d", os.Getpid())}
	d.cmd = exec.Command(bin,
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"-H", d.host,
		"--iptables=false", "--ip-masq=false", "--ip-forward=false", "--bridge=none",
		"--storage-driver", "overlay2", "--cgroup-parent", "/"+d.cgroup)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	for i := 0; i < 120; i++ {
		if d.docker(io.Discard, io.Discard, "version") == nil {
			return d, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.stop()
	log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
	return nil, fmt.Errorf("dockerd did not answer within a minute:\n%s", log)
}

// stop ends dockerd by its PID (SIGTERM, then SIGKILL after 30 s); dockerd
// stops the containerd it started itself.
func (d *dockerd) stop() {
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	// the (by now empty) parent cgroup in every hierarchy (cgroup v1) or
	// the one tree (v2)
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + d.cgroup)
	for _, c := range append(dirs, "/sys/fs/cgroup/"+d.cgroup) {
		os.Remove(c)
	}
}

func (d *dockerd) docker(stdout, stderr io.Writer, args ...string) error {
	return d.dockerIn("", stdout, stderr, args...)
}

// dockerIn runs the docker CLI against the private daemon in directory dir.
func (d *dockerd) dockerIn(dir string, stdout, stderr io.Writer, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.cli, append([]string{"-H", d.host}, args...)...)
	cmd.Dir = dir
	// DOCKER_BUILDKIT unset: the CLI then falls back to the legacy builder
	// (no buildx here) with the banner the fixtures show
	cmd.Env = append(withoutVar(os.Environ(), "DOCKER_BUILDKIT"), "DOCKER_CONFIG="+filepath.Join(d.dir, "cli-config"), "DOCKER_HOST=")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if stderr == nil {
		cmd.Stderr = &errb
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return nil
}

// withoutVar is env without the variable name.
func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

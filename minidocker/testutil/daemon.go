package testutil

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Daemon is one isolated minidocker daemon started for a test: its own
// data root, exec root, socket, bridge, subnet, iptables chains and cgroup
// parent, so tests run in parallel and never touch a user's daemon.
type Daemon struct {
	t        testing.TB
	Bin      string // the minidocker binary
	Dir      string // everything the daemon writes lives below here
	Socket   string
	Host     string // unix://Socket, for -H
	DataRoot string
	ExecRoot string
	Bridge   string
	Bip      string
	Chain    string
	Cgroup   string
	Args     []string // extra daemon flags

	cmd  *exec.Cmd
	log  *SyncBuffer
	done chan error
}

// StartDaemon builds (once) and starts an isolated daemon, waits until it
// answers /_ping, and registers a cleanup that stops it and fails the test
// if it left mounts, processes, cgroups or network objects behind.
func StartDaemon(t testing.TB, extraArgs ...string) *Daemon {
	t.Helper()
	RequireRoot(t)
	d := NewDaemon(t, extraArgs...)
	d.StartWithCleanup()
	return d
}

// StartWithCleanup starts d and registers StartDaemon's cleanup: remove
// the containers, stop the daemon, fail the test on leaks (NewDaemon's own
// cleanup purges after that).
func (d *Daemon) StartWithCleanup() {
	d.t.Helper()
	d.Start()
	d.t.Cleanup(func() {
		d.RemoveAllContainers()
		d.Stop()
		d.AssertNoLeaks()
	})
}

// NewDaemon prepares the settings of an isolated daemon without starting it.
func NewDaemon(t testing.TB, extraArgs ...string) *Daemon {
	t.Helper()
	// The socket path must stay under the 108-byte sun_path limit, so the
	// whole tree lives in a short /tmp directory rather than t.TempDir().
	dir, err := os.MkdirTemp("/tmp", "mdt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tag := RandomHex(3)
	d := &Daemon{
		t: t, Bin: Binary(t), Dir: dir,
		Socket:   filepath.Join(dir, "md.sock"),
		DataRoot: filepath.Join(dir, "data"),
		ExecRoot: filepath.Join(dir, "exec"),
		Bridge:   "mdt" + tag,
		Bip:      uniqueSubnet(),
		Chain:    "MDT" + strings.ToUpper(tag),
		Cgroup:   "minidocker-test-" + tag,
		Args:     extraArgs,
	}
	d.Host = "unix://" + d.Socket
	t.Cleanup(d.Purge) // runs after the test's own stop (cleanups run last-in, first-out)
	return d
}

// DaemonArgs is the full command line of the daemon.
func (d *Daemon) DaemonArgs() []string {
	args := []string{"-H", d.Host, "daemon",
		"--config-file", filepath.Join(d.Dir, "daemon.json"),
		"--data-root", d.DataRoot, "--exec-root", d.ExecRoot,
		"--pidfile", filepath.Join(d.Dir, "minidocker.pid"),
		"--bridge", d.Bridge, "--bip", d.Bip, "--iptables-chain", d.Chain,
		"--cgroup-parent", d.Cgroup, "--log-level", "debug", "--remove-network-on-exit"}
	if _, err := exec.LookPath("iptables"); err != nil {
		// The cgroup-v2 VM (scripts/cgroup2-vm-test.sh) has busybox and no
		// iptables; its tests run with --net none or on a bridge without NAT.
		args = append(args, "--iptables=false")
	}
	return append(args, d.Args...)
}

// WriteConfig writes the daemon.json the daemon reads (before Start).
func (d *Daemon) WriteConfig(json string) {
	if err := os.WriteFile(filepath.Join(d.Dir, "daemon.json"), []byte(json), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// Start runs the daemon and waits for its socket to answer.
func (d *Daemon) Start() {
	d.t.Helper()
	if _, err := os.Stat(filepath.Join(d.Dir, "daemon.json")); err != nil {
		d.WriteConfig("{}")
	}
	d.log = &SyncBuffer{}
	d.cmd = exec.Command(d.Bin, d.DaemonArgs()...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.Env = append(os.Environ(), "MINIDOCKER_HOST=")
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan error, 1)
	go func() { d.done <- d.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if d.Ping() == nil {
			return
		}
		select {
		case err := <-d.done:
			d.t.Fatalf("daemon exited during start: %v\n%s", err, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.t.Fatalf("daemon did not answer /_ping within 20s\n%s", d.log.String())
}

// Ping asks the daemon's /_ping once.
func (d *Daemon) Ping() error {
	resp, err := d.HTTPClient().Get("http://minidocker/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping answered %s", resp.Status)
	}
	return nil
}

// HTTPClient talks HTTP to the daemon's socket, for tests of the raw API.
func (d *Daemon) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.Socket)
		},
	}}
}

// Pid is the daemon process's PID while it runs.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Log is everything the daemon printed so far.
func (d *Daemon) Log() string { return d.log.String() }

// Stop sends SIGTERM and waits for the daemon to exit cleanly.
func (d *Daemon) Stop() {
	d.t.Helper()
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("daemon exited with %v after SIGTERM\n%s", err, d.log.String())
		}
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		d.t.Errorf("daemon ignored SIGTERM for 20s\n%s", d.log.String())
	}
}

// Purge leaves the machine as it was before the daemon's first start, even
// when a test killed the daemon: a daemon that is not running is started
// once more and stopped, because a clean stop (--remove-network-on-exit)
// removes its bridge and chains; then the empty cgroup parent goes. testutil
// imports no minidocker package, so that every package's tests can use it.
func (d *Daemon) Purge() {
	if d.cmd != nil && d.cmd.ProcessState != nil {
		if _, err := os.Stat("/sys/class/net/" + d.Bridge); err == nil {
			d.Start()
			d.Stop()
		}
	}
	for _, dir := range cgroupsNamed(d.Cgroup) {
		_ = os.Remove(dir)
	}
}

// Kill9 kills the daemon the hard way, as a crash would.
func (d *Daemon) Kill9() {
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Restart starts the daemon again with the same settings.
func (d *Daemon) Restart() {
	d.t.Helper()
	d.Stop()
	d.Start()
}

// Result is what a command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Combined is stdout then stderr.
func (r Result) Combined() string { return r.Stdout + r.Stderr }

// CLI runs `minidocker -H <this daemon> args...`.
func (d *Daemon) CLI(args ...string) Result {
	return d.run(d.Bin, append([]string{"-H", d.Host}, args...), nil)
}

// CLIInput runs the CLI with stdin.
func (d *Daemon) CLIInput(stdin string, args ...string) Result {
	return d.run(d.Bin, append([]string{"-H", d.Host}, args...), strings.NewReader(stdin))
}

// Docker runs the real docker CLI against this daemon.
func (d *Daemon) Docker(args ...string) Result {
	return d.run(DockerCLI(d.t), append([]string{"-H", d.Host}, args...), nil)
}

// MustCLI runs the CLI and fails the test unless it exits 0.
func (d *Daemon) MustCLI(args ...string) string {
	d.t.Helper()
	r := d.CLI(args...)
	if r.Code != 0 {
		d.t.Fatalf("minidocker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

func (d *Daemon) run(bin string, args []string, stdin *strings.Reader) Result {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "MINIDOCKER_HOST=", "DOCKER_HOST=", "DOCKER_CONFIG="+filepath.Join(d.Dir, "docker-config"))
	if stdin != nil {
		cmd.Stdin = stdin
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("running %s: %v", bin, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// RemoveAllContainers force-removes whatever containers a test left.
func (d *Daemon) RemoveAllContainers() {
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return
	}
	r := d.CLI("ps", "-aq")
	if r.Code != 0 {
		return
	}
	for _, id := range strings.Fields(r.Stdout) {
		d.CLI("rm", "-f", id)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Binary is the minidocker binary under test: $MINIDOCKER_BIN when the
// Makefile built it, otherwise built once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("MINIDOCKER_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "minidocker-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "minidocker")
		cmd := exec.Command("go", "build", "-o", builtBin, "./minidocker")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// RepoRoot is the directory holding go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// DockerCLI is the path of the real docker CLI the compatibility tests drive.
func DockerCLI(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("docker")
	if err != nil {
		if InCI() {
			t.Fatal("the docker CLI is missing: .ci/run must install it")
		}
		t.Skip("the real docker CLI is not installed")
	}
	return p
}

// RandomHex is n random bytes in hex: names that tests running side by
// side do not share.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uniqueSubnet picks a /24 in 10.66.0.0/16 no interface of this host uses.
// Parallel tests may still race for one; the daemon then fails to start
// with a clear error rather than sharing a subnet.
func uniqueSubnet() string {
	used := map[string]bool{}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			addrs, _ := i.Addrs()
			for _, a := range addrs {
				used[a.String()] = true
			}
		}
	}
	for {
		b := make([]byte, 1)
		_, _ = rand.Read(b)
		n := 10 + int(b[0])%240
		cidr := fmt.Sprintf("10.66.%d.1/24", n)
		if !used[cidr] {
			return cidr
		}
	}
}

// SyncBuffer is a bytes.Buffer that a process's output goroutines and the
// test may use at once.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p under the lock.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

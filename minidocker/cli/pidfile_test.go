package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWritePidfile: the daemon records its PID ("PID\n"); a pidfile that
// names a live process stops a second daemon and is left alone; a stale
// one (a dead PID, garbage, our own PID after an exec) is replaced.
func TestWritePidfile(t *testing.T) {
	dir := t.TempDir()
	self := strconv.Itoa(os.Getpid()) + "\n"
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }

	fresh := filepath.Join(dir, "fresh.pid")
	if err := writePidfile(fresh); err != nil || read(fresh) != self {
		t.Fatalf("fresh pidfile: %v, content %q; want %q", err, read(fresh), self)
	}

	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	busy := filepath.Join(dir, "busy.pid")
	os.WriteFile(busy, []byte(strconv.Itoa(live.Process.Pid)+"\n"), 0o644)
	err := writePidfile(busy)
	if err == nil || !strings.Contains(err.Error(), "pid file found, ensure minidocker is not running or delete "+busy) {
		t.Errorf("pidfile of a live process: %v; want dockerd's 'pid file found' refusal", err)
	}
	if read(busy) != strconv.Itoa(live.Process.Pid)+"\n" {
		t.Errorf("the live daemon's pidfile was changed to %q", read(busy))
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"dead":    strconv.Itoa(dead.Process.Pid) + "\n",
		"garbage": "not a pid\n",
		"self":    self,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".pid")
			os.WriteFile(p, []byte(content), 0o644)
			if err := writePidfile(p); err != nil || read(p) != self {
				t.Errorf("%s pidfile: %v, content %q; want it replaced by %q", name, err, read(p), self)
			}
		})
	}
}

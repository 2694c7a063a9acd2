package libcontainer

import (
	"os"
	"strings"
	"testing"
)

func TestPid1IsTheCommand(t *testing.T) {
	spec, bundle := newSpec(t, "sh", "-c", "echo $$; ps -o pid,comm; hostname; echo err >&2")
	out, errs, st := run(t, spec, bundle)
	if st.ExitCode != 0 {
		t.Fatalf("exit %d (%s) out=%q err=%q", st.ExitCode, st.Error, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "1" {
		t.Errorf("PID of the CMD = %q, want 1 (out %q)", lines[0], out)
	}
	// ps shows sh (1) and ps itself only
	var procs []string
	for _, l := range lines[2 : len(lines)-1] { // after the header
		procs = append(procs, strings.Join(strings.Fields(l), " "))
	}
	if len(procs) != 2 || procs[0] != "1 sh" {
		t.Errorf("ps inside = %q, want only [1 sh, N ps]; out %q", procs, out)
	}
	if got := lines[len(lines)-1]; got != spec.Hostname {
		t.Errorf("hostname = %q, want %q", got, spec.Hostname)
	}
	if errs != "err\n" {
		t.Errorf("stderr = %q", errs)
	}
	_ = os.Getpid
}

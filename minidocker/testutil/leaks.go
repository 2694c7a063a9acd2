package testutil

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// AssertNoLeaks fails the test if anything the daemon made outlives it:
// mounts under its directories, processes started from its exec root
// (shims, containers), cgroups under its parent, its bridge's veths, its
// iptables chains. Containers were removed and the daemon stopped before.
func (d *Daemon) AssertNoLeaks() {
	d.t.Helper()
	for _, what := range d.Leaks() {
		d.t.Errorf("leaked after the daemon stopped: %s", what)
	}
}

// Leaks lists what is left; empty means clean.
func (d *Daemon) Leaks() []string {
	var left []string
	for _, m := range mountsUnder(d.Dir) {
		left = append(left, "mount "+m)
	}
	for _, p := range processesMentioning(d.Dir) {
		left = append(left, "process "+p)
	}
	for _, c := range cgroupsNamed(d.Cgroup) {
		if entries, _ := os.ReadDir(c); hasSubdirs(entries) {
			left = append(left, "cgroup "+c)
		}
	}
	for _, table := range []string{"nat", "filter"} {
		out, _ := exec.Command("iptables", "-w", "-t", table, "-S").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, d.Chain) {
				left = append(left, "iptables "+table+" "+line)
			}
		}
	}
	if _, err := os.Stat("/sys/class/net/" + d.Bridge); err == nil {
		links, _ := filepath.Glob("/sys/class/net/" + d.Bridge + "/brif/*")
		left = append(left, "bridge "+d.Bridge+" with ports "+strings.Join(links, " "))
	}
	return left
}

func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			found = append(found, fields[4])
		}
	}
	return found
}

// processesMentioning lists the processes whose command line names a path
// below dir, or whose working directory is below dir (a shim works in its
// bundle).
func processesMentioning(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/"
	for _, p := range procs {
		if strings.HasPrefix(p, self) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		cwd, _ := os.Readlink(filepath.Join(filepath.Dir(p), "cwd"))
		if strings.Contains(cmd, dir+"/") || strings.HasPrefix(cwd, dir+"/") {
			found = append(found, filepath.Base(filepath.Dir(p))+": "+cmd+" (in "+cwd+")")
		}
	}
	return found
}

func cgroupsNamed(parent string) []string {
	var found []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/" + parent, "/sys/fs/cgroup/" + parent} {
		m, _ := filepath.Glob(pattern)
		found = append(found, m...)
	}
	return found
}

func hasSubdirs(entries []os.DirEntry) bool {
	for _, e := range entries {
		if e.IsDir() {
			return true
		}
	}
	return false
}

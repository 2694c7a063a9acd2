package daemon

// docker top: like dockerd, run the host's ps and keep the lines whose PID
// is in the container's cgroup. ps sees the host's PID namespace, so the
// PIDs are host PIDs (the article's `docker top` shows them that way too).

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// containerCgroup opens the running container's cgroup (the shim made it
// as <cgroup-parent>/<id>).
func (d *Daemon) containerCgroup(c *Container) (*cgroups.Cgroup, error) {
	return cgroups.Load(d.cfg.CgroupParent, c.ID)
}

// ContainerTop is GET /containers/{id}/top?ps_args=.
func (d *Daemon) ContainerTop(ref, psArgs string) (container.TopResponse, error) {
	if psArgs == "" {
		psArgs = "-ef"
	}
	c, err := d.GetContainer(ref)
	if err != nil {
		return container.TopResponse{}, err
	}
	if !c.IsRunning() {
		return container.TopResponse{}, errContainerNotRunning(c.ID)
	}
	cg, err := d.containerCgroup(c)
	if err != nil {
		return container.TopResponse{}, err
	}
	pids, err := cg.Procs()
	if err != nil {
		return container.TopResponse{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -q lists only the given PIDs where procps supports it; we filter anyway
	out, err := exec.CommandContext(ctx, "ps", strings.Fields(psArgs)...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return container.TopResponse{}, errdefs.Invalid("Error running ps: %s", msg)
	}
	top, err := parsePS(out, pids)
	if err == nil {
		d.containerEvent(c, "top")
	}
	return top, err
}

// parsePS keeps the lines of ps output whose PID column is one of pids. The
// last column (the command) may contain spaces: it gets the rest of the line.
func parsePS(out []byte, pids []int) (container.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var r container.TopResponse
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return r, errdefs.Invalid("ps printed nothing")
	}
	r.Titles = strings.Fields(lines[0])
	pidCol := -1
	for i, t := range r.Titles {
		if t == "PID" {
			pidCol = i
		}
	}
	if pidCol < 0 {
		return r, errdefs.Invalid("Couldn't find PID field in ps output")
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	r.Processes = [][]string{}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) <= pidCol {
			continue
		}
		pid, err := strconv.Atoi(fields[pidCol])
		if err != nil {
			return r, errdefs.Invalid("Unexpected pid '%s': %v", fields[pidCol], err)
		}
		if !want[pid] {
			continue
		}
		n := len(r.Titles)
		if len(fields) > n {
			fields = append(fields[:n-1:n-1], joinRest(line, n-1))
		}
		r.Processes = append(r.Processes, fields)
	}
	return r, nil
}

// joinRest is line from its n-th whitespace-separated field on, with the
// original spacing kept.
func joinRest(line string, n int) string {
	b := []byte(line)
	i := 0
	for f := 0; f < n; f++ {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			i++
		}
	}
	return string(bytes.TrimLeft(b[i:], " \t"))
}

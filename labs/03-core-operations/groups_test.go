package coreoperations

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// docker's management groups through our CLI: `container run|ls|inspect|
// pause|unpause|update|rm` and `system info` do what the short forms do;
// pause freezes the container, update changes its limits and restart
// policy while it runs, and `container inspect` knows containers only.
func TestContainerGroup(t *testing.T) {
	d := preload.StartDaemon(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	id := strings.TrimSpace(d.MustCLI("container", "run", "-d", "--name", "box", "busybox", "sleep", "300"))
	assert.Equal(t, id[:12]+"\n", d.MustCLI("container", "ls", "-q"))
	assert.Equal(t, id+"\n", d.MustCLI("container", "list", "-q", "--no-trunc"))

	assert.Equal(t, "box\n", d.MustCLI("container", "pause", "box"))
	assert.Equal(t, "paused true\n", d.MustCLI("container", "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "box"))
	r := d.CLI("container", "pause", "box", "nobody")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Error response from daemon: No such container: nobody")
	assert.Equal(t, "box\n", d.MustCLI("unpause", "box"))
	assert.Equal(t, "running false\n", d.MustCLI("container", "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "box"))

	r = d.CLI("container", "update", "box")
	assert.Equal(t, 1, r.Code)
	assert.Equal(t, "you must provide one or more flags when using this command\n", r.Stderr)
	assert.Equal(t, "box\n", d.MustCLI("container", "update", "-m", "64m", "--memory-swap", "128m", "--restart", "on-failure:2", "box"))
	assert.Equal(t, "67108864 134217728 on-failure 2\n", d.MustCLI("container", "inspect", "-f",
		"{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "box"))
	r = d.CLI("update", "--memory-reservation", "32m", "box")
	assert.Equal(t, 1, r.Code, "a limit the daemon does not apply is refused, not ignored")
	assert.Equal(t, d.Docker("update", "--memory-reservation", "32m", "box").Stderr, r.Stderr)

	r = d.CLI("container", "inspect", "busybox")
	assert.Equal(t, 1, r.Code, "container inspect does not fall back to images")
	assert.Equal(t, "[]\n", r.Stdout)
	assert.Equal(t, "Error response from daemon: No such container: busybox\n", r.Stderr)
	assert.Contains(t, d.MustCLI("system", "info"), " Containers: 1\n  Running: 1\n")
	assert.Equal(t, "box\n", d.MustCLI("container", "rm", "-f", "box"))

	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	events := d.MustCLI("system", "events", "--since", since, "--until", until, "--filter", "container=box")
	assert.Contains(t, events, " container pause "+id+" (image=busybox, name=box)\n")
	assert.Contains(t, events, " container destroy "+id+" (image=busybox, name=box)\n")
	assert.Equal(t, d.Docker("events", "--since", since, "--until", until, "--filter", "container=box").Stdout, events,
		"system events prints what docker events prints")
}

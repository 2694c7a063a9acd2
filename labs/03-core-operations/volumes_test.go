package coreoperations

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// Volumes through our CLI: `volume create` makes a named volume that holds
// data from one container to the next, `volume ls`/`inspect` print what
// docker 28 prints for the same daemon, a volume in use is not removed,
// and `prune` removes the unused ones, anonymous ones only unless -a.
func TestVolumeCommands(t *testing.T) {
	d := preload.StartDaemon(t)
	assert.Equal(t, "data\n", d.MustCLI("volume", "create", "--label", "com.example.tier=db", "data"))
	anon := strings.TrimSpace(d.MustCLI("volume", "create"))
	assert.Len(t, anon, 64, "a volume without a name gets a random one")
	d.MustCLI("volume", "create", "v10")
	d.MustCLI("volume", "create", "v2")

	d.MustCLI("run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	assert.Equal(t, "kept\n", d.MustCLI("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f"),
		"a second container sees what the first wrote in the volume")

	for _, args := range [][]string{
		{"volume", "ls"},
		{"volume", "ls", "-q"},
		{"volume", "ls", "--format", "json"},
		{"volume", "ls", "--filter", "dangling=true", "--format", `table {{.Name}}\t{{.Label "com.example.tier"}}\t{{.Mountpoint}}`},
		{"volume", "ls", "--filter", "label=com.example.tier=db", "--format", "{{.Name}} {{.Labels}} {{.Scope}}"},
		{"volume", "inspect", "data", "v2"},
		{"volume", "inspect", "-f", "{{.Name}} {{json .Labels}}", "data"},
		{"volume", "inspect", "data", "missing"},
	} {
		ours, docker := d.CLI(args...), d.Docker(args...)
		assert.Equal(t, docker.Stdout, ours.Stdout, "%q: stdout as docker's", args)
		assert.Equal(t, docker.Stderr, ours.Stderr, "%q: stderr as docker's", args)
		assert.Equal(t, docker.Code, ours.Code, "%q: exit code as docker's", args)
	}

	r := d.CLI("volume", "rm", "data")
	assert.Equal(t, 1, r.Code)
	writer := d.Inspect("writer")["Id"].(string)
	assert.Equal(t, "Error response from daemon: remove data: volume is in use - ["+writer+"]\n", r.Stderr)
	dataDir := filepath.Join(d.DataRoot, "volumes", "data")
	require.DirExists(t, dataDir, "a volume in use stays")

	d.MustCLI("rm", "writer")
	assert.Equal(t, "data\n", d.MustCLI("volume", "rm", "data"))
	assert.NoDirExists(t, dataDir)
	r = d.CLI("volume", "rm", "data")
	assert.Equal(t, 1, r.Code)
	assert.Equal(t, "Error response from daemon: get data: no such volume\n", r.Stderr)
	assert.Equal(t, "data\n", d.MustCLI("volume", "rm", "-f", "data"), "-f: a missing volume is no error")

	// prune: without -f it asks, and "n" keeps everything
	d.MustCLI("run", "--name", "scratch", "-v", "/scratch", "busybox", "sh", "-c", "head -c 3000 /dev/zero > /scratch/f")
	d.MustCLI("rm", "scratch") // without -v: its anonymous volume stays
	r = d.CLIInput("n\n", "volume", "prune")
	assert.Equal(t, 0, r.Code)
	assert.Equal(t, "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ", r.Stdout)
	left := strings.Fields(d.MustCLI("volume", "ls", "-q"))
	require.Len(t, left, 4)

	out := d.MustCLI("volume", "prune", "-f")
	anonymous := []string{}
	for _, name := range left {
		if name != "v2" && name != "v10" {
			anonymous = append(anonymous, name)
		}
	}
	assert.ElementsMatch(t, anonymous, strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, "Deleted Volumes:\n"), "\n\nTotal reclaimed space: 3kB\n"), "\n"),
		"prune without -a removes the anonymous volumes only, and counts their 3000 bytes: %s", out)
	assert.Equal(t, "v2\nv10\n", d.MustCLI("volume", "ls", "-q"), "names sorted as docker sorts them (v2 before v10)")
	assert.Equal(t, "Deleted Volumes:\nv10\nv2\n\nTotal reclaimed space: 0B\n", sortedPrune(d.MustCLI("volume", "prune", "-af")))
	assert.Equal(t, "", d.MustCLI("volume", "ls", "-q"))
}

// sortedPrune sorts the names of a prune report (the daemon lists them in
// no particular order).
func sortedPrune(out string) string {
	head, tail, ok := strings.Cut(out, "\n\n")
	if !ok {
		return out
	}
	lines := strings.Split(head, "\n")
	names := lines[1:]
	slices.Sort(names)
	return lines[0] + "\n" + strings.Join(names, "\n") + "\n\n" + tail
}

// Run and create mount with --mount as docker does: a volume, a read-only
// bind (writing to it fails), a tmpfs of the size asked; --volumes-from
// gives a second container the first one's mounts; the specs docker's CLI
// refuses are refused with its message and exit code 125, creating nothing.
func TestRunMountFlags(t *testing.T) {
	d := preload.StartDaemon(t)
	host := filepath.Join(d.Dir, "src")
	require.NoError(t, os.MkdirAll(host, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(host, "hello"), []byte("from the host\n"), 0o644))

	d.MustCLI("run", "--name", "first",
		"--mount", "type=volume,source=shared,target=/shared",
		"--mount", "type=bind,src="+host+",dst=/src,readonly",
		"--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m",
		"busybox", "sh", "-c", "echo written > /shared/f && cat /src/hello")
	in := d.Inspect("first")
	mounts := map[string]map[string]any{}
	for _, m := range in["Mounts"].([]any) {
		mounts[m.(map[string]any)["Destination"].(string)] = m.(map[string]any)
	}
	assert.Equal(t, "shared", mounts["/shared"]["Name"])
	assert.Equal(t, false, mounts["/src"]["RW"])
	assert.Equal(t, "volume", mounts["/shared"]["Type"])

	r := d.CLI("run", "--rm", "--mount", "type=bind,src="+host+",dst=/src,readonly", "busybox", "touch", "/src/x")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Read-only file system")
	assert.NoFileExists(t, filepath.Join(host, "x"))

	out := d.MustCLI("run", "--rm", "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts")
	assert.Contains(t, out, "tmpfs /scratch tmpfs")
	assert.Contains(t, out, "size=1024k")

	assert.Equal(t, "written\nfrom the host\n", d.MustCLI("run", "--rm", "--volumes-from", "first:ro", "busybox", "sh", "-c", "cat /shared/f /src/hello && ! touch /shared/g 2>/dev/null"),
		"--volumes-from first:ro: first's volume and bind, read-only")

	before := d.MustCLI("ps", "-aq")
	for spec, want := range map[string]string{
		"type=bind":                          `invalid argument "type=bind" for "--mount" flag: target is required`,
		"type=tmpfs,dst=/x,volume-label=a=b": `invalid argument "type=tmpfs,dst=/x,volume-label=a=b" for "--mount" flag: cannot mix 'volume-*' options with mount type 'tmpfs'`,
		"type=bind,src=/nonexistent,dst=/x":  `Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /nonexistent`,
	} {
		r := d.CLI("create", "--mount", spec, "busybox")
		assert.Equal(t, 125, r.Code, spec)
		assert.Contains(t, r.Stderr, want, spec)
		assert.Contains(t, d.Docker("create", "--mount", spec, "busybox").Stderr, want, "docker says the same for %s", spec)
	}
	assert.Equal(t, before, d.MustCLI("ps", "-aq"), "a refused create leaves no container")
	r = d.CLI("create", "--volumes-from", "nobody", "busybox")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, "No such container: nobody")
}

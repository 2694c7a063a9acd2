package networking

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// Our CLI's `network connect|disconnect` and `--network-alias`: an alias
// given at run or at connect resolves, through the embedded DNS, from
// another container on the same user network and from nowhere else; a
// disconnected container's names go; what the daemon refuses (--ip) is
// refused with the daemon's words, as the docker CLI shows them.
func TestNetworkConnectAndAliases(t *testing.T) {
	d := startDaemon(t)
	d.MustCLI("network", "create", "--subnet", testutil.FreeSubnet(t, 24).String(), "front")
	d.MustCLI("network", "create", "--subnet", testutil.FreeSubnet(t, 24).String(), "back")
	runD(t, d, "--name", "api", "--net", "back", "--network-alias", "db-primary", "busybox", "sleep", "300")
	runD(t, d, "--name", "client", "--net", "front", "busybox", "sleep", "300")
	runD(t, d, "--name", "peer", "--net", "back", "busybox", "sleep", "300")

	lookup := func(from, name string) testutil.Result { return d.CLI("exec", from, "nslookup", name) }
	assert.Contains(t, lookup("peer", "db-primary").Stdout, "Address: "+containerIP(t, d, "api").String(),
		"--network-alias at run: the alias resolves on the container's network")
	assert.NotEqual(t, 0, lookup("client", "api").Code, "api is not on front: client cannot see its name")

	assert.Equal(t, "", d.MustCLI("network", "connect", "--alias", "apiv2", "front", "api"))
	frontIP := inspect(t, d, "api").NetworkSettings.Networks["front"].IPAddress
	require.True(t, frontIP.IsValid(), "api has an address on front")
	for _, name := range []string{"api", "apiv2"} {
		assert.Contains(t, lookup("client", name).Stdout, "Address: "+frontIP.String(), "%s from client after connect", name)
	}
	assert.NotEqual(t, 0, lookup("peer", "apiv2").Code, "the alias given on front is not a name on back")
	assert.Contains(t, d.MustCLI("exec", "api", "ip", "-4", "addr"), frontIP.String(), "a second interface in the running container")

	r := d.CLI("network", "connect", "front", "api")
	assert.Equal(t, 1, r.Code)
	assert.Equal(t, "Error response from daemon: endpoint with name api already exists in network front\n", r.Stderr)
	for _, args := range [][]string{
		{"network", "connect", "--ip", "10.99.0.9", "front", "peer"},
		{"network", "connect", "front", "nobody"},
		{"network", "connect", "nonet", "peer"},
	} {
		ours, docker := d.CLI(args...), d.Docker(args...)
		assert.Equal(t, 1, ours.Code, "%q", args)
		assert.Equal(t, docker.Stderr, ours.Stderr, "%q: the daemon's refusal, as docker shows it", args)
	}
	_, onFront := inspect(t, d, "peer").NetworkSettings.Networks["front"]
	assert.False(t, onFront, "a refused connect leaves peer off front")

	assert.Equal(t, "", d.MustCLI("network", "disconnect", "front", "api"))
	assert.NotEqual(t, 0, lookup("client", "apiv2").Code, "after disconnect the alias is gone")
	assert.NotContains(t, d.MustCLI("exec", "api", "ip", "-4", "addr"), frontIP.String())
	r = d.CLI("network", "disconnect", "-f", "front", "api")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "is not connected to network front")

	r = d.CLI("run", "--rm", "--network-alias", "x", "busybox", "true")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, "network-scoped aliases are only supported for user-defined networks")
}

// --add-host, --link, --dns-search and --dns-option through our CLI (and
// --link through docker's): the lines they add to /etc/hosts and
// /etc/resolv.conf.
func TestRunNameFlags(t *testing.T) {
	d := startDaemon(t)
	d.MustCLI("network", "create", "--subnet", testutil.FreeSubnet(t, 24).String(), "app")
	runD(t, d, "--name", "db", "--net", "app", "busybox", "sleep", "300")
	dbIP := containerIP(t, d, "db")
	out := d.MustCLI("run", "--rm", "--net", "app", "--add-host", "printer=10.1.2.3", "--add-host", "gw:host-gateway",
		"--link", "db:database", "--dns-search", "corp.example.", "--dns-option", "ndots:3",
		"busybox", "cat", "/etc/hosts", "/etc/resolv.conf")
	assert.Contains(t, out, "10.1.2.3\tprinter\n")
	assert.Regexp(t, `(?m)^`+strings.ReplaceAll(dbIP.String(), ".", `\.`)+`\tdatabase\b`, out, "--link db:database names db's address")
	assert.Contains(t, out, "search corp.example\n")
	assert.Contains(t, out, "options ndots:3")
	// the docker CLI sends --link in the network's endpoint settings too
	r := d.Docker("run", "--rm", "--net", "app", "--link", "db:database", "busybox", "cat", "/etc/hosts")
	assert.Equal(t, 0, r.Code, r.Stderr)
	assert.Regexp(t, `(?m)^`+strings.ReplaceAll(dbIP.String(), ".", `\.`)+`\tdatabase\b`, r.Stdout, "docker run --link db:database")
	r = d.CLI("run", "--rm", "--dns", "not-an-ip", "busybox", "true")
	assert.Equal(t, 125, r.Code)
	assert.Contains(t, r.Stderr, `invalid argument "not-an-ip" for "--dns" flag: IP address is not correctly formatted: not-an-ip`)
}

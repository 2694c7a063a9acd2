package coreoperations

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// run's exit codes when the container's process never ran, as docker's:
// 127 for a command that is not found, 126 for one that cannot be
// executed, 125 for any other failure to start; with and without -d and
// --rm. The code comes from the daemon's record of the start, so a record
// left by an earlier failed start does not colour a later one.
func TestRunExitCodesWhenTheCommandCannotRun(t *testing.T) {
	d := preload.StartDaemon(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"busybox", "nosuchcmd"}, 127},
		{[]string{"--rm", "busybox", "nosuchcmd"}, 127},
		{[]string{"-d", "busybox", "nosuchcmd"}, 127},
		{[]string{"-d", "--rm", "busybox", "nosuchcmd"}, 127},
		{[]string{"busybox", "/etc"}, 126},
		{[]string{"--rm", "busybox", "/etc/passwd"}, 126},
		{[]string{"-d", "--rm", "busybox", "/etc/passwd"}, 126},
		{[]string{"busybox", "sh", "-c", "exit 127"}, 127}, // it ran: its own exit code
	} {
		r := d.CLI(append([]string{"run"}, tc.args...)...)
		assert.Equal(t, tc.code, r.Code, "run %q\n%s", tc.args, r.Stderr)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	d.MustCLI("create", "--name", "stale", "-p", "127.0.0.1:"+port+":80", "busybox", "nosuchcmd")
	assert.Equal(t, 127, d.CLI("start", "-a", "stale").Code)
	d.MustCLI("run", "-d", "--name", "holder", "-p", "127.0.0.1:"+port+":80", "busybox", "sleep", "300")
	r := d.CLI("start", "-a", "stale")
	assert.Contains(t, r.Stderr, "port is already allocated")
	assert.Equal(t, 125, r.Code, "this start failed on its port, whatever the one before said")
}

package daemon

import (
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// TestDeviceRulesOf: the device cgroup's list is docker's default plus
// each --device with its permissions (a block node gets "b") plus
// --device-cgroup-rule; --privileged allows all; bad input is a 400.
func TestDeviceRulesOf(t *testing.T) {
	hc := &container.HostConfig{}
	hc.Devices = []container.DeviceMapping{{PathOnHost: "/dev/null", CgroupPermissions: "r"}, {PathOnHost: "/dev/loop0"}}
	hc.DeviceCgroupRules = []string{"c 42:* rw"}
	devs := []libcontainer.Device{{Mode: unix.S_IFCHR | 0o666, Major: 1, Minor: 3}, {Mode: unix.S_IFBLK | 0o600, Major: 7, Minor: 0}}
	rules, err := deviceRulesOf(hc, devs)
	require.NoError(t, err)
	want := append(cgroups.DefaultDeviceRules(),
		cgroups.DeviceRule{Type: "c", Major: 1, Minor: 3, Access: "r"},
		cgroups.DeviceRule{Type: "b", Major: 7, Minor: 0, Access: "rwm"},
		cgroups.DeviceRule{Type: "c", Major: 42, Minor: cgroups.AnyNumber, Access: "rw"})
	assert.Equal(t, want, rules)

	hc.Privileged = true
	rules, err = deviceRulesOf(hc, devs)
	require.NoError(t, err)
	assert.Equal(t, []cgroups.DeviceRule{cgroups.AllowAll}, rules)

	hc.DeviceCgroupRules = []string{"c 1:3"}
	_, err = deviceRulesOf(hc, devs)
	assert.True(t, errdefs.IsInvalid(err))
	assert.EqualError(t, err, "invalid device cgroup rule format: 'c 1:3'")

	err = checkDevicePermissions(container.DeviceMapping{PathOnHost: "/dev/null", CgroupPermissions: "rx"})
	assert.True(t, errdefs.IsInvalid(err))
	assert.EqualError(t, err, "bad mode specified: rx")
}

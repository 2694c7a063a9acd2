package daemon

// The device cgroup of a container (cgroups/devices.go): which device
// nodes its processes may open or make. docker's default list, plus one
// rule per --device with its permissions, plus --device-cgroup-rule;
// --privileged allows every device.

import (
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// deviceRulesOf is the allow list for a container whose --device nodes
// are devs (devicesOf: one per hc.Devices entry, in the same order).
func deviceRulesOf(hc *container.HostConfig, devs []libcontainer.Device) ([]cgroups.DeviceRule, error) {
	extra, err := deviceCgroupRulesOf(hc)
	if err != nil {
		return nil, err
	}
	if hc.Privileged {
		return []cgroups.DeviceRule{cgroups.AllowAll}, nil
	}
	rules := cgroups.DefaultDeviceRules()
	for i, dev := range devs {
		kind := "c"
		if dev.Mode&unix.S_IFMT == unix.S_IFBLK {
			kind = "b"
		}
		rules = append(rules, cgroups.DeviceRule{
			Type: kind, Major: int64(dev.Major), Minor: int64(dev.Minor), Access: devicePermissions(hc.Devices[i]),
		})
	}
	return append(rules, extra...), nil
}

// devicePermissions is a --device's cgroup permissions; an API request
// that leaves them out gets docker's default, rwm.
func devicePermissions(m container.DeviceMapping) string {
	if m.CgroupPermissions == "" {
		return "rwm"
	}
	return m.CgroupPermissions
}

// checkDevicePermissions refuses permissions other than r, w and m, as
// docker's CLI does (the API would pass them to runc, which fails later).
func checkDevicePermissions(m container.DeviceMapping) error {
	if !cgroups.ValidDeviceAccess(devicePermissions(m)) {
		return errdefs.Invalid("bad mode specified: %s", m.CgroupPermissions)
	}
	return nil
}

// deviceCgroupRulesOf parses --device-cgroup-rule (HostConfig.DeviceCgroupRules)
// with dockerd's checks and messages. A privileged container's are checked
// too, though it may open everything anyway.
func deviceCgroupRulesOf(hc *container.HostConfig) ([]cgroups.DeviceRule, error) {
	var rules []cgroups.DeviceRule
	for _, s := range hc.DeviceCgroupRules {
		r, err := cgroups.ParseDeviceRule(s)
		if err != nil {
			return nil, errdefs.Invalid("%s", err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

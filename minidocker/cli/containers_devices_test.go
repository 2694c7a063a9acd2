package cli

import (
	"testing"

	"github.com/moby/moby/api/types/container"
)

// TestDeviceFlags: --device reads host[:container][:permissions] as
// docker's CLI does, --device-cgroup-rule is checked against docker's
// pattern; both refuse in docker's words.
func TestDeviceFlags(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want container.DeviceMapping
	}{
		{"/dev/fuse", container.DeviceMapping{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}},
		{"/dev/fuse:r", container.DeviceMapping{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "r"}},
		{"/dev/fuse:/dev/f", container.DeviceMapping{PathOnHost: "/dev/fuse", PathInContainer: "/dev/f", CgroupPermissions: "rwm"}},
		{"/dev/fuse:/dev/f:wr", container.DeviceMapping{PathOnHost: "/dev/fuse", PathInContainer: "/dev/f", CgroupPermissions: "wr"}},
	} {
		got, err := parseDevice(tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("parseDevice(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    RunOptionFlags
		want string
	}{
		{RunOptionFlags{Device: []string{"/dev/fuse:/dev/f:rx"}}, `invalid argument "/dev/fuse:/dev/f:rx" for "--device" flag: bad mode specified: rx`},
		{RunOptionFlags{Device: []string{"/dev/fuse:rr"}}, `invalid argument "/dev/fuse:rr" for "--device" flag: rr is not an absolute path`},
		{RunOptionFlags{DeviceCgroupRule: []string{"c 1:3 z"}}, `invalid argument "c 1:3 z" for "--device-cgroup-rule" flag: invalid device cgroup format 'c 1:3 z'`},
		{RunOptionFlags{DeviceCgroupRule: []string{"a"}}, `invalid argument "a" for "--device-cgroup-rule" flag: invalid device cgroup format 'a'`},
	} {
		err := tc.f.apply(&container.Config{}, &container.HostConfig{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	hc := &container.HostConfig{}
	f := RunOptionFlags{DeviceCgroupRule: []string{"c 1:3 rw", "b *:* m"}}
	if err := f.apply(&container.Config{}, hc); err != nil || len(hc.DeviceCgroupRules) != 2 || hc.DeviceCgroupRules[1] != "b *:* m" {
		t.Errorf("apply: %v, %q", err, hc.DeviceCgroupRules)
	}
}

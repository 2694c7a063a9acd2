package daemon

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// appliedCreateFields are the fields of POST /containers/create that
// minidocker implements, each with the test that proves it does what
// docker does.
var appliedCreateFields = map[string]string{
	"Config.Hostname":     "TestContainerHostname",
	"Config.User":         "TestUserSpecs",
	"Config.AttachStdin":  "TestStdinOnceAndAttachers",
	"Config.AttachStdout": "TestContainerRunRmEcho",
	"Config.AttachStderr": "TestContainerRunRmEcho",
	"Config.ExposedPorts": "TestPublishAll",
	"Config.Tty":          "TestContainerInteractiveTTY",
	"Config.OpenStdin":    "TestStdinOnceAndAttachers",
	"Config.StdinOnce":    "TestStdinOnceAndAttachers",
	"Config.Env":          "TestEnvExpansionAndForms",
	"Config.Cmd":          "TestEntrypointCmdMatrix",
	"Config.Image":        "TestContainerRunRmEcho",
	"Config.Volumes":      "TestAnonymousVolumes",
	"Config.WorkingDir":   "TestWorkdirLayer",
	"Config.Entrypoint":   "TestEntrypointCmdMatrix",
	"Config.Labels":       "TestListFiltersAndLabels",
	"Config.StopSignal":   "TestPID1StopTimeout",
	"Config.StopTimeout":  "TestPID1StopTimeout",
	"Config.Healthcheck":  "TestHealthcheckTurnsUnhealthyAfterRetries",

	"HostConfig.Binds":           "TestBindMounts",
	"HostConfig.ContainerIDFile": "TestContainerIDFile (the client writes the file; dockerd only keeps the field)",
	"HostConfig.CpuShares":       "TestUpdateResourcesLive",
	"HostConfig.LogConfig.Type":  "TestEveryCreateFieldIsAppliedOrRefused (json-file only)",
	"HostConfig.NetworkMode":     "TestNetworkModes",
	"HostConfig.PortBindings":    "TestPortBindings",
	"HostConfig.RestartPolicy":   "TestContainerRestartPolicies",
	"HostConfig.AutoRemove":      "TestContainerRunRmCyclesLeaveNothing",
	"HostConfig.VolumesFrom":     "TestContainerVolumesAndConfig",
	"HostConfig.ConsoleSize":     "TestExecTTY",
	"HostConfig.CapAdd":          "TestConfinementCapabilities",
	"HostConfig.CapDrop":         "TestConfinementCapabilities",
	"HostConfig.CgroupnsMode":    "TestEveryCreateFieldIsAppliedOrRefused (host only)",
	"HostConfig.Privileged":      "TestConfinementPrivileged",
	"HostConfig.PublishAllPorts": "TestPublishAll",
	"HostConfig.ReadonlyRootfs":  "TestConfinementReadOnly",
	"HostConfig.SecurityOpt":     "TestConfinementNoNewPrivileges, TestConfinementSeccomp",
	"HostConfig.MaskedPaths":     "TestSystemPathsUnconfined ([] only: systempaths=unconfined)",
	"HostConfig.ReadonlyPaths":   "TestSystemPathsUnconfined ([] only: systempaths=unconfined)",
	"HostConfig.Tmpfs":           "TestConfinementReadOnly",
	"HostConfig.UsernsMode":      "TestUsernsRemap (host only: opts out of --userns-remap)",
	"HostConfig.Runtime":         "TestEveryCreateFieldIsAppliedOrRefused (runc only)",
	"HostConfig.Isolation":       "TestEveryCreateFieldIsAppliedOrRefused (default only)",
	"HostConfig.Mounts":          "TestMounts",
	"HostConfig.DnsSearch":       "TestNetworkConnectAndDNS",
	"HostConfig.ExtraHosts":      "TestNetworkConnectAndDNS",
	"HostConfig.Dns":             "TestDNSServersAndOptions",
	"HostConfig.DnsOptions":      "TestDNSServersAndOptions",
	"HostConfig.Links":           "TestLegacyLinks",
	"HostConfig.Memory":          "TestContainerMemoryLimitOOM",
	"HostConfig.MemorySwap":      "TestMemorySwap",
	"HostConfig.NanoCpus":        "TestCPUQuota",
	"HostConfig.CpuPeriod":       "TestCPUQuota",
	"HostConfig.CpuQuota":        "TestCPUQuota",
	"HostConfig.PidsLimit":       "TestContainerPidsLimit",

	// runopts.go
	"HostConfig.LogConfig.Config":  "TestLogRotationThroughDocker",
	"HostConfig.Ulimits":           "TestUlimitShmSysctl",
	"HostConfig.ShmSize":           "TestUlimitShmSysctl",
	"HostConfig.Sysctls":           "TestUlimitShmSysctl",
	"HostConfig.Init":              "TestInitDomainnameGroupAdd",
	"Config.Domainname":            "TestInitDomainnameGroupAdd",
	"HostConfig.GroupAdd":          "TestInitDomainnameGroupAdd",
	"HostConfig.IpcMode":           "TestNamespaceModes",
	"HostConfig.PidMode":           "TestNamespaceModes",
	"HostConfig.UTSMode":           "TestNamespaceModes",
	"HostConfig.Devices":           "TestDevices, TestConfinementDevices",
	"HostConfig.DeviceCgroupRules": "TestDevices, TestConfinementDevices",
	"HostConfig.CpusetCpus":        "TestCpusetAndBlkioWeight",
	"HostConfig.CpusetMems":        "TestCpusetAndBlkioWeight",
	"HostConfig.BlkioWeight":       "TestCpusetAndBlkioWeight (a weight file needs BFQ: else discarded with dockerd's warning)",
}

// TestEveryCreateFieldIsAppliedOrRefused walks every field of the API's
// Config and HostConfig: each one is applied (appliedCreateFields) or
// refused with a 400 that names it when a request sets it. A field the
// API gains in a new version fails here until someone decides.
func TestEveryCreateFieldIsAppliedOrRefused(t *testing.T) {
	fields := createFields(&container.Config{}, &container.HostConfig{})
	for name := range fields {
		_, applied := appliedCreateFields[name]
		refused := contains(unsupportedCreateFields, name)
		assert.True(t, applied != refused, "%s must be either applied (with a test) or refused, not %v/%v", name, applied, refused)
	}
	for name := range appliedCreateFields {
		assert.Contains(t, fields, name, "appliedCreateFields names a field the API does not have")
	}
	for _, name := range unsupportedCreateFields {
		cfg, hc := &container.Config{}, &container.HostConfig{}
		v, ok := createFields(cfg, hc)[name]
		require.True(t, ok, "unsupportedCreateFields names a field the API does not have: %s", name)
		setNonZero(v)
		err := refuseUnsupported(cfg, hc)
		require.Error(t, err, "%s set to %v was accepted", name, v)
		assert.True(t, errdefs.IsInvalid(err), "%s: a 400", name)
		assert.Equal(t, "minidocker does not support "+name+" yet", err.Error())
	}
	// fields that take only the values meaning what minidocker does
	for name, allowed := range createFieldValues {
		for _, ok := range append([]string{""}, allowed...) {
			cfg, hc := &container.Config{}, &container.HostConfig{}
			createFields(cfg, hc)[name].SetString(ok)
			assert.NoError(t, refuseUnsupported(cfg, hc), "%s=%q", name, ok)
		}
		cfg, hc := &container.Config{}, &container.HostConfig{}
		createFields(cfg, hc)[name].SetString("container:other")
		err := refuseUnsupported(cfg, hc)
		require.Error(t, err, name)
		assert.True(t, errdefs.IsInvalid(err), "%s: a 400", name)
		assert.True(t, strings.HasPrefix(err.Error(), "minidocker does not support "+name), err.Error())
	}
	// what docker's CLI sends by default asks for nothing
	swappiness, oomKill := int64(-1), false
	assert.NoError(t, refuseUnsupported(&container.Config{Image: "busybox"}, &container.HostConfig{
		Resources:  container.Resources{MemorySwappiness: &swappiness, OomKillDisable: &oomKill, Ulimits: []*container.Ulimit{}},
		LogConfig:  container.LogConfig{Config: map[string]string{}},
		DNSOptions: []string{},
	}))
}

// setNonZero gives v a value a request could send (JSON-encodable).
func setNonZero(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		setNonZero(v.Elem())
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		setNonZero(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		setNonZero(k)
		setNonZero(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(netip.Addr{}) {
			v.Set(reflect.ValueOf(netip.MustParseAddr("127.0.0.1")))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				setNonZero(v.Field(i))
				return
			}
		}
	}
}

package daemon

// The fields of POST /containers/create that minidocker does not implement
// yet. A request that sets one is refused with a 400, never accepted and
// silently ignored: a user who asks for --dns or --ulimit and gets a
// container without it believes something false about that container.
//
// When you implement a field, delete its line here and add the field, with
// the test that proves it, to appliedCreateFields in unsupported_test.go
// (TestEveryCreateFieldIsAppliedOrRefused walks every field of the API's
// Config and HostConfig and fails on one that is in neither list).

import (
	"reflect"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// unsupportedCreateFields names each refused field by its path in the
// request body ("HostConfig.Dns"; Resources' fields are HostConfig's).
var unsupportedCreateFields = []string{
	"Config.ArgsEscaped",
	"Config.NetworkDisabled",
	"Config.OnBuild",
	"Config.Shell",

	"HostConfig.VolumeDriver",
	"HostConfig.Annotations",
	"HostConfig.Cgroup",
	"HostConfig.OomScoreAdj",
	"HostConfig.StorageOpt",
	"HostConfig.Umask",
	"HostConfig.CgroupParent",
	"HostConfig.BlkioWeightDevice",
	"HostConfig.BlkioDeviceReadBps",
	"HostConfig.BlkioDeviceWriteBps",
	"HostConfig.BlkioDeviceReadIOps",
	"HostConfig.BlkioDeviceWriteIOps",
	"HostConfig.CpuRealtimePeriod",
	"HostConfig.CpuRealtimeRuntime",
	"HostConfig.DeviceRequests",
	"HostConfig.MemoryReservation",
	"HostConfig.MemorySwappiness",
	"HostConfig.OomKillDisable",
	"HostConfig.CpuCount",
	"HostConfig.CpuPercent",
	"HostConfig.IOMaximumIOps",
	"HostConfig.IOMaximumBandwidth",
}

// createFieldValues lists the fields that take only some values: the ones
// meaning what minidocker does anyway. Any other value is refused.
var createFieldValues = map[string][]string{
	"HostConfig.LogConfig.Type": {"json-file"},
	"HostConfig.CgroupnsMode":   {"host"}, // no cgroup namespace is made
	"HostConfig.UsernsMode":     {"host"}, // opts out of --userns-remap (userns.go)
	"HostConfig.Isolation":      {"default"},
	"HostConfig.Runtime":        {"runc"},
}

// refuseUnsupported fails on the first field of the request that
// minidocker would not honour, in the order of the table.
func refuseUnsupported(cfg *container.Config, hc *container.HostConfig) error {
	fields := createFields(cfg, hc)
	for _, name := range unsupportedCreateFields {
		if v, ok := fields[name]; ok && isSet(name, v) {
			return errdefs.Invalid("minidocker does not support %s yet", name)
		}
	}
	names := make([]string, 0, len(createFieldValues))
	for name := range createFieldValues {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, ok := fields[name]
		if !ok || v.String() == "" {
			continue
		}
		allowed := createFieldValues[name]
		if !contains(allowed, v.String()) {
			if len(allowed) == 0 {
				return errdefs.Invalid("minidocker does not support %s yet (got %q)", name, v.String())
			}
			return errdefs.Invalid("minidocker does not support %s %q yet (only %s)", name, v.String(), strings.Join(allowed, ", "))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// createFields maps each field of the request to its value, named by its
// JSON path; embedded structs (Resources) are flattened, LogConfig is
// walked into.
func createFields(cfg *container.Config, hc *container.HostConfig) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	if cfg != nil {
		collectFields(out, "Config", reflect.ValueOf(cfg).Elem())
	}
	if hc != nil {
		collectFields(out, "HostConfig", reflect.ValueOf(hc).Elem())
	}
	return out
}

func collectFields(out map[string]reflect.Value, prefix string, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			collectFields(out, prefix, v.Field(i))
			continue
		}
		name := prefix + "." + jsonName(f)
		if f.Type == reflect.TypeOf(container.LogConfig{}) {
			collectFields(out, name, v.Field(i))
			continue
		}
		out[name] = v.Field(i)
	}
}

// jsonName is a field's name in the request body.
func jsonName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	return f.Name
}

// isSet says whether a request asks for something with this field. Empty
// lists and maps, and pointers to a zero value (OomKillDisable: false),
// ask for nothing; MemorySwappiness -1 is docker's "unset".
func isSet(name string, v reflect.Value) bool {
	if name == "HostConfig.MemorySwappiness" {
		return !v.IsNil() && v.Elem().Int() != -1
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	case reflect.Pointer:
		return !v.IsNil() && !v.Elem().IsZero()
	}
	return !v.IsZero()
}

// updatableResources are the fields of POST /containers/{id}/update that
// minidocker applies to a running container's cgroup (containers_update.go);
// RestartPolicy, outside Resources, is applied too. Any other field set in
// the request is refused.
var updatableResources = []string{"Memory", "MemorySwap", "CpuShares", "CpuPeriod", "CpuQuota", "NanoCpus", "PidsLimit",
	"CpusetCpus", "CpusetMems", "BlkioWeight"}

// refuseUnsupportedUpdate fails on the first Resources field of an update
// that minidocker would not apply, in the order of the struct.
func refuseUnsupportedUpdate(r container.Resources) error {
	fields := map[string]reflect.Value{}
	collectFields(fields, "", reflect.ValueOf(r))
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, strings.TrimPrefix(name, "."))
	}
	sort.Strings(names)
	for _, name := range names {
		if contains(updatableResources, name) {
			continue
		}
		if isSet("HostConfig."+name, fields["."+name]) {
			return errdefs.Invalid("minidocker does not support updating %s yet", name)
		}
	}
	return nil
}

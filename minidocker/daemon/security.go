package daemon

// Confinement settings of a container (--cap-add, --cap-drop,
// --privileged, --security-opt, --read-only): checked at create, in
// docker's words, and turned into the runtime's Spec at start.

import (
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
	"github.com/minidocker/minidocker/minidocker/seccomp"
)

// securityOptions is HostConfig.SecurityOpt, parsed.
type securityOptions struct {
	noNewPrivileges bool
	// seccomp is "" (docker's default profile), "unconfined", or a
	// profile's JSON (the CLI reads --security-opt seccomp=<file> and
	// sends the file's content, as docker's does).
	seccomp string
}

// parseSecurityOpt reads docker's --security-opt values: no-new-privileges
// (alone or =true/false), seccomp=unconfined|builtin|<json>. The SELinux
// and AppArmor values that ask for nothing (label=disable,
// apparmor=unconfined) are what minidocker does anyway; any other label
// or apparmor profile is refused, since nothing here would apply it.
func parseSecurityOpt(opts []string) (securityOptions, error) {
	var so securityOptions
	for _, opt := range opts {
		if opt == "no-new-privileges" {
			so.noNewPrivileges = true
			continue
		}
		if opt == "disable" {
			continue // the old spelling of label=disable
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":") // the deprecated separator
		}
		if !ok {
			return so, errdefs.Invalid("invalid --security-opt 1: %q", opt)
		}
		switch {
		case k == "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, errdefs.Invalid("invalid --security-opt 2: %q", opt)
			}
			so.noNewPrivileges = b
		case k == "seccomp":
			so.seccomp = v
			if v == "builtin" {
				so.seccomp = ""
			}
		case k == "label" && v == "disable", k == "apparmor" && v == "unconfined":
		case k == "label", k == "apparmor":
			return so, errdefs.Invalid("minidocker does not support --security-opt %s (no SELinux or AppArmor profile is applied)", opt)
		default:
			return so, errdefs.Invalid("invalid --security-opt 2: %q", opt)
		}
	}
	return so, nil
}

// validateSecurity checks the confinement settings at create, so that a
// container that could never start is never made.
func validateSecurity(hc *container.HostConfig) error {
	if _, err := libcontainer.NormalizeCapabilities(hc.CapAdd); err != nil {
		return errdefs.Invalid("invalid CapAdd: %v", err)
	}
	if _, err := libcontainer.NormalizeCapabilities(hc.CapDrop); err != nil {
		return errdefs.Invalid("invalid CapDrop: %v", err)
	}
	// --security-opt systempaths=unconfined sends both lists empty (see
	// systemPathsOf); lists of paths of one's own are not supported
	for _, f := range []struct {
		name  string
		paths []string
	}{{"MaskedPaths", hc.MaskedPaths}, {"ReadonlyPaths", hc.ReadonlyPaths}} {
		if len(f.paths) > 0 {
			return errdefs.Invalid("minidocker does not support HostConfig.%s other than [] (--security-opt systempaths=unconfined) yet", f.name)
		}
	}
	_, err := containerSecurity(hc)
	return err
}

// systemPathsOf applies --security-opt systempaths=unconfined, which the
// client sends as empty MaskedPaths and ReadonlyPaths (nil means docker's
// default lists): /proc and /sys keep what docker hides or makes
// read-only.
func systemPathsOf(hc *container.HostConfig, spec *libcontainer.Spec) {
	spec.UnmaskPaths = hc.MaskedPaths != nil
	spec.WritableProcPaths = hc.ReadonlyPaths != nil
}

// containerSecurity is what confines the processes of a container with hc.
func containerSecurity(hc *container.HostConfig) (libcontainer.Security, error) {
	var sec libcontainer.Security
	caps, err := libcontainer.TweakCapabilities(hc.CapAdd, hc.CapDrop, hc.Privileged)
	if err != nil {
		return sec, errdefs.Invalid("%v", err)
	}
	sec.Capabilities = caps
	so, err := parseSecurityOpt(hc.SecurityOpt)
	if err != nil {
		return sec, err
	}
	sec.NoNewPrivileges = so.noNewPrivileges
	switch {
	case hc.Privileged || so.seccomp == "unconfined":
		// --privileged means no seccomp filter at all, as with docker
	case so.seccomp == "":
		sec.Seccomp = seccomp.Default()
	default:
		p, err := seccomp.Parse([]byte(so.seccomp))
		if err != nil {
			return sec, errdefs.Invalid("%v", err)
		}
		sec.Seccomp = p
	}
	if sec.Seccomp != nil {
		if _, err := seccomp.Compile(sec.Seccomp, caps); err != nil {
			return sec, errdefs.Invalid("%v", err)
		}
	}
	return sec, nil
}

// execSecurity is the container's confinement for an exec'd process;
// --privileged gives it every capability but keeps its container's
// seccomp filter, as docker does.
func execSecurity(hc *container.HostConfig, privileged bool) (libcontainer.Security, error) {
	sec, err := containerSecurity(hc)
	if err != nil || !privileged {
		return sec, err
	}
	sec.SeccompCapabilities = sec.Capabilities
	sec.Capabilities = libcontainer.AllCapabilities()
	return sec, nil
}

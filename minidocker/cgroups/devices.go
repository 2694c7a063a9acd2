package cgroups

// The devices controller: which device nodes a container may open.
//
// A container's root holds CAP_MKNOD (docker's default set), so it can make
// a node for any device number, the host's disk included. What stops it
// from reading that disk is not the file system but this controller: the
// kernel asks the container's cgroup before every open(2) and mknod(2) of a
// device node, and refuses with EPERM what its allow list does not name.
//
// The allow list is docker's: deny everything, then allow mknod of any node
// (so an image may still ship or make its nodes) and read, write and mknod
// of a handful of harmless ones (/dev/null, /dev/zero, the terminals, …),
// plus what --device and --device-cgroup-rule add. --privileged allows all.
//
// v1 has files for it: "a" written into devices.deny empties the list,
// each rule is then written into devices.allow. v2 has no file at all: the
// list becomes a small eBPF program, attached to the cgroup's directory
// (devices_bpf.go), which the kernel runs for each access.

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
)

// DeviceRule allows one kind of access to some device nodes, in the
// notation of v1's devices.allow: "c 1:3 rwm".
type DeviceRule struct {
	// Type is "a" (every device: Major, Minor and Access then do not
	// matter), "c" (character) or "b" (block).
	Type string
	// Major and Minor are the device numbers; AnyNumber (-1) is "*".
	Major, Minor int64
	// Access is made of r (open for reading), w (open for writing) and
	// m (mknod).
	Access string
}

// AnyNumber as a Major or Minor matches every number ("*").
const AnyNumber = -1

// AllowAll is the one rule of a --privileged container.
var AllowAll = DeviceRule{Type: "a", Major: AnyNumber, Minor: AnyNumber, Access: "rwm"}

// String is the rule as v1's devices.allow reads it and docker's
// --device-cgroup-rule writes it.
func (r DeviceRule) String() string {
	num := func(n int64) string {
		if n == AnyNumber {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%s %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// DefaultDeviceRules is what every container that is not privileged may
// use, as dockerd sets it (its oci defaults): mknod of anything; read,
// write and mknod of null, zero, full, random, urandom, tty, console,
// ptmx, the pseudo-terminals (major 136) and tun (10:200, for VPN clients).
func DefaultDeviceRules() []DeviceRule {
	char := func(major, minor int64, access string) DeviceRule {
		return DeviceRule{Type: "c", Major: major, Minor: minor, Access: access}
	}
	return []DeviceRule{
		char(AnyNumber, AnyNumber, "m"),
		{Type: "b", Major: AnyNumber, Minor: AnyNumber, Access: "m"},
		char(1, 3, "rwm"),           // /dev/null
		char(1, 5, "rwm"),           // /dev/zero
		char(1, 7, "rwm"),           // /dev/full
		char(1, 8, "rwm"),           // /dev/random
		char(1, 9, "rwm"),           // /dev/urandom
		char(5, 0, "rwm"),           // /dev/tty
		char(5, 1, "rwm"),           // /dev/console
		char(5, 2, "rwm"),           // /dev/ptmx
		char(136, AnyNumber, "rwm"), // /dev/pts/*
		char(10, 200, "rwm"),        // /dev/net/tun
	}
}

// deviceRuleSyntax is docker's: a type, two numbers or stars, 1-3 letters.
// Compiled on first use: package initialisation stays free of work (every
// minidocker process, the shim and init too, would pay for it).
var deviceRuleSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`)
})

// ParseDeviceRule reads a --device-cgroup-rule ("c 42:* rmw", or "a") and
// refuses what dockerd refuses, in its words. dockerd reads the numbers as
// signed 12- and 20-bit integers, so a major above 2047 or a minor above
// 524287 is refused although the kernel has room for them.
func ParseDeviceRule(s string) (DeviceRule, error) {
	if s == "a" {
		return AllowAll, nil
	}
	m := deviceRuleSyntax().FindStringSubmatch(s)
	if m == nil {
		return DeviceRule{}, fmt.Errorf("invalid device cgroup rule format: '%s'", s)
	}
	if m[1] == "a" {
		// "a" means every device whatever follows; a rule that looks
		// narrower would mislead, so only the full form is taken.
		if m[2] != "*" || m[3] != "*" || !ValidDeviceAccess(m[4]) || len(m[4]) != 3 {
			return DeviceRule{}, fmt.Errorf("although this cgroup rule is technically correct, because 'a' maps to 'a *:* rwm' regardless of what comes next, this format is partially ineffective: '%s'", s)
		}
		return AllowAll, nil
	}
	r := DeviceRule{Type: m[1], Major: AnyNumber, Minor: AnyNumber, Access: m[4]}
	var err error
	if m[2] != "*" {
		if r.Major, err = strconv.ParseInt(m[2], 10, 12); err != nil {
			return DeviceRule{}, fmt.Errorf("invalid major value in device cgroup rule format: '%s'", s)
		}
	}
	if m[3] != "*" {
		if r.Minor, err = strconv.ParseInt(m[3], 10, 20); err != nil {
			return DeviceRule{}, fmt.Errorf("invalid minor value in device cgroup rule format: '%s'", s)
		}
	}
	return r, nil
}

// ValidDeviceAccess says whether access is a --device permission docker
// takes: r, w and m, each at most once, at least one.
func ValidDeviceAccess(access string) bool {
	if access == "" || len(access) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range access {
		if (c != 'r' && c != 'w' && c != 'm') || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// SetDevices replaces the cgroup's device allow list with rules: nothing
// else may be opened or made. Call it before the container's first process
// runs any of the image's code.
func (c *Cgroup) SetDevices(rules []DeviceRule) error {
	if c.version == V2 {
		return attachDeviceProgram(c.dir, rules)
	}
	d, ok := c.dirs["devices"]
	if !ok {
		return errors.New("cgroups: the devices controller is not mounted: the container's devices cannot be confined")
	}
	return setV1Devices(d, rules)
}

// setV1Devices empties the allow list, then fills it. "a" in devices.deny
// means "deny by default, no exceptions"; "a" in devices.allow means the
// opposite, allow everything.
func setV1Devices(dir string, rules []DeviceRule) error {
	if err := writeFile(filepath.Join(dir, "devices.deny"), "a"); err != nil {
		return err
	}
	for _, r := range rules {
		if err := writeFile(filepath.Join(dir, "devices.allow"), r.String()); err != nil {
			return err
		}
	}
	return nil
}

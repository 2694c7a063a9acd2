package daemon

import (
	"runtime"

	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/version"
)

// Version answers `docker version`'s server half.
func (d *Daemon) Version() system.VersionResponse {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	kernel := unix.ByteSliceToString(uts.Release[:])
	return system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "minidocker"},
		Version:       version.Version,
		APIVersion:    version.APIVersion,
		MinAPIVersion: version.MinAPIVersion,
		GitCommit:     version.Commit(),
		GoVersion:     version.GoVersion(),
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		KernelVersion: kernel,
		BuildTime:     version.Built(),
		Components: []system.ComponentVersion{{
			Name:    "Engine",
			Version: version.Version,
			Details: map[string]string{
				"ApiVersion":    version.APIVersion,
				"MinAPIVersion": version.MinAPIVersion,
				"GitCommit":     version.Commit(),
				"GoVersion":     version.GoVersion(),
				"Os":            runtime.GOOS,
				"Arch":          runtime.GOARCH,
				"KernelVersion": kernel,
				"BuildTime":     version.Built(),
				"Experimental":  "false",
			},
		}},
	}
}

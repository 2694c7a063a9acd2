package version

import "runtime"

var (
	// Version is minidocker's release; GitCommit and BuildTime are set at
	// link time by the Makefile (-ldflags -X).
	Version   = "0.1.0"
	GitCommit = "unknown"
	BuildTime = ""
)

const (
	// APIVersion is the newest Engine API version the daemon speaks.
	APIVersion = "1.51"
	// MinAPIVersion is the oldest one it accepts; older clients get a 400.
	MinAPIVersion = "1.41"
)

// GoVersion is the Go toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }

// Platform is "linux/amd64" style.
func Platform() string { return runtime.GOOS + "/" + runtime.GOARCH }

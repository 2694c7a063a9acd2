// Package version holds the numbers the client and the daemon print and
// negotiate with (article sections 1 and 2: `docker version` shows a client
// and a server half): minidocker's own version and the Engine API range.
//
// Start reading at APIVersion and MinAPIVersion in version.go; buildinfo.go
// reads the git commit and build time from what `go build` embeds (Commit,
// Built), on first use rather than in an init that every process would run.
package version

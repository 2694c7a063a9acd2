// Package version holds the numbers the client and the daemon print and
// negotiate with (article sections 1 and 2: `docker version` shows a client
// and a server half): minidocker's own version and the Engine API range.
//
// Start reading at APIVersion and MinAPIVersion in version.go; buildinfo.go
// fills the git commit and build time from what `go build` embeds.
package version

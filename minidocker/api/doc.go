// Package api is the daemon's front door: the Docker Engine API over HTTP on
// a unix socket (article section 1: the client talks to dockerd through a
// REST API; that is why the real docker CLI can drive minidocker too).
//
// Start reading at server.go: NewServer registers every route, and
// ServeHTTP strips the /v1.NN/ version prefix, checks it against the range
// we speak, and dispatches through router.go. Each area of the API has its own
// file (system.go, images.go, containers.go, networks.go, build.go) that
// turns HTTP into calls on the daemon package and back. Errors carry an
// errdefs kind, which becomes docker's status code and {"message": …} body.
package api

// Package api is the daemon's front door: the Docker Engine API over HTTP on
// a unix socket (article section 1: the client talks to dockerd through a
// REST API; that is why the real docker CLI can drive minidocker too).
//
// Start reading at server.go: NewServer registers every route, and
// ServeHTTP strips the /v1.NN/ version prefix, checks it against the range
// we speak, puts it in the request context (apiVersion reads it), and
// dispatches through router.go.
//
// Each area of the API has its own file and router, as moby's
// api/server/router packages do: system.go, images.go, containers.go (with
// containers_cp/top/stats/commit.go), containers_pause.go (pause, unpause,
// update), containers_export.go (export, changes), prune.go (container and
// network prune, system df), containers_exec.go, networks.go, events.go
// (the GET /events stream) and build.go. Each declares the small backend interface it needs (for
// example networkBackend: ListNetworks, InspectNetwork, CreateNetwork,
// RemoveNetwork); *daemon.Daemon implements them all. A handler only
// decodes the request, calls its backend and encodes the answer: rules
// such as filters, reference parsing or "does this image exist" belong to
// the daemon. A new area adds a file with its backend interface and router
// type, and one line in NewServer.
//
// Errors carry an errdefs kind, set where the error is made; writeError
// turns the kind into docker's status code and {"message": …} body.
package api

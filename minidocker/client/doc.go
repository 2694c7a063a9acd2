// Package client is minidocker's own Engine API client, the other half of
// the client/daemon architecture of the article's first part: the CLI is a
// thin program that turns each command into HTTP requests on the daemon's
// unix socket, and the daemon does the work.
//
// It speaks the subset of the Engine API that minidocker's CLI uses, with
// the method and option names of github.com/moby/moby/client, so CLI code
// reads like code written against docker's own client. We do not link
// docker's client because every process pays for what it links: its
// dependencies (OpenTelemetry, the reference regexps, …) run their package
// initialisers in every `minidocker` process, a short CLI call included.
//
// Where to start reading: client.go (New, the socket dialer and the
// fixed API version: the daemon is ours, so no /_ping negotiation round
// trip), request.go (one request, and how an HTTP status becomes an error
// kind the CLI tests with errdefs.IsNotFound and friends), hijack.go (attach
// and exec: the HTTP connection taken over for raw streams), then one file
// per area (containers, exec, images, networks, volumes, system).
package client

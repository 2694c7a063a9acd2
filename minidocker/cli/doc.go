// Package cli is the `minidocker` command line: the client half of the
// article's client/server architecture (section 1), built with kong.
//
// Start reading at Main in cli.go: kong parses os.Args into the command
// structs, and each command's Run method talks to the daemon through the
// Engine API client that Globals.Client opens. Commands are grouped by the
// article's sections in their own files (system.go, images.go,
// containers.go, networks.go, build.go); daemon.go and registry.go start
// the long-running server processes instead of talking to one.
//
// We use github.com/moby/moby/client as the API client rather than a
// hand-written one: it is the client the real docker CLI uses, so speaking to
// it proves our daemon speaks the same protocol, and it already handles the
// hijacked attach/exec streams and version negotiation that the course does
// not need to re-derive. What the course teaches is on the server side.
package cli

// Package cli is the `minidocker` command line: the client half of the
// article's client/server architecture (section 1), built with kong.
//
// Start reading at Main in cli.go: kong parses os.Args into the command
// structs, and each command's Run method talks to the daemon through the
// Engine API client that Globals.Client opens. Commands are grouped by the
// article's sections in their own files (system.go, images.go,
// containers.go, networks.go, volumes.go, build.go); groups.go makes
// docker's management groups (`container ls`, `system info`) out of the
// same command structs as the short forms. run's and create's flags are
// read in containers.go, with the storage flags (-v, --mount,
// --volumes-from) in containers_mounts.go and the naming ones
// (--network-alias, --dns*, --add-host, --link) in containers_network.go;
// format.go is the --format of the list commands, as docker's. daemon.go
// and registry.go start the long-running server processes instead of
// talking to one. model.go
// picks what kong builds its parser from: only the command the line names
// (building all of them was most of a CLI start), at each level (`container
// ls` gets ls, not the group's twenty-five commands), as a copy of its struct
// without help tags when the line asks no help (kong reads every tag in
// full, and the help was most of run's), or, for a word that is no
// command, name-only stubs of the commands kong could suggest instead.
// run then calls the selected command's Run itself, on a command of its
// own type holding what kong parsed.
// newParser in cli.go gives kong ${variables} only for the daemon command
// (kong interpolates each into every flag of the line) and names -H's
// default socket in help through helpValue instead.
//
// The API client is minidocker/client, a thin one of our own with the
// method names of docker's (github.com/moby/moby/client): every minidocker
// process runs the package initialisers of all it links, and docker's
// client brought OpenTelemetry and a regexp-based reference parser into
// every CLI call. That our daemon speaks docker's protocol is proven by the
// real docker CLI, compose and docker-py, which the labs run against it.
package cli

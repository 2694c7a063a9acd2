// Command minidocker is every part of minidocker in one static binary: the
// CLI (the client), the daemon, the registry server, and the hidden roles
// the daemon starts (the shim and the container's init) — the article's
// section 1 architecture, client → dockerd/containerd → shim → runc, as one
// program.
//
// Start reading at main in main.go: a re-exec'd shim or init is recognised
// first (libcontainer.RunReexecEntrypoint), everything else is the command line
// (cli.Main). serve.go joins the two halves: the CLI reads `minidocker
// daemon`'s flags, serveDaemon starts the daemon and its API server, so the
// cli package itself never imports the daemon.
package main

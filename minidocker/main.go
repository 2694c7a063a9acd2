// Command minidocker is every part of minidocker in one static binary: the
// CLI (the client), the daemon, the registry server, and the hidden roles
// the daemon starts (the shim and the container's init).
package main

import (
	"os"

	"github.com/minidocker/minidocker/minidocker/cli"
	"github.com/minidocker/minidocker/minidocker/runtime"
)

func main() {
	if runtime.RunReexecEntrypoint() {
		return
	}
	os.Exit(cli.Main(os.Args[1:]))
}

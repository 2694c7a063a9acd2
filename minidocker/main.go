package main

import (
	"os"

	"github.com/minidocker/minidocker/minidocker/cli"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

func main() {
	if libcontainer.RunReexecEntrypoint() {
		return
	}
	os.Exit(cli.Main(os.Args[1:], serveDaemon))
}

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

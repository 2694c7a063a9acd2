package libcontainer

import (
	"fmt"
	"os"
	"time"
)

// traceOn prints the shim's and init's phases with timestamps to stderr
// (the shim's goes to shim.log) when _MINIDOCKER_TRACE is set: a tool to
// see where start-up time goes.
var traceOn = os.Getenv("_MINIDOCKER_TRACE") != ""

func trace(what string) {
	if traceOn {
		fmt.Fprintf(os.Stderr, "%s %d %s\n", time.Now().Format("15:04:05.000000"), os.Getpid(), what)
	}
}

package libcontainer

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// traceOn prints the shim's and init's phases with timestamps when
// _MINIDOCKER_TRACE is set: a tool to see where start-up time goes. Set to
// an absolute path, every role (daemon, shim, init) appends its lines to
// that one file, so one run reads as one timeline; set to anything else,
// each prints to its stderr (the shim's goes to shim.log, init's to the
// container's output).
var traceOn = os.Getenv("_MINIDOCKER_TRACE") != ""

var traceOut = openTraceOut(os.Getenv("_MINIDOCKER_TRACE"))

func openTraceOut(to string) *os.File {
	if !strings.HasPrefix(to, "/") {
		return os.Stderr
	}
	// O_APPEND: each line is one write, so the roles' lines never tear
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return os.Stderr
	}
	return f
}

func trace(what string) {
	if traceOn {
		fmt.Fprintf(traceOut, "%s %d %s\n", time.Now().Format("15:04:05.000000"), os.Getpid(), what)
	}
}

// Trace is trace for the daemon's side of a container's life.
func Trace(what string) { trace(what) }

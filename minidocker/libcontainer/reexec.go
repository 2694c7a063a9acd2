package libcontainer

import (
	"os"
	"path/filepath"
)

// Hidden roles of the one binary (os.Args[1]).
const (
	roleShim = "shim" // minidocker shim (fd 3: control socket, spareshim_linux.go)
	roleInit = "init" // minidocker init (fd 3: sync socket)
	// minidocker userns-helper: clones init and serves exec in a user
	// namespace (fd 3: control socket, fd 4: exec listener; usernshelper_linux.go)
	roleUsernsHelper = "userns-helper"
)

// RunReexecEntrypoint runs one of the binary's hidden roles (the shim and the
// container's init) when os.Args asks for it, and reports
// whether it did (a role normally ends the process itself). main calls it
// before the CLI parses anything; a test binary calls it from TestMain so
// that tests can re-execute themselves as shim or init.
func RunReexecEntrypoint() bool {
	// --init's PID 1 is known by its name, as it runs inside the
	// container, where no role variable is set (reaper_linux.go)
	if filepath.Base(os.Args[0]) == reaperName {
		runReaper(os.Args[1:])
		return true
	}
	if len(os.Args) < 2 || os.Getenv(roleEnv) == "" {
		return false
	}
	switch os.Args[1] {
	case roleShim:
		runShim()
	case roleInit:
		runInit()
	case roleUsernsHelper:
		runUsernsHelper()
	default:
		return false
	}
	return true
}

// roleEnv marks a process started by the runtime for a hidden role, so that
// a user typing "minidocker init" gets the CLI, not a container init.
const roleEnv = "_MINIDOCKER_ROLE"

// selfExe is the binary the roles are started from: this very one (tests
// may point it at a built minidocker binary).
var selfExe = "/proc/self/exe"

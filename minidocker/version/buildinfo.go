package version

import (
	"runtime/debug"
	"sync"
)

// Commit is the git commit minidocker was built from: GitCommit when the
// link set it, else the VCS stamp that `go build` embeds when it builds
// inside a git checkout, so a plain build needs no -ldflags to report where
// it came from.
func Commit() string { return stamp().commit }

// Built is when that commit was made (BuildTime, or the VCS stamp); empty
// when unknown.
func Built() string { return stamp().time }

type buildStamp struct{ commit, time string }

// stamp reads the build info on first use, not in an init: every
// minidocker process (the CLI, the shim, the container's init) would pay
// for it, and only `version` asks.
var stamp = sync.OnceValue(func() buildStamp {
	s := buildStamp{commit: GitCommit, time: BuildTime}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	for _, kv := range info.Settings {
		switch {
		case kv.Key == "vcs.revision" && s.commit == "unknown" && len(kv.Value) >= 7:
			s.commit = kv.Value[:7]
		case kv.Key == "vcs.time" && s.time == "":
			s.time = kv.Value
		}
	}
	return s
})

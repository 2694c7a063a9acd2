package version

import "runtime/debug"

// init fills GitCommit and BuildTime from the VCS stamp that `go build`
// embeds when it builds inside a git checkout, so a plain build needs no
// -ldflags to report where it came from.
func init() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && GitCommit == "unknown" && len(s.Value) >= 7:
			GitCommit = s.Value[:7]
		case s.Key == "vcs.time" && BuildTime == "":
			BuildTime = s.Value
		}
	}
}

package cli

import (
	"strings"

	"github.com/moby/moby/api/types/container"
)

// RunOptionFlags are run's and create's flags for how the runtime makes
// the container (the daemon's runopts.go): the log and its rotation.
type RunOptionFlags struct {
	LogDriver string   `name:"log-driver" help:"Logging driver for the container (json-file)."`
	LogOpt    []string `name:"log-opt" sep:"none" help:"Log driver options (max-size, max-file)."`
}

// apply puts the flags into the create request, as docker's CLI does.
func (f *RunOptionFlags) apply(cfg *container.Config, hc *container.HostConfig) error {
	hc.LogConfig.Type = f.LogDriver
	if len(f.LogOpt) > 0 {
		hc.LogConfig.Config = map[string]string{}
		for _, o := range f.LogOpt {
			k, v, _ := strings.Cut(o, "=")
			hc.LogConfig.Config[k] = v
		}
	}
	return nil
}

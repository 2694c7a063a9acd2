package cli

import (
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
)

// HealthFlags are run's and create's healthcheck flags, as docker's: they
// become Config.Healthcheck, which the daemon runs on schedule inside the
// container. A zero duration or retry count keeps the image's value (or
// docker's default).
type HealthFlags struct {
	HealthCmd           string        `name:"health-cmd" help:"Command to run to check health."`
	HealthInterval      time.Duration `name:"health-interval" help:"Time between running the check (ms|s|m|h) (default 0s)."`
	HealthTimeout       time.Duration `name:"health-timeout" help:"Maximum time to allow one check to run (ms|s|m|h) (default 0s)."`
	HealthRetries       int           `name:"health-retries" help:"Consecutive failures needed to report unhealthy."`
	HealthStartPeriod   time.Duration `name:"health-start-period" help:"Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)."`
	HealthStartInterval time.Duration `name:"health-start-interval" help:"Time between running the check during the start period (ms|s|m|h) (default 0s)."`
	NoHealthcheck       bool          `name:"no-healthcheck" help:"Disable any container-specified HEALTHCHECK."`
}

// apply sets cfg.Healthcheck from the flags, with the docker CLI's checks
// and words.
func (f *HealthFlags) apply(cfg *container.Config) error {
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{{"--health-interval", f.HealthInterval}, {"--health-timeout", f.HealthTimeout}, {"--health-start-period", f.HealthStartPeriod}, {"--health-start-interval", f.HealthStartInterval}} {
		if d.value < 0 {
			return fmt.Errorf("%s cannot be negative", d.flag)
		}
	}
	if f.HealthRetries < 0 {
		return fmt.Errorf("--health-retries cannot be negative")
	}
	any := f.HealthCmd != "" || f.HealthInterval != 0 || f.HealthTimeout != 0 || f.HealthRetries != 0 ||
		f.HealthStartPeriod != 0 || f.HealthStartInterval != 0
	switch {
	case f.NoHealthcheck && any:
		return fmt.Errorf("--no-healthcheck conflicts with --health-* options")
	case f.NoHealthcheck:
		cfg.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
	case any:
		h := &container.HealthConfig{
			Interval: f.HealthInterval, Timeout: f.HealthTimeout, Retries: f.HealthRetries,
			StartPeriod: f.HealthStartPeriod, StartInterval: f.HealthStartInterval,
		}
		if f.HealthCmd != "" {
			h.Test = []string{"CMD-SHELL", f.HealthCmd}
		}
		cfg.Healthcheck = h
	}
	return nil
}

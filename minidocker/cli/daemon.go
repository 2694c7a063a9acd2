package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"github.com/minidocker/minidocker/minidocker/config"
)

// DaemonCmd starts the daemon. Its flags are named as dockerd's; the same
// keys can be set in daemon.json (flags win). The listening socket is the
// global -H.
type DaemonCmd struct {
	ConfigFile          string   `name:"config-file" default:"${config_file}" help:"Daemon configuration file."`
	DataRoot            string   `name:"data-root" help:"Root directory of persistent state (default /var/lib/minidocker)."`
	ExecRoot            string   `name:"exec-root" help:"Root directory of runtime state (default /run/minidocker)."`
	Pidfile             string   `name:"pidfile" short:"p" help:"Path of the daemon's PID file (default /var/run/minidocker.pid)."`
	LogLevel            string   `name:"log-level" short:"l" enum:",debug,info,warn,error,fatal" default:"" help:"Logging level (debug, info, warn, error, fatal)."`
	Bridge              string   `name:"bridge" short:"b" help:"Name of the default bridge (default minidocker0)."`
	Bip                 string   `name:"bip" help:"Address and prefix of the default bridge (default 10.66.0.1/16)."`
	IPTables            *bool    `name:"iptables" negatable:"" help:"Manage iptables rules (default true)."`
	IPTablesChain       string   `name:"iptables-chain" help:"Prefix of minidocker's iptables chains (default MINIDOCKER)."`
	CgroupParent        string   `name:"cgroup-parent" help:"Parent cgroup of all containers (default minidocker)."`
	RegistryMirrors     []string `name:"registry-mirror" help:"Preferred registry mirror for docker.io (repeatable)."`
	InsecureRegistries  []string `name:"insecure-registry" help:"Registry (host:port or CIDR) to reach over plain HTTP (repeatable)."`
	LiveRestore         bool     `name:"live-restore" help:"Keep the containers running when the daemon stops (default false: SIGTERM stops them)."`
	UsernsRemap         string   `name:"userns-remap" help:"User/group whose subordinate ids the containers' root maps to: default (the user dockremap, made if missing), user, user:group, uid or uid:gid."`
	RemoveNetworkOnExit bool     `name:"remove-network-on-exit" hidden:"" help:"Delete the bridges and iptables chains on exit (for isolated test daemons)."`
}

// settings merges defaults ← daemon.json ← flags.
func (c *DaemonCmd) settings(g *Globals) (config.Config, error) {
	file, err := config.Load(c.ConfigFile)
	if err != nil && !(errors.Is(err, os.ErrNotExist) && c.ConfigFile == config.DefaultFile) {
		return config.Config{}, err
	}
	flags := config.Config{
		DataRoot: c.DataRoot, ExecRoot: c.ExecRoot, Pidfile: c.Pidfile, LogLevel: c.LogLevel,
		Bridge: c.Bridge, Bip: c.Bip, IPTables: c.IPTables, IPTablesChain: c.IPTablesChain,
		CgroupParent: c.CgroupParent, RegistryMirrors: c.RegistryMirrors, InsecureRegistries: c.InsecureRegistries,
		RemoveNetworkOnExit: c.RemoveNetworkOnExit, LiveRestore: c.LiveRestore, UsernsRemap: c.UsernsRemap,
	}
	if g.Host != "" {
		flags.Hosts = []string{g.Host}
	}
	if g.Debug {
		flags.LogLevel = "debug"
	}
	cfg := config.Default().Merge(file).Merge(flags)
	cfg.CertsDir = filepath.Join(filepath.Dir(c.ConfigFile), "certs.d")
	return cfg, nil
}

// ServeDaemon runs the daemon with its merged settings until ctx ends.
// Package main provides it: the CLI package itself never links the daemon,
// so the client side of the program depends on the Engine API alone.
type ServeDaemon func(ctx context.Context, cfg config.Config) error

// Run checks the privileges, merges the settings, writes the pidfile and
// hands over to the daemon.
func (c *DaemonCmd) Run(g *Globals) error {
	if g.serveDaemon == nil {
		return errors.New("this build of minidocker has no daemon")
	}
	if os.Geteuid() != 0 {
		return errors.New("minidocker daemon needs to be started with root privileges")
	}
	cfg, err := c.settings(g)
	if err != nil {
		return err
	}
	setupLogging(g.stderr, cfg.LogLevel)
	if err := writePidfile(cfg.Pidfile); err != nil {
		return err
	}
	defer os.Remove(cfg.Pidfile)

	return g.serveDaemon(g.ctx, cfg)
}

// writePidfile refuses to start when the pidfile names a live process,
// like dockerd, and records our own PID otherwise.
func writePidfile(path string) error {
	// exercise:begin 02-pidfile
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && processAlive(pid) {
			return fmt.Errorf("pid file found, ensure minidocker is not running or delete %s", path)
		}
	}
	return atomicfile.Write(path, []byte(strconv.Itoa(os.Getpid())+"\n"), atomicfile.Options{Perm: 0o644, Sync: true})
	// exercise:end 02-pidfile
}

func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// setupLogging sends the daemon's log lines to stderr at the chosen level.
func setupLogging(w io.Writer, level string) {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error", "fatal":
		l = slog.LevelError
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

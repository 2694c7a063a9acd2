package cli

import (
	"log/slog"

	"github.com/minidocker/minidocker/minidocker/registry"
)

// RegistryCmd groups the registry server's subcommands.
type RegistryCmd struct {
	Serve RegistryServeCmd `cmd:"" help:"Serve the OCI distribution API (what the registry:2 image runs)."`
}

// RegistryServeCmd runs our registry until SIGTERM/SIGINT.
type RegistryServeCmd struct {
	Addr     string `default:":5000" help:"Address to listen on (HOST:PORT)."`
	Root     string `default:"/var/lib/registry" help:"Directory that holds the registry's content."`
	Htpasswd string `placeholder:"FILE" help:"Require basic auth with bcrypt entries from this htpasswd file."`
	TLSCert  string `name:"tls-cert" placeholder:"FILE" help:"Serve HTTPS with this certificate."`
	TLSKey   string `name:"tls-key" placeholder:"FILE" help:"The certificate's private key."`
}

// Run serves the registry until interrupted.
func (c *RegistryServeCmd) Run(g *Globals) error {
	setupLogging(g.stderr, "info")
	return registry.Serve(g.ctx, registry.Options{
		Addr: c.Addr, Root: c.Root, HtpasswdFile: c.Htpasswd, TLSCert: c.TLSCert, TLSKey: c.TLSKey,
		Logf: func(format string, args ...any) { slog.Info("registry: " + sprintf(format, args...)) },
	})
}

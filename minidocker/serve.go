package main

import (
	"context"
	"log/slog"

	"github.com/minidocker/minidocker/minidocker/api"
	"github.com/minidocker/minidocker/minidocker/config"
	"github.com/minidocker/minidocker/minidocker/daemon"
)

// serveDaemon is `minidocker daemon` once the CLI has read its flags and
// written the pidfile: listen on the socket, start the daemon (dockerd's and
// containerd's work) and serve the Engine API until ctx ends. It lives here,
// in package main, so that the CLI package never links the daemon: like
// docker's CLI, it talks to it through the Engine API only.
func serveDaemon(ctx context.Context, cfg config.Config) error {
	socket, err := config.SocketPath(cfg.Hosts[0])
	if err != nil {
		return err
	}
	listener, err := api.Listen(socket)
	if err != nil {
		return err
	}
	d, err := daemon.New(cfg)
	if err != nil {
		listener.Close()
		return err
	}
	defer d.Shutdown() // stops the containers unless live-restore is on
	// Builds end with the daemon: cancel them the moment it is told to stop,
	// so the API server's graceful shutdown does not wait on them.
	stopBuilds := context.AfterFunc(ctx, d.CloseBuilds)
	defer stopBuilds()
	slog.Info("API listen on " + socket)
	err = api.Serve(ctx, listener, api.NewServer(d))
	slog.Info("daemon stopped")
	return err
}

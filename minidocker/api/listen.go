package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// Listen opens the daemon's unix socket. A socket that a live daemon still
// answers on is refused (two daemons on one socket would steal each
// other's clients); a stale file left by a crash is replaced. The socket is
// mode 0660, owned by root and by the "minidocker" group when it exists —
// who can open this socket is root on the host, as with docker's.
func Listen(path string) (net.Listener, error) {
	// exercise:begin 01-listen
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return nil, fmt.Errorf("another daemon is already listening on unix://%s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	if err := os.Chown(path, 0, socketGroup()); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
	// exercise:end 01-listen
}

func socketGroup() int {
	if g, err := user.LookupGroup("minidocker"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			return gid
		}
	}
	return 0
}

// Serve answers API requests on l until ctx is cancelled, then stops
// accepting and gives running requests a moment to finish. Hijacked
// connections (attach, exec) are not waited for: they belong to their streams.
func Serve(ctx context.Context, l net.Listener, s *Server) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(func() { s.closingOnce.Do(func() { close(s.closing) }) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return nil
}

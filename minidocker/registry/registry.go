package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Options configure a registry server; `minidocker registry serve` fills
// them from its flags.
type Options struct {
	Addr         string // listen address for Serve, e.g. "127.0.0.1:5000" (default ":5000", like registry:2)
	Root         string // directory holding all content; created if missing
	HtpasswdFile string // optional: bcrypt htpasswd file; when set, every request needs basic auth
	TLSCert      string // optional: PEM certificate …
	TLSKey       string // … and key; both or neither
	// Logf receives one line per request and start/stop messages.
	// nil logs through the standard log package.
	Logf func(format string, args ...any)
}

// Server is a registry over one store. It is safe for concurrent use.
type Server struct {
	opts        Options
	store       *store
	auth        *htpasswd
	uploadLocks uploadLocks
}

// New opens (or creates) the store under opts.Root. Everything the registry
// knows lives there, so a new Server over the same Root after a restart
// serves the same repositories, and unfinished uploads can continue.
func New(opts Options) (*Server, error) {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return nil, errors.New("registry: --tls-cert and --tls-key go together")
	}
	st, err := openStore(opts.Root)
	if err != nil {
		return nil, err
	}
	st.sweepUploads(staleUploadAge)
	s := &Server{opts: opts, store: st}
	if opts.HtpasswdFile != "" {
		if s.auth, err = loadHtpasswd(opts.HtpasswdFile); err != nil {
			return nil, err
		}
		if opts.TLSCert == "" {
			s.logf("registry: warning: basic auth without TLS sends passwords in clear text")
		}
	}
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// Handler returns the registry's HTTP handler (all of /v2/).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	// Clients look for this header on /v2/ to know they talk to a v2 registry.
	rec.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if s.auth != nil {
		user, pass, ok := r.BasicAuth()
		if !ok || !s.auth.check(user, pass) {
			rec.Header().Set("WWW-Authenticate", `Basic realm="`+authRealm+`"`)
			s.writeError(rec, r, errUnauthorized())
			s.logRequest(r, rec, start)
			return
		}
	}
	if err := s.route(rec, r); err != nil {
		if rec.wrote {
			s.logf("registry: %s %s: %v (after the response started)", r.Method, r.URL.Path, err)
		} else {
			s.writeError(rec, r, err)
		}
	}
	s.logRequest(r, rec, start)
}

func (s *Server) logRequest(r *http.Request, rec *statusRecorder, start time.Time) {
	s.logf("registry: %s %q %d %dB %s", r.RemoteAddr, r.Method+" "+r.URL.RequestURI(), rec.status, rec.bytes,
		time.Since(start).Round(time.Microsecond))
}

// statusRecorder remembers the status and size of a response for the log,
// and whether the headers have gone out (after that an error can only be logged).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for blob downloads: io.Copy from
// a file into the real ResponseWriter lets the kernel move the bytes.
func (w *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.wrote = true
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Serve runs a registry on opts.Addr (HTTPS when TLSCert/TLSKey are set)
// until ctx is done, then shuts down gracefully: it stops accepting, lets
// requests in flight finish (up to 10 s) and returns nil.
func Serve(ctx context.Context, opts Options) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	addr := opts.Addr
	if addr == "" {
		addr = ":5000"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	srv := &http.Server{
		Handler: s.Handler(),
		// Bodies can be gigabytes, so no overall read timeout; but a client
		// must send its headers promptly.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(logWriter{s.logf}, "", 0),
	}
	errc := make(chan error, 1)
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, opts.TLSCert, opts.TLSKey) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	s.logf("registry: listening on %s://%s, root %s", scheme, ln.Addr(), s.store.root)
	select {
	case err := <-errc:
		return fmt.Errorf("registry: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	<-errc // Serve returns ErrServerClosed once Shutdown starts
	s.logf("registry: stopped")
	return err
}

// logWriter sends net/http's own error log (TLS handshake errors, …) to Logf.
type logWriter struct{ logf func(string, ...any) }

func (l logWriter) Write(p []byte) (int, error) {
	l.logf("registry: %s", strconv.Quote(string(p)))
	return len(p), nil
}

package image

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// registryTLS reads certsDir/<host[:port]>/ the way dockerd reads
// certs.d: every *.crt is a CA certificate trusted for that registry (in
// addition to the system's roots), and a *.cert with the *.key of the same
// name is a client certificate the registry may ask for. It returns nil
// when the directory has no such files, and an error for a file that does
// not parse: a broken trust setting must not silently fall back.
func registryTLS(certsDir, host string) (*tls.Config, error) {
	if certsDir == "" {
		return nil, nil
	}
	dir := filepath.Join(certsDir, host)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".crt"):
			if err := addCA(cfg, path); err != nil {
				return nil, err
			}
		case strings.HasSuffix(e.Name(), ".cert"):
			keyPath := strings.TrimSuffix(path, ".cert") + ".key"
			pair, err := tls.LoadX509KeyPair(path, keyPath)
			if err != nil {
				return nil, fmt.Errorf("client certificate %s (with %s): %w", path, keyPath, err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		}
	}
	if cfg.RootCAs == nil && len(cfg.Certificates) == 0 {
		return nil, nil
	}
	return cfg, nil
}

func addCA(cfg *tls.Config, path string) error {
	if cfg.RootCAs == nil {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		cfg.RootCAs = pool
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no PEM certificate", path)
	}
	return nil
}

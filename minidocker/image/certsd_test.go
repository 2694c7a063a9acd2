package image

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// certs.d/<host:port>/ca.crt makes a registry's certificate trusted for
// that registry only, as in Docker; without it verification fails, and a
// file that is not a certificate is an error rather than no trust.
func TestRegistryTLSFromCertsDir(t *testing.T) {
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	certs := t.TempDir()
	get := func() error {
		cfg, err := registryTLS(certs, host)
		if err != nil {
			return err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg
		resp, err := (&http.Client{Transport: tr}).Get("https://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("without certs.d: %v", err)
	}
	dir := filepath.Join(certs, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("with certs.d/%s/ca.crt: %v", host, err)
	}
	if cfg, _ := registryTLS(certs, "other:5000"); cfg != nil {
		t.Error("the CA must be trusted for its own registry only")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.crt"), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("a broken .crt: %v", err)
	}
}

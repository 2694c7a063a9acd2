package registry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestConformance is the acceptance test: the OCI distribution-spec
// conformance tool (pinned in testdata/conformance/go.mod, built in a temp
// dir so it stays out of our go.mod) run against a registry started with
// Serve on a loopback port. Profile "1.1" is the tool's full default profile
// (pull, push, content discovery and content management all on); "dev" adds
// upload cancel, required digest headers and ?tag= pushes. Every check must
// pass: no failures, no errors, no skips.
//
// Building the tool needs the Go module proxy or a warm module cache; set
// MINIDOCKER_CONFORMANCE=skip to leave it out (go test -short does too).
func TestConformance(t *testing.T) {
	if testing.Short() || os.Getenv("MINIDOCKER_CONFORMANCE") == "skip" {
		t.Skip("conformance run skipped (-short or MINIDOCKER_CONFORMANCE=skip)")
	}
	tool := buildConformanceTool(t)
	runs := []struct {
		name, profile string
		secure        bool // htpasswd + TLS, the tool logs in and accepts our self-signed cert
		repo1, repo2  string
	}{
		{name: "1.1", profile: "1.1"},
		{name: "dev", profile: "dev"},
		{name: "1.1-auth-tls-nested-names", profile: "1.1", secure: true, repo1: "a/b/c/repo1", repo2: "x/repo-2"},
	}
	for _, run := range runs {
		profile := run.profile
		t.Run(run.name, func(t *testing.T) {
			opts := Options{Root: t.TempDir()}
			env := []string{"OCI_TLS=disabled"}
			if run.secure {
				hash, _ := bcrypt.GenerateFromPassword([]byte("conformance-pw"), bcrypt.MinCost)
				opts.HtpasswdFile = writeHtpasswd(t, "tester:"+string(hash))
				opts.TLSCert, opts.TLSKey = writeSelfSignedCert(t, t.TempDir())
				// OCI_TLS=insecure does not skip verification in this version of
				// the tool, so trust our certificate instead (Go reads SSL_CERT_FILE).
				env = []string{"OCI_TLS=enabled", "SSL_CERT_FILE=" + opts.TLSCert,
					"OCI_USERNAME=tester", "OCI_PASSWORD=conformance-pw"}
			}
			if run.repo1 != "" {
				env = append(env, "OCI_REPO1="+run.repo1, "OCI_REPO2="+run.repo2)
			}
			addr := serveForTest(t, opts)
			results := t.TempDir()
			cmd := exec.Command(tool)
			cmd.Dir = results
			cmd.Env = append(os.Environ(), "OCI_REGISTRY="+addr, "OCI_VERSION="+profile, "OCI_RESULTS_DIR="+results)
			cmd.Env = append(cmd.Env, env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			counts := conformanceCounts(stdout.String())
			t.Logf("profile %s: pass %d, fail %d, error %d, skip %d, disabled %d",
				profile, counts["Pass"], counts["FAIL"], counts["Error"], counts["Skip"], counts["Disabled"])
			if runErr != nil || counts["FAIL"] != 0 || counts["Error"] != 0 || counts["Skip"] != 0 || counts["Pass"] == 0 {
				t.Errorf("conformance (%v):\n%s\n%s", runErr, stdout.String(), tail(stderr.String(), 4000))
			}
		})
	}
}

// buildConformanceTool copies the pinned module to a temp dir and builds the tool there.
func buildConformanceTool(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("testdata", "conformance", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "conformance")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/opencontainers/distribution-spec/conformance")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the conformance tool: %v\n%s", err, b)
	}
	return out
}

// serveForTest runs Serve on a free loopback port until the test ends and
// returns host:port once the registry answers.
func serveForTest(t *testing.T, opts Options) string {
	t.Helper()
	addr := freeAddr(t) // Serve binds it again; a race with another process is unlikely on loopback
	opts.Addr = addr
	opts.Logf = func(string, ...any) {}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, opts) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	scheme := "http://"
	if opts.TLSCert != "" {
		scheme = "https://"
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v after shutdown", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return after its context was cancelled")
		}
	})
	for i := 0; i < 100; i++ {
		resp, err := client.Get(scheme + addr + "/v2/") // any answer, even 401, means it is up
		if err == nil {
			resp.Body.Close()
			return addr
		}
		select {
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("registry on %s did not come up", addr)
	return ""
}

// conformanceCounts reads the "  Pass....: 860" lines of the tool's summary.
func conformanceCounts(out string) map[string]int {
	counts := map[string]int{}
	inSummary := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "OCI Conformance Result") {
			inSummary = true
			continue
		}
		if !inSummary {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			break
		}
		if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
			counts[strings.TrimRight(key, ".")] = n
		}
	}
	return counts
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

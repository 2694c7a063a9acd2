package registry

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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
	for _, profile := range []string{"1.1", "dev"} {
		t.Run(profile, func(t *testing.T) {
			addr := serveForTest(t, t.TempDir())
			results := t.TempDir()
			cmd := exec.Command(tool)
			cmd.Dir = results
			cmd.Env = append(os.Environ(),
				"OCI_REGISTRY="+addr, "OCI_TLS=disabled", "OCI_VERSION="+profile,
				"OCI_RESULTS_DIR="+results)
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
func serveForTest(t *testing.T, root string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // Serve binds it again; a race with another process is unlikely on loopback
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{Addr: addr, Root: root, Logf: func(string, ...any) {}})
	}()
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
		resp, err := http.Get("http://" + addr + "/v2/")
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

package daemon_test

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// A copy out of a stopped container holds the container, as docker's does:
// an rm -fv sent while the archive is being read waits until the copy is
// over, so the archive is whole, and then removes everything.
func TestCopyOutHoldsTheContainerAgainstRemoval(t *testing.T) {
	d := preload.StartDaemon(t)
	const files, size = 300, 20000 // 6 MB: far more than the socket buffers hold
	mustRun(t, d, "run", "--name", "cpl", "--net", "none", "-v", "/data", "busybox", "sh", "-c",
		fmt.Sprintf("i=0; while [ $i -lt %d ]; do head -c %d /dev/zero > /data/f$i; i=$((i+1)); done", files, size))

	resp, err := d.HTTPClient().Get("http://x/v1.41/containers/cpl/archive?path=/data")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("archive: %s", resp.Status)
	}
	tr := tar.NewReader(resp.Body)
	seen := map[string]int64{}
	readEntry := func() error {
		h, err := tr.Next()
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, tr)
		seen[h.Name] = n
		return err
	}
	for range 5 { // the copy is under way
		if err := readEntry(); err != nil {
			t.Fatal(err)
		}
	}
	removed := make(chan testutil.Result, 1)
	go func() { removed <- d.CLI("rm", "-fv", "cpl") }()
	select {
	case r := <-removed:
		t.Fatalf("rm -fv finished while the copy was still being read: %d %q", r.Code, r.Stderr)
	case <-time.After(2 * time.Second): // rm has had its chance to run
	}
	for {
		err := readEntry()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the archive broke off after %d entries: %v", len(seen), err)
		}
	}
	for i := range files {
		if n, ok := seen[fmt.Sprintf("data/f%d", i)]; !ok || n != size {
			t.Fatalf("data/f%d: in the archive %v, %d bytes; want %d (%d entries)", i, ok, n, size, len(seen))
		}
	}
	resp.Body.Close()
	if r := <-removed; r.Code != 0 {
		t.Fatalf("rm -fv after the copy: %d %q", r.Code, r.Stderr)
	}
	if out := mustRun(t, d, "ps", "-aq"); out != "" {
		t.Fatalf("ps -aq after rm: %q", out)
	}
	if out := mustRun(t, d, "volume", "ls", "-q"); out != "" {
		t.Fatalf("volume ls -q after rm -v: %q", out)
	}
}

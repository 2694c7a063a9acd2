package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzApply throws layers at Apply (issue 10, faults survived). A fuzz
// input is a small text script, one tar entry per line, which the target
// turns into a real tar: mutating the script reaches far more entry mixes
// than mutating tar bytes, whose header checksums make almost every random
// change a parse error. The seeds are the hostile-layer table of
// TestUnpackHostile (path traversal, symlink and hardlink escapes,
// whiteouts, device nodes…) plus testdata/fuzz/FuzzApply.
//
// Whatever Apply accepts or refuses, three things must hold:
//   - nothing outside the destination changes (the sandbox around it is
//     listed before and after, file contents and link targets included);
//   - a refused layer is refused with an error, never a panic;
//   - when an image layer is accepted, its last entry, if a regular file,
//     is in the destination with its content (the extractor did not drop
//     or misplace it).
//
// So that even a broken Apply cannot touch the host, every absolute name
// and link target is moved under the sandbox, and inputs with more ".."
// than the sandbox is deep are not run.
func FuzzApply(f *testing.F) {
	for _, c := range hostileLayers() {
		f.Add(encodeEntries(c.ents), false)
		f.Add(encodeEntries(c.ents), true)
	}
	f.Fuzz(func(t *testing.T, script string, inScope bool) {
		ents, ok := decodeEntries(script)
		if !ok {
			return
		}
		sandbox := t.TempDir()
		layer := filepath.Join(sandbox, "a", "b", "layer")
		mustMkdir(t, filepath.Join(sandbox, "outside"))
		mustMkdir(t, layer)
		if err := os.WriteFile(filepath.Join(sandbox, "outside", "victim"), []byte("original"), 0o644); err != nil {
			t.Fatal(err)
		}
		for i := range ents {
			ents[i].name = underSandbox(ents[i].name, sandbox)
			if ents[i].typ == tar.TypeSymlink || ents[i].typ == tar.TypeLink {
				ents[i].link = underSandbox(ents[i].link, sandbox)
			}
		}
		layerTar, err := tarOfEntries(ents)
		if err != nil {
			return // a header archive/tar cannot write (e.g. a file name ending in "/")
		}
		before := snapshot(t, sandbox, layer)
		root, err := os.OpenRoot(layer)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		opts := ApplyOptions{OverlayWhiteouts: !inScope, InScope: inScope, NoOverwriteDirNonDir: inScope}
		_, aerr := Apply(context.Background(), root, ".", bytes.NewReader(layerTar), opts)
		if after := snapshot(t, sandbox, layer); !equalMaps(before, after) {
			t.Fatalf("entries %+v (InScope %v, err %v) changed the sandbox outside the destination:\nbefore %v\nafter  %v",
				ents, inScope, aerr, before, after)
		}
		if aerr == nil && !inScope {
			checkLastEntry(t, root, ents)
		}
	})
}

// checkLastEntry asserts that the last entry of an accepted layer, when it
// is a plain regular file (no whiteout name), is there with its content.
func checkLastEntry(t *testing.T, root *os.Root, ents []ent) {
	last := ents[len(ents)-1]
	name, err := cleanName(last.name)
	if last.typ != tar.TypeReg || err != nil || name == "" || strings.Contains("/"+name, "/.wh.") {
		return
	}
	fi, err := root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("entries %+v accepted, but the last one, %q, is not a regular file in the layer: %v %v", ents, name, fi, err)
	}
	if b, err := root.ReadFile(name); err != nil || string(b) != last.body {
		t.Fatalf("entries %+v accepted, but %q holds %q (%v), want %q", ents, name, b, err, last.body)
	}
}

// underSandbox moves an absolute path into the sandbox (a broken Apply
// would then write there, where snapshot sees it, rather than on the host).
func underSandbox(p, sandbox string) string {
	p = strings.ReplaceAll(p, "@SANDBOX@", sandbox)
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(p, sandbox+"/") && p != sandbox {
		return sandbox + p
	}
	return p
}

// tarOfEntries is mkTar that returns archive/tar's refusals instead of
// failing the test.
func tarOfEntries(ents []ent) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Devmajor: e.major, Devminor: e.minor,
			ModTime: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(e.body)[:h.Size]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), tw.Close()
}

// entryTypes maps the script's one-letter entry types to tar's.
var entryTypes = map[byte]byte{'f': tar.TypeReg, 'd': tar.TypeDir, 'l': tar.TypeSymlink, 'h': tar.TypeLink,
	'c': tar.TypeChar, 'b': tar.TypeBlock, 'p': tar.TypeFifo}

// encodeEntries writes entries as a script: one "type|name|link|mode|body"
// line each; a device's link field is "major:minor".
func encodeEntries(ents []ent) string {
	var b strings.Builder
	for _, e := range ents {
		letter := byte('f')
		for k, v := range entryTypes {
			if v == e.typ {
				letter = k
			}
		}
		link := e.link
		if e.typ == tar.TypeChar || e.typ == tar.TypeBlock {
			link = fmt.Sprintf("%d:%d", e.major, e.minor)
		}
		fmt.Fprintf(&b, "%c|%s|%s|%o|%s\n", letter, e.name, link, e.mode, e.body)
	}
	return b.String()
}

// decodeEntries reads a script back; ok is false for one that is not
// worth running: too big, a bad line, or more ".." than the sandbox is deep.
func decodeEntries(script string) (ents []ent, ok bool) {
	lines := strings.Split(strings.TrimSuffix(script, "\n"), "\n")
	// The sandbox is three levels above the destination: with at most
	// three ".." in the whole script, no chain of names and links can
	// climb above it.
	if len(script) > 4096 || len(lines) > 32 || strings.Count(script, "..") > 3 {
		return nil, false
	}
	for _, line := range lines {
		f := strings.SplitN(line, "|", 5)
		if len(f) != 5 || len(f[0]) != 1 || entryTypes[f[0][0]] == 0 {
			return nil, false
		}
		mode, err := strconv.ParseInt(f[3], 8, 64)
		if err != nil || mode < 0 || mode > 0o7777 {
			return nil, false
		}
		e := ent{typ: entryTypes[f[0][0]], name: f[1], link: f[2], mode: mode, body: f[4]}
		if e.typ == tar.TypeChar || e.typ == tar.TypeBlock {
			e.link = ""
			if _, err := fmt.Sscanf(f[2], "%d:%d", &e.major, &e.minor); err != nil || e.major < 0 || e.minor < 0 || e.major > 4095 || e.minor > 1<<20 {
				return nil, false
			}
		}
		ents = append(ents, e)
	}
	return ents, len(ents) > 0
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entrypoint and Cmd of the image: `registry serve` with registry:2's
// address and storage directory.
var (
	Entrypoint = []string{"/minidocker", "registry", "serve"}
	Cmd        = []string{"--addr", ":5000", "--root", "/var/lib/registry"}
)

func main() {
	out := flag.String("o", "", "write the image as a docker-archive to this file")
	rootfsOut := flag.String("rootfs-tar", "", "write only the rootfs tar (for `minidocker import`)")
	bin := flag.String("bin", "bin/minidocker", "the static minidocker binary to put in the image")
	tag := flag.String("tag", "registry:2", "the image's tag")
	flag.Parse()
	if *out == "" && *rootfsOut == "" {
		fatal(fmt.Errorf("give -o FILE or -rootfs-tar FILE"))
	}
	if err := checkStatic(*bin); err != nil {
		fatal(err)
	}
	data, err := os.ReadFile(*bin)
	if err != nil {
		fatal(err)
	}
	rootfs, err := Rootfs(data)
	if err != nil {
		fatal(err)
	}
	if *rootfsOut != "" {
		if err := writeFile(*rootfsOut, func(w io.Writer) error { _, err := w.Write(rootfs); return err }); err != nil {
			fatal(err)
		}
	}
	if *out == "" {
		return
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		fatal(err)
	}
	img, err := Image(rootfs)
	if err != nil {
		fatal(err)
	}
	if err := writeFile(*out, func(w io.Writer) error { return tarball.Write(ref, img, w) }); err != nil {
		fatal(err)
	}
	id, _ := img.ConfigName()
	fmt.Printf("mkregistry-image: wrote %s: %s %s\n", *out, *tag, id)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mkregistry-image:", err)
	os.Exit(1)
}

// checkStatic refuses a binary that needs a dynamic loader.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w (build it with `make build`)", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: build it with CGO_ENABLED=0 (`make build`)", p)
		}
	}
	return nil
}

// epoch is the files' time: fixed, so the same binary gives the same image.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Rootfs is the image's only layer: /minidocker and the empty
// /var/lib/registry the server stores blobs and manifests under.
func Rootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"var/", "var/lib/", "var/lib/registry/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "minidocker", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Image is registry:2: scratch + the rootfs layer + the entrypoint.
func Image(rootfs []byte) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "COPY minidocker /minidocker # mkregistry-image",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = Entrypoint
	cf.Config.Cmd = Cmd
	cf.Config.ExposedPorts = map[string]struct{}{"5000/tcp": {}}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.title": "minidocker registry (registry:2)"}
	return mutate.ConfigFile(img, cf)
}

// writeFile writes through a temp file and a rename.
func writeFile(p string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

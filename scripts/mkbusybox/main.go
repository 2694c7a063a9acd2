package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultPath is the PATH every Docker Hub base image sets.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Same content as the fixture's busybox image.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
	group  = "root:x:0:\nnogroup:x:65534:\n"
)

// candidates are tried in order when -busybox is not given.
var candidates = []string{"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox", "/usr/sbin/busybox", "/usr/local/bin/busybox"}

// Options describe one build.
type Options struct {
	Busybox      string    // path of the static busybox binary
	Tag          string    // image reference written into manifest.json
	Created      time.Time // mtime of every entry and the image's created time
	Gzip         bool      // gzip the layer inside the archive
	AllowDynamic bool      // accept a dynamically linked busybox (it will not run in the image)
	Labels       map[string]string
}

func main() {
	var (
		out       = flag.String("o", "", "write a docker-archive (docker load format) to `FILE`")
		rootfsTar = flag.String("rootfs-tar", "", "write only the rootfs tar to `FILE` (for `minidocker import`)")
		opts      Options
		labels    labelFlag
	)
	flag.StringVar(&opts.Busybox, "busybox", "", "static busybox `binary` (default: first of "+strings.Join(candidates, ", ")+")")
	flag.StringVar(&opts.Tag, "tag", "busybox:latest", "image `reference` recorded in the archive")
	flag.BoolVar(&opts.Gzip, "gzip", false, "store the layer gzip-compressed in the archive")
	flag.BoolVar(&opts.AllowDynamic, "allow-dynamic", false, "accept a dynamically linked busybox")
	flag.Var(&labels, "label", "image label `key=value` (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./scripts/mkbusybox [-o busybox.tar] [-tag busybox:latest] [-rootfs-tar rootfs.tar] [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || (*out == "" && *rootfsTar == "") {
		flag.Usage()
		os.Exit(2)
	}
	opts.Labels = labels
	created, err := sourceDateEpoch()
	if err != nil {
		fatal(err)
	}
	opts.Created = created
	if opts.Busybox == "" {
		if opts.Busybox, err = findBusybox(); err != nil {
			fatal(err)
		}
	}

	rootfs, arch, err := BuildRootfs(opts)
	if err != nil {
		fatal(err)
	}
	if *rootfsTar != "" {
		if err := writeFileAtomic(*rootfsTar, func(w io.Writer) error { _, err := w.Write(rootfs); return err }); err != nil {
			fatal(err)
		}
		fmt.Fprintf(os.Stderr, "mkbusybox: wrote rootfs %s (%d bytes)\n", *rootfsTar, len(rootfs))
	}
	if *out != "" {
		img, ref, err := BuildImage(rootfs, arch, opts)
		if err != nil {
			fatal(err)
		}
		if err := writeFileAtomic(*out, func(w io.Writer) error { return tarball.Write(ref, img, w) }); err != nil {
			fatal(err)
		}
		id, _ := img.ConfigName()
		fmt.Fprintf(os.Stderr, "mkbusybox: wrote %s: %s %s\n", *out, opts.Tag, id)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mkbusybox:", err)
	os.Exit(1)
}

type labelFlag map[string]string

func (l *labelFlag) String() string { return "" }
func (l *labelFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("label %q: want key=value", s)
	}
	if *l == nil {
		*l = map[string]string{}
	}
	(*l)[k] = v
	return nil
}

// sourceDateEpoch honours the reproducible-builds convention; default is the Unix epoch.
func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func findBusybox() (string, error) {
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("no busybox binary found (tried " + strings.Join(candidates, ", ") +
		"); install busybox-static (Debian) or busybox (EL), run scripts/setup-host.sh, or pass -busybox FILE")
}

// checkStatic makes sure the binary can run in an image that has no libc,
// and returns the image architecture that matches it.
func checkStatic(p string, allowDynamic bool) (string, error) {
	f, err := elf.Open(p)
	if err != nil {
		return "", fmt.Errorf("%s: not an ELF binary: %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP && !allowDynamic {
			return "", fmt.Errorf("%s is dynamically linked and would not run inside the image; "+
				"use a static busybox (Debian: busybox-static) or pass -allow-dynamic", p)
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_386:
		return "386", nil
	case elf.EM_ARM:
		return "arm", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	}
	return runtime.GOARCH, nil
}

// Applets runs `busybox --list-full` and returns the sorted applet paths
// relative to / (e.g. "bin/sh"), without busybox itself.
func Applets(busybox string) ([]string, error) {
	cmd := exec.Command(busybox, "--list-full")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %v: %s", busybox, err, strings.TrimSpace(stderr.String()))
	}
	seen := map[string]bool{}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.Trim(strings.TrimSpace(l), "/")
		if l == "" || l == "bin/busybox" || seen[l] {
			continue
		}
		if c := path.Clean(l); c != l || strings.HasPrefix(c, "..") {
			return nil, fmt.Errorf("%s --list-full: odd applet path %q", busybox, l)
		}
		seen[l] = true
		list = append(list, l)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s --list-full listed no applets", busybox)
	}
	if !seen["bin/sh"] {
		return nil, fmt.Errorf("%s has no sh applet", busybox)
	}
	sort.Strings(list)
	return list, nil
}

type entry struct {
	name     string // relative, no "./", no trailing slash
	typ      byte
	mode     int64
	linkname string
	data     []byte
}

// BuildRootfs returns the rootfs tar and the architecture of the busybox binary.
func BuildRootfs(o Options) ([]byte, string, error) {
	arch, err := checkStatic(o.Busybox, o.AllowDynamic)
	if err != nil {
		return nil, "", err
	}
	bin, err := os.ReadFile(o.Busybox)
	if err != nil {
		return nil, "", err
	}
	applets, err := Applets(o.Busybox)
	if err != nil {
		return nil, "", err
	}

	entries := map[string]entry{}
	dir := func(name string, mode int64) { entries[name] = entry{name: name, typ: tar.TypeDir, mode: mode} }
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "root", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "var", "var/www"} {
		dir(d, 0o755)
	}
	dir("tmp", 0o1777)
	entries["etc/passwd"] = entry{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, data: []byte(passwd)}
	entries["etc/group"] = entry{name: "etc/group", typ: tar.TypeReg, mode: 0o644, data: []byte(group)}
	entries["bin/busybox"] = entry{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755, data: bin}
	for _, a := range applets {
		for d := path.Dir(a); d != "."; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				dir(d, 0o755)
			}
		}
		entries[a] = entry{name: a, typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"}
	}

	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	// Sorting the plain names puts every directory before its contents.
	sort.Strings(names)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(e entry) *tar.Header {
		h := &tar.Header{
			Typeflag: e.typ,
			Name:     "./" + e.name,
			Linkname: e.linkname,
			Mode:     e.mode,
			Size:     int64(len(e.data)),
			ModTime:  o.Created,
			Format:   tar.FormatUSTAR,
		}
		if e.name == "" {
			h.Name = "./"
		} else if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		return h
	}
	if err := tw.WriteHeader(hdr(entry{name: "", typ: tar.TypeDir, mode: 0o755})); err != nil {
		return nil, "", err
	}
	for _, n := range names {
		e := entries[n]
		if err := tw.WriteHeader(hdr(e)); err != nil {
			return nil, "", fmt.Errorf("tar %s: %w", n, err)
		}
		if len(e.data) > 0 {
			if _, err := tw.Write(e.data); err != nil {
				return nil, "", err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), arch, nil
}

// version returns e.g. "v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)" from busybox's banner.
func version(busybox string) string {
	out, _ := exec.Command(busybox).CombinedOutput() // prints usage, exits 0 or 1
	first, _, _ := strings.Cut(string(out), "\n")
	first = strings.TrimPrefix(strings.TrimSpace(first), "BusyBox ")
	first = strings.TrimSuffix(first, " multi-call binary.")
	if first == "" {
		return "unknown"
	}
	return first
}

// BuildImage wraps the rootfs tar into a one-layer image.
func BuildImage(rootfs []byte, arch string, o Options) (v1.Image, name.Tag, error) {
	ref, err := name.NewTag(o.Tag)
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("-tag %q: %w", o.Tag, err)
	}
	var layer v1.Layer
	if o.Gzip {
		layer, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(rootfs)), nil
		})
		if err != nil {
			return nil, name.Tag{}, err
		}
	} else {
		layer = static.NewLayer(rootfs, types.DockerUncompressedLayer)
	}
	diffID, err := layer.DiffID()
	if err != nil {
		return nil, name.Tag{}, err
	}
	created := v1.Time{Time: o.Created}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   created,
			CreatedBy: fmt.Sprintf("/bin/sh -c #(nop) ADD file:%s in / ", diffID.Hex),
			Comment:   "minidocker mkbusybox: busybox " + version(o.Busybox),
		},
	})
	if err != nil {
		return nil, name.Tag{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, name.Tag{}, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = arch
	cf.OS = "linux"
	cf.Created = created
	cf.Config.Cmd = []string{"sh"}
	cf.Config.Env = []string{DefaultPath}
	if len(o.Labels) > 0 {
		cf.Config.Labels = map[string]string{}
		for k, v := range o.Labels {
			cf.Config.Labels[k] = v
		}
	}
	cf.History = append(cf.History, v1.History{
		Created:    created,
		CreatedBy:  `/bin/sh -c #(nop)  CMD ["sh"]`,
		EmptyLayer: true,
	})
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, name.Tag{}, err
	}
	return img, ref, nil
}

// writeFileAtomic writes to a temporary file next to p and renames it into place.
func writeFileAtomic(p string, write func(io.Writer) error) error {
	dir := path.Dir(p)
	f, err := os.CreateTemp(dir, ".mkbusybox-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

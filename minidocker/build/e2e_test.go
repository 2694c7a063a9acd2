package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/cgroups"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

var e2eCgroupParent = fmt.Sprintf("minidocker-buildtest-%d", os.Getpid())

func TestMain(m *testing.M) {
	if libcontainer.RunReexecEntrypoint() { // the shim and init roles, for the real RUN tests
		return
	}
	code := m.Run()
	if os.Geteuid() == 0 {
		if left, _ := cgroups.List(e2eCgroupParent); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "LEAK: cgroups left under %s: %v\n", e2eCgroupParent, left)
			code = 1
		}
		cgroups.RemoveParent(e2eCgroupParent)
	}
	os.Exit(code)
}

// runtimeRun is RUN in a real container, with the implementation the
// daemon uses (ContainerRun), under this test process's cgroup parent and
// with --network none.
func runtimeRun(s *image.Store) func(context.Context, RunSpec) (int, error) {
	return ContainerRun{LayerDirs: s.LayerDirs, CgroupParent: e2eCgroupParent}.Run
}

// realBusybox imports a rootfs made of the host's static busybox, its
// applet symlinks and /etc/passwd, /etc/group, as "busybox:latest".
func realBusybox(t *testing.T, s *image.Store) { realBusyboxTB(t, s) }

func realBusyboxTB(t testing.TB, s *image.Store) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed (busybox-static)")
	}
	data, err := os.ReadFile(bb)
	must(t, err)
	list, err := exec.Command(bb, "--list-full").Output()
	must(t, err)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(n string, mode int64) {
		tw.WriteHeader(&tar.Header{Name: "./" + n + "/", Typeflag: tar.TypeDir, Mode: mode})
	}
	file := func(n, body string, mode int64) {
		tw.WriteHeader(&tar.Header{Name: "./" + n, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev"} {
		dir(d, 0o755)
	}
	dir("tmp", 0o1777)
	file("bin/busybox", string(data), 0o755)
	for _, l := range strings.Fields(string(list)) {
		if l != "bin/busybox" {
			tw.WriteHeader(&tar.Header{Name: "./" + l, Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox", Mode: 0o777})
		}
	}
	file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0o644)
	file("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644)
	tw.Close()
	_, err = s.Import(context.Background(), &buf, "busybox:latest", []string{`CMD ["sh"]`,
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LABEL minidocker.peer=busybox"}, "")
	must(t, err)
}

// TestFixtureRealRun builds the fixture with the image store and RUN in
// real containers: the layers equal docker's listing entry for entry (the
// whiteout of /bin/vi, the opaque /app/conf, the hardlink copy-up).
func TestFixtureRealRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: containers")
	}
	s, err := image.Open(t.TempDir())
	must(t, err)
	realBusybox(t, s)
	be := &StoreBackend{Store: s, RunStep: runtimeRun(s)}
	dir := fixtureContext(t)
	var out bytes.Buffer
	ctx := context.Background()
	id, err := Build(ctx, be, dir, Options{Tags: []string{"fixture:v1"}, Dockerfile: "fixture.Dockerfile", Out: &out, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	compareOutput(t, out.String(), fixturePath(t, "build-output.txt"))
	var buf bytes.Buffer
	must(t, s.Save(ctx, &buf, []string{id}))
	got, want := saveListing(t, buf.Bytes()), fixtureListing(t)
	if len(got) != len(want) {
		t.Fatalf("%d layers, docker %d", len(got), len(want))
	}
	for i := 1; i < len(want); i++ {
		if strings.Join(got[i], "\n") != strings.Join(want[i], "\n") {
			t.Errorf("layer %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}

	// RUN sees ENV, build args, WORKDIR and USER; a failing RUN is reported as docker does
	dir2 := writeCtx(t, map[string]string{"Dockerfile": `FROM busybox
ARG V=1
ENV E=env
WORKDIR /w
RUN echo "v=$V e=$E pwd=$(pwd) host=$(hostname | wc -c)" && id -u
USER nobody
RUN id -un
RUN ["sh", "-c", "exit 7"]
`})
	out.Reset()
	_, err = Build(ctx, be, dir2, Options{Out: &out, StateDir: t.TempDir()})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 7 || err.Error() != "The command 'sh -c exit 7' returned a non-zero code: 7" {
		t.Errorf("failing RUN: %v", err)
	}
	t.Logf("second build:\n%s", out.String())
	for _, want := range []string{"v=1 e=env pwd=/w host=13\n0\n", "nobody\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("RUN output lacks %q:\n%s", want, out.String())
		}
	}
	if left, _ := cgroups.List(e2eCgroupParent); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}

// BenchmarkRealBuild is the measure without HTTP: FROM busybox,
// COPY a file, RUN echo, CMD — on the image store with RUN in a real
// container; cold (--no-cache) and cached.
func BenchmarkRealBuild(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	s, err := image.Open(b.TempDir())
	must(b, err)
	realBusyboxTB(b, s)
	be := &StoreBackend{Store: s, RunStep: runtimeRun(s)}
	dir := writeCtx(b, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\", \"/built.txt\"]\n",
		"hello.txt":  "hi from the tiny context\n",
	})
	state := b.TempDir()
	for _, bc := range []struct {
		name    string
		noCache bool
	}{{"cold", true}, {"cached", false}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{NoCache: bc.noCache, StateDir: state, Out: io.Discard, Tags: []string{"bench:v1"}}
			if _, err := Build(context.Background(), be, dir, opts); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Build(context.Background(), be, dir, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

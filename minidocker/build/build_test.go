package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/stringid"
)

func writeCtx(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func doBuild(t testing.TB, f *fakeBackend, dir string, opts Options) (string, string, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Out = &out
	id, err := Build(context.Background(), f, dir, opts)
	return id, out.String(), err
}

func mustBuild(t testing.TB, f *fakeBackend, dir string, opts Options) (Image, string) {
	t.Helper()
	id, out, err := doBuild(t, f, dir, opts)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	img, err := f.GetImage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return img, out
}

func strp(s string) *string { return &s }

func createdBy(img Image) []string {
	var out []string
	for _, h := range img.Config.History {
		out = append(out, h.CreatedBy)
	}
	return out
}

func lastRun(f *fakeBackend) RunSpec { return f.runs[len(f.runs)-1] }

func TestOutputFormatAndConfig(t *testing.T) {
	f := newFake(t)
	bb := f.busybox(t)
	dir := writeCtx(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\", \"/built.txt\"]\n",
		"hello.txt":  "hi from the tiny context\n",
	})
	var aux string
	id, out, err := doBuild(t, f, dir, Options{Tags: []string{"apibuild:v1"}, Aux: func(id string) { aux = id }})
	if err != nil {
		t.Fatal(err, out)
	}
	if aux != id {
		t.Errorf("aux %q != %q", aux, id)
	}
	re := regexp.MustCompile(`^Step 1/4 : FROM busybox
 ---> ` + stringid.TruncateID(bb) + `
Step 2/4 : COPY hello.txt /hello.txt
 ---> [0-9a-f]{12}
Step 3/4 : RUN echo built > /built.txt
 ---> Running in ([0-9a-f]{12})
ran: /bin/sh -c echo built > /built.txt
Removing intermediate container ([0-9a-f]{12})
 ---> [0-9a-f]{12}
Step 4/4 : CMD \["cat", "/hello.txt", "/built.txt"\]
 ---> Running in [0-9a-f]{12}
Removing intermediate container [0-9a-f]{12}
 ---> ` + stringid.TruncateID(id) + `
Successfully built ` + stringid.TruncateID(id) + `
Successfully tagged apibuild:v1
$`)
	if m := re.FindStringSubmatch(out); m == nil || m[1] != m[2] {
		t.Fatalf("output:\n%s", out)
	}
	if f.tags["apibuild:v1"] != id {
		t.Errorf("not tagged")
	}
	img, _ := f.GetImage(context.Background(), id)
	want := []string{"", "/bin/sh -c #(nop) COPY file:", "/bin/sh -c echo built > /built.txt", `/bin/sh -c #(nop)  CMD ["cat" "/hello.txt" "/built.txt"]`}
	got := createdBy(img)
	if len(got) != 4 || !strings.HasPrefix(got[1], want[1]) || !strings.HasSuffix(got[1], " in /hello.txt ") || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("history: %q", got)
	}
	if !slices.Equal(img.Config.Config.Cmd, []string{"cat", "/hello.txt", "/built.txt"}) {
		t.Errorf("cmd %q", img.Config.Config.Cmd)
	}
	if n := len(img.Config.RootFS.DiffIDs); n != 3 {
		t.Errorf("layers %d", n)
	}
	data, err := os.ReadFile(filepath.Join(f.layers[id][1], "hello.txt"))
	if err != nil || string(data) != "hi from the tiny context\n" {
		t.Errorf("COPY layer: %q %v", data, err)
	}
	// tags default to :latest; quiet prints only the ID
	id2, out2, err := doBuild(t, f, dir, Options{Tags: []string{"x"}, Quiet: true})
	if err != nil || out2 != id2+"\n" || f.tags["x:latest"] != id2 {
		t.Errorf("quiet: %q %v %v", out2, err, f.tags)
	}
}

func TestArgScoping(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	df := `ARG BASE=busybox
ARG GLOBAL=g
FROM ${BASE} AS one
RUN echo "[$GLOBAL]"
ARG GLOBAL
ARG LOCAL=l1
ENV FROMARG=$LOCAL-$GLOBAL
RUN echo one
FROM one
ARG LOCAL
ENV SEEN="${LOCAL:-unset}"
ARG OVER=default
ENV OVER=envwins
RUN echo two
`
	dir := writeCtx(t, map[string]string{"Dockerfile": df})
	img, out := mustBuild(t, f, dir, Options{BuildArgs: map[string]*string{"LOCAL": strp("cli"), "UNUSED": strp("x")}})
	env := img.Config.Config.Env
	// stage one: LOCAL overridden by --build-arg; GLOBAL inherited from the global ARG
	if !slices.Contains(env, "FROMARG=cli-g") {
		t.Errorf("env %q", env)
	}
	// stage two: ARG LOCAL re-declared without default takes --build-arg
	if !slices.Contains(env, "SEEN=cli") || !slices.Contains(env, "OVER=envwins") {
		t.Errorf("env %q", env)
	}
	if !strings.Contains(out, "[Warning] One or more build-args [UNUSED] were not consumed\n") {
		t.Errorf("no warning:\n%s", out)
	}
	// RUN before ARG GLOBAL in the stage does not see it (no |N prefix)
	runs := createdBy(img)
	if !slices.Contains(runs, `/bin/sh -c echo "[$GLOBAL]"`) {
		t.Errorf("history %q", runs)
	}
	if !slices.Contains(runs, "|2 GLOBAL=g LOCAL=cli /bin/sh -c echo one") {
		t.Errorf("history %q", runs)
	}
	// in stage two OVER is shadowed by ENV: not recorded, not passed as arg
	if !slices.Contains(runs, "|1 LOCAL=cli /bin/sh -c echo two") {
		t.Errorf("history %q", runs)
	}
	last := lastRun(f)
	if !slices.Contains(last.Env, "OVER=envwins") || !slices.Contains(last.Env, "LOCAL=cli") || slices.Contains(last.Env, "OVER=default") {
		t.Errorf("run env %q", last.Env)
	}
	// the ARG history line keeps the Dockerfile default, not the --build-arg value
	if !slices.Contains(runs, "/bin/sh -c #(nop)  ARG LOCAL=l1") {
		t.Errorf("history %q", runs)
	}
}

func TestEnvExpansionAndForms(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	df := `FROM busybox
ENV A 1
ENV B=${A}2 C="x y" D='$A'
ENV E=${MISSING:-dflt} F=$B\$A
WORKDIR /srv/$B
WORKDIR sub
USER ${A}:${A}
LABEL "k 1"="v $C" k2=$A
`
	dir := writeCtx(t, map[string]string{"Dockerfile": df})
	img, _ := mustBuild(t, f, dir, Options{})
	c := img.Config.Config
	for _, e := range []string{"A=1", "B=12", "C=x y", "D=$A", "E=dflt", "F=12$A"} {
		if !slices.Contains(c.Env, e) {
			t.Errorf("missing %s in %q", e, c.Env)
		}
	}
	if c.WorkingDir != "/srv/12/sub" || c.User != "1:1" || c.Labels["k 1"] != "v x y" || c.Labels["k2"] != "1" {
		t.Errorf("config %+v", c)
	}
	hist := createdBy(img)
	if !slices.Contains(hist, "/bin/sh -c #(nop)  ENV B=12 C=x y D=$A") || !slices.Contains(hist, "/bin/sh -c #(nop) WORKDIR /srv/12/sub") {
		t.Errorf("history %q", hist)
	}
}

func TestInstructionsConfig(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	df := `FROM busybox
CMD echo shell form
ENTRYPOINT ["/bin/echo"]
EXPOSE 80 443/udp 8000-8002
EXPOSE 80
VOLUME ["/a", "/b"]
VOLUME /c
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost || exit 1
ONBUILD RUN echo triggered
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
RUN echo in ash
CMD ["param"]
MAINTAINER me <me@example.invalid>
`
	dir := writeCtx(t, map[string]string{"Dockerfile": df})
	img, _ := mustBuild(t, f, dir, Options{})
	c := img.Config.Config
	if !slices.Equal(c.Entrypoint, []string{"/bin/echo"}) || !slices.Equal(c.Cmd, []string{"param"}) {
		t.Errorf("entrypoint/cmd %q %q", c.Entrypoint, c.Cmd)
	}
	for _, p := range []string{"80/tcp", "443/udp", "8000/tcp", "8001/tcp", "8002/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s missing: %v", p, c.ExposedPorts)
		}
	}
	if len(c.Volumes) != 3 || c.StopSignal != "SIGQUIT" {
		t.Errorf("volumes %v stopsignal %q", c.Volumes, c.StopSignal)
	}
	if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, []string{"CMD-SHELL", "wget -q localhost || exit 1"}) || c.Healthcheck.Retries != 3 || c.Healthcheck.Interval.String() != "5s" {
		t.Errorf("healthcheck %+v", c.Healthcheck)
	}
	if !slices.Equal(c.OnBuild, []string{"RUN echo triggered"}) || !slices.Equal(c.Shell, []string{"/bin/ash", "-eo", "pipefail", "-c"}) {
		t.Errorf("onbuild %q shell %q", c.OnBuild, c.Shell)
	}
	if img.Config.Author != "me <me@example.invalid>" {
		t.Errorf("author %q", img.Config.Author)
	}
	if !slices.Equal(lastRun(f).Args, []string{"/bin/ash", "-eo", "pipefail", "-c", "echo in ash"}) {
		t.Errorf("run args %q", lastRun(f).Args)
	}
	hist := createdBy(img)
	for _, want := range []string{
		`/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo shell form"]`,
		`/bin/sh -c #(nop)  ENTRYPOINT ["/bin/echo"]`,
		`/bin/sh -c #(nop)  EXPOSE 443/udp 80 8000-8002`,
		`/bin/sh -c #(nop)  VOLUME [/a /b]`,
		`/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT`,
		`/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "wget -q localhost || exit 1"] "5s" "0s" "0s" "0s" '\x03'}`,
		`/bin/sh -c #(nop)  ONBUILD RUN echo triggered`,
		`/bin/ash -eo pipefail -c #(nop)  SHELL [/bin/ash -eo pipefail -c]`, // docker commits with the new shell already set,
		`/bin/ash -eo pipefail -c echo in ash`,
		`/bin/ash -eo pipefail -c #(nop)  CMD ["param"]`,
	} {
		if !slices.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, strings.Join(hist, "\n"))
		}
	}
	for _, h := range img.Config.History[1:] {
		if h.EmptyLayer != !strings.Contains(h.CreatedBy, "echo in ash") {
			t.Errorf("empty_layer wrong for %q", h.CreatedBy)
		}
	}

	// ENTRYPOINT after CMD in the same stage keeps CMD only if CMD came first... docker: ENTRYPOINT resets CMD unless CMD was set in this stage
	f.refs["onb:latest"] = img.ID
	dir2 := writeCtx(t, map[string]string{"Dockerfile": "FROM onb\nENTRYPOINT [\"/bin/true\"]\n"})
	img2, out2 := mustBuild(t, f, dir2, Options{})
	if img2.Config.Config.Cmd != nil {
		t.Errorf("CMD from base must be reset by ENTRYPOINT: %q", img2.Config.Config.Cmd)
	}
	if !strings.Contains(out2, "# Executing 1 build trigger\n") || len(img2.Config.Config.OnBuild) != 0 {
		t.Errorf("onbuild trigger:\n%s", out2)
	}
	if !slices.Contains(createdBy(img2), "/bin/ash -eo pipefail -c echo triggered") {
		t.Errorf("trigger not run: %q", createdBy(img2))
	}
}

func TestErrors(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	cases := []struct{ df, want string }{
		{"FROM busybox\nRUN false\n", "The command '/bin/sh -c false' returned a non-zero code: 1"},
		{"FROM busybox\nRUN [\"sh\", \"-c\", \"exit 3\"]\n", "The command 'sh -c exit 3' returned a non-zero code: 3"},
		{"FROM busybox\nFOO bar\n", "unknown instruction: FOO"},
		{"FROM nosuchimage\n", "pull access denied for nosuchimage, repository does not exist"},
		{"FROM busybox\nCOPY missing.txt /\n", "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"},
		{"FROM busybox\nCOPY ../x /\n", "COPY failed: file not found in build context or excluded by .dockerignore: stat x: file does not exist"},
		{"FROM busybox\nCOPY a b /dest\n", "When using COPY with more than one source file, the destination must be a directory and end with a /"},
		{"FROM busybox\nCOPY http://127.0.0.1/x /\n", "COPY failed: source can't be a URL for COPY"},
		{"FROM busybox\nSTOPSIGNAL SIGNOPE\n", "Invalid signal: SIGNOPE"},
		{"FROM busybox\nCOPY nomatch* /\n", "COPY failed: no source files were specified"},
		{"", "the Dockerfile (Dockerfile) cannot be empty"},
		{"FROM busybox\nEXPOSE 80/xyz\n", "invalid proto: xyz"},
		// BuildKit's flags, refused as docker's legacy builder refuses them
		{"FROM busybox\nCOPY --link a /\n", "the --link option requires BuildKit"},
		{"FROM busybox\nCOPY --parents a /\n", "the --parents option requires BuildKit"},
		{"FROM busybox\nCOPY --exclude=b a /\n", "the --exclude option requires BuildKit"},
		{"FROM busybox\nADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 a /\n", "the --checksum option requires BuildKit"},
		{"FROM busybox\nADD --keep-git-dir=true a /\n", "the --keep-git-dir option requires BuildKit"},
		{"FROM busybox\nADD --unpack=false a /\n", "the --unpack option requires BuildKit"},
		{"FROM --platform=linux/s390x busybox\n", "FROM --platform=linux/s390x: this builder builds for linux/"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			dir := writeCtx(t, map[string]string{"Dockerfile": c.df, "a": "a", "b": "b"})
			_, out, err := doBuild(t, f, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q: got %v, want %q\n%s", c.df, err, c.want, out)
			}
		})
	}
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox AS a\nFROM busybox AS b\n"})
	if _, _, err := doBuild(t, f, dir, Options{Target: "x"}); err == nil || err.Error() != `target stage "x" could not be found` {
		t.Errorf("target: %v", err)
	}
	var se *StatusError
	dir = writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN false\n"})
	_, out, err := doBuild(t, f, dir, Options{Quiet: true})
	if !asStatus(err, &se) || se.Code != 1 || !strings.Contains(out, "Step 2/2 : RUN false") {
		t.Errorf("quiet failure must print the log: %v %q", err, out)
	}
	if _, _, err := doBuild(t, f, dir, Options{Dockerfile: "nope"}); err == nil || err.Error() != "Cannot locate specified Dockerfile: nope" {
		t.Errorf("dockerfile: %v", err)
	}
	// no scratch dirs left behind by a failed RUN or COPY
	st := filepath.Join(t.TempDir(), "st")
	if _, _, err := doBuild(t, f, dir, Options{StateDir: st}); err == nil {
		t.Fatal("want error")
	}
	dir = writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY a /etc/passwd/x\n", "a": "a"})
	if _, _, err := doBuild(t, f, dir, Options{StateDir: st}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("COPY over a file's path: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(st, "tmp")); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	dir = writeCtx(t, map[string]string{"Dockerfile": "ARG P=linux/" + runtime.GOARCH + "\nFROM --platform=$P busybox\n"})
	if _, _, err := doBuild(t, f, dir, Options{}); err != nil {
		t.Errorf("FROM --platform naming this machine's platform: %v", err)
	}
	dir = writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN --mount=type=cache,target=/x true\n"})
	if _, _, err := doBuild(t, f, dir, Options{}); err == nil || !strings.HasPrefix(err.Error(), "the --mount option requires BuildKit") {
		t.Errorf("RUN --mount: %v", err)
	}
}

func asStatus(err error, se **StatusError) bool {
	s, ok := err.(*StatusError)
	*se = s
	return ok
}

func TestTargetAndMultiStage(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	df := `FROM busybox AS builder
WORKDIR /src
COPY app.txt .
RUN make
FROM scratch AS final
COPY --from=builder /src/app.txt /app
COPY --from=0 /bin/busybox /bin/
CMD ["/app"]
FROM busybox AS other
RUN echo other
`
	dir := writeCtx(t, map[string]string{"Dockerfile": df, "app.txt": "binary"})
	img, out := mustBuild(t, f, dir, Options{Target: "final"})
	if !strings.Contains(out, "Step 8/8 : CMD [\"/app\"]") {
		t.Errorf("step count with --target:\n%s", out)
	}
	if strings.Contains(out, "echo other") {
		t.Errorf("stage after target ran")
	}
	if n := len(img.Config.RootFS.DiffIDs); n != 2 {
		t.Errorf("scratch image layers: %d", n)
	}
	layers := f.layers[img.ID]
	if data, err := os.ReadFile(filepath.Join(layers[1], "app")); err != nil || string(data) != "binary" {
		t.Errorf("COPY --from stage: %q %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(layers[0], "bin/busybox")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("COPY --from=0: %v", err)
	}
	if !strings.Contains(out, "Step 5/8 : FROM scratch AS final\n ---> \n") {
		t.Errorf("scratch line:\n%s", out)
	}
}

func TestConcurrentBuildsShareCache(t *testing.T) {
	f := newFake(t)
	f.busybox(t)
	state := t.TempDir()
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY a /a\nRUN echo x\nENV A=1\n", "a": "a"})
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			_, out, err := doBuild(t, f, dir, Options{StateDir: state})
			if err != nil {
				err = fmt.Errorf("%v\n%s", err, out)
			}
			errs <- err
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	_, out, err := doBuild(t, f, dir, Options{StateDir: state, Network: "none"})
	if err != nil || usingCache(out) != 3 {
		t.Fatalf("after concurrent builds: %v\n%s", err, out)
	}
}

func TestPullOption(t *testing.T) {
	f := newFake(t)
	pulled := 0
	f.registry["busybox:latest"] = func() {
		if pulled++; pulled == 1 {
			f.busybox(t)
		}
	}
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN true\n"})
	_, out := mustBuild(t, f, dir, Options{Network: "host"})
	if pulled != 1 || !strings.Contains(out, "latest: Pulling from library/busybox\n") {
		t.Errorf("missing image must be pulled:\n%s", out)
	}
	if lastRun(f).Network != "host" {
		t.Errorf("network %q", lastRun(f).Network)
	}
	mustBuild(t, f, dir, Options{})
	if pulled != 1 {
		t.Errorf("present image pulled again")
	}
	mustBuild(t, f, dir, Options{Pull: true})
	if pulled != 2 {
		t.Errorf("--pull did not pull")
	}
}

func TestParentConfigNotModified(t *testing.T) {
	f := newFake(t)
	bb := f.busybox(t)
	before, _ := json.Marshal(f.images[bb].Config)
	dir := writeCtx(t, map[string]string{"Dockerfile": "FROM busybox\nLABEL a=b\nEXPOSE 80\nVOLUME /v\nENV X=1\nONBUILD RUN x\n"})
	mustBuild(t, f, dir, Options{})
	after, _ := json.Marshal(f.images[bb].Config)
	if string(before) != string(after) {
		t.Errorf("base image config changed:\n%s\n%s", before, after)
	}
}

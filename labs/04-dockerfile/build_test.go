// Lab 04 — Dockerfile (chapters/04-dockerfile).
//
// The article's section 4 writes Dockerfiles for three kinds of images: a
// base image with the team's tools and time zone, a front-end image that
// serves static files, and an application image whose ENTRYPOINT starts
// the program. This lab builds the same shapes offline (on the busybox
// image, with busybox httpd instead of nginx and a shell script instead of
// a JVM), runs them, and proves what the chapter claims: CMD is PID 1 and
// `run IMAGE ARGS` replaces it, ENTRYPOINT and CMD compose, ENV reaches the
// process, WORKDIR is its working directory, EXPOSE feeds -P, the cache
// hits and misses when it should, history shows one line per instruction,
// and bad input fails with docker's words and leaves nothing behind.
// Run it as root: `make lab-04`.
//
// Everything here starts with TestBuild / build so that other files of
// this package (the containers chapter's) can live beside it.
package dockerfile

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/testutil"
)

// buildDaemon starts an isolated daemon with busybox:latest loaded. Its
// cleanup removes containers, stops it and fails the test if a mount, a
// process, a cgroup or a network object is left.
func buildDaemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	testutil.RequireRoot(t)
	require.NoError(t, network.EnableIPForward())
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	t.Cleanup(func() { buildAssertClean(t, d) })
	return d
}

// buildAssertClean checks what a build must not leave: containers, and
// scratch or context directories under <data-root>/build.
func buildAssertClean(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	if ps := strings.TrimSpace(d.CLI("ps", "-aq").Stdout); ps != "" {
		t.Errorf("containers left by builds: %s", ps)
	}
	for _, sub := range []string{"tmp", "contexts"} {
		entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "build", sub))
		for _, e := range entries {
			t.Errorf("left in build/%s: %s", sub, e.Name())
		}
	}
}

// buildCtx writes a build context (name → content) into a new directory.
func buildCtx(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

// buildOK runs `minidocker build ARGS…` and fails the test unless it works.
func buildOK(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	r := d.CLI(append([]string{"build"}, args...)...)
	require.Equal(t, 0, r.Code, "build %v\nstdout:\n%s\nstderr:\n%s", args, r.Stdout, r.Stderr)
	return r.Stdout
}

// buildImageConfig is `image inspect`'s Config and history-relevant bits.
type buildImageConfig struct {
	ID     string `json:"Id"`
	Config struct {
		Env          []string
		Cmd          []string
		Entrypoint   []string
		WorkingDir   string
		User         string
		ExposedPorts map[string]struct{}
		Volumes      map[string]struct{}
		Labels       map[string]string
		StopSignal   string
		OnBuild      []string
		Healthcheck  *struct{ Test []string }
		Shell        []string
	}
	Author string
}

func buildInspect(t *testing.T, d *testutil.Daemon, ref string) buildImageConfig {
	t.Helper()
	out := d.MustCLI("image", "inspect", ref)
	var v []buildImageConfig
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	require.Len(t, v, 1)
	return v[0]
}

// run is `run --rm IMAGE ARGS…`, its stdout.
func buildRun(t *testing.T, d *testutil.Daemon, args ...string) string {
	t.Helper()
	return d.MustCLI(append([]string{"run", "--rm"}, args...)...)
}

// The article's three images, offline.
const (
	// base: the team's base image — tools, a time zone, a label. busybox
	// has no zoneinfo files, so TZ is a POSIX rule, which its libc reads.
	buildBaseDockerfile = `FROM busybox
LABEL org.example.team="platform"
ENV TZ=CET-1CEST,M3.5.0,M10.5.0/3
RUN mkdir -p /opt/tools && printf '#!/bin/sh\necho tool ran\n' > /opt/tools/hello && chmod +x /opt/tools/hello
ENV PATH=/opt/tools:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
CMD ["sh", "-c", "echo pid=$$ cwd=$(pwd) tz=$TZ"]
`
	// front-end: static files from dist/ served by busybox httpd.
	buildFrontDockerfile = `FROM lab/base:1
COPY dist/ /www/
EXPOSE 80
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`
	// application: ENTRYPOINT starts the program, CMD gives default args
	// (the article's java -jar app.jar with its options).
	buildAppDockerfile = `FROM lab/base:1
COPY app.sh /app/app.sh
ENTRYPOINT ["sh", "/app/app.sh"]
CMD ["--port", "8080"]
`
	buildAppScript = `echo "app started as pid $$ with args: $*"
`
)

// TestBuildArticleImages builds the base, front-end and application images
// and runs them.
func TestBuildArticleImages(t *testing.T) {
	d := buildDaemon(t)
	base := buildCtx(t, map[string]string{"Dockerfile": buildBaseDockerfile})
	out := buildOK(t, d, "-t", "lab/base:1", base)
	assert.Contains(t, out, "Sending build context to Docker daemon")
	assert.Contains(t, out, "Step 1/7 : FROM busybox")
	assert.Contains(t, out, "Step 4/7 : RUN mkdir -p /opt/tools")
	assert.Contains(t, out, "Successfully tagged lab/base:1")

	// CMD is PID 1; WORKDIR is its cwd; ENV reaches it
	assert.Equal(t, "pid=1 cwd=/app tz=CET-1CEST,M3.5.0,M10.5.0/3\n", buildRun(t, d, "lab/base:1"))
	// the time zone works: the abbreviation is CET or CEST, not UTC
	assert.Regexp(t, `^CES?T\n$`, buildRun(t, d, "lab/base:1", "date", "+%Z"))
	// run arguments replace CMD (and RUN's file is there, on PATH)
	assert.Equal(t, "tool ran\n", buildRun(t, d, "lab/base:1", "hello"))
	assert.Equal(t, "/app\n", buildRun(t, d, "lab/base:1", "pwd"))
	cfg := buildInspect(t, d, "lab/base:1")
	assert.Equal(t, "platform", cfg.Config.Labels["org.example.team"])
	assert.Equal(t, "/app", cfg.Config.WorkingDir)

	// the application image: ENTRYPOINT + CMD, docker's table
	app := buildCtx(t, map[string]string{"Dockerfile": buildAppDockerfile, "app.sh": buildAppScript})
	buildOK(t, d, "-t", "lab/app:1", app)
	assert.Equal(t, "app started as pid 1 with args: --port 8080\n", buildRun(t, d, "lab/app:1"))
	assert.Equal(t, "app started as pid 1 with args: --port 9090\n", buildRun(t, d, "lab/app:1", "--port", "9090"))
	assert.Equal(t, "replaced\n", buildRun(t, d, "--entrypoint", "echo", "lab/app:1", "replaced"))

	// the front-end image: EXPOSE 80 feeds -P
	front := buildCtx(t, map[string]string{
		"Dockerfile":      buildFrontDockerfile,
		"dist/index.html": "<h1>front-end built by minidocker</h1>\n",
		"dist/app.js":     "console.log('hi')\n",
	})
	buildOK(t, d, "-t", "lab/front:1", front)
	cfg = buildInspect(t, d, "lab/front:1")
	assert.Contains(t, cfg.Config.ExposedPorts, "80/tcp")
	assert.Equal(t, []string{"httpd", "-f", "-p", "80", "-h", "/www"}, cfg.Config.Cmd)
	id := strings.TrimSpace(d.MustCLI("run", "-d", "-P", "lab/front:1"))
	port := strings.TrimSpace(d.MustCLI("port", id, "80/tcp"))
	require.NotEmpty(t, port, "-P published the EXPOSEd port")
	hostPort := port[strings.LastIndex(port, ":")+1:]
	body := buildHTTPGet(t, "http://127.0.0.1:"+hostPort+"/index.html")
	assert.Equal(t, "<h1>front-end built by minidocker</h1>\n", body)
	d.MustCLI("rm", "-f", id)

	// history: one line per instruction, newest first, with the layers' sizes
	hist := d.MustCLI("history", "--no-trunc", "lab/front:1")
	lines := strings.Split(strings.TrimSpace(hist), "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	assert.Contains(t, lines[1], `/bin/sh -c #(nop)  CMD ["httpd" "-f" "-p" "80" "-h" "/www"]`)
	assert.Contains(t, lines[2], "/bin/sh -c #(nop)  EXPOSE 80")
	assert.Contains(t, lines[3], "/bin/sh -c #(nop) COPY dir:")
	assert.Contains(t, hist, "/bin/sh -c mkdir -p /opt/tools")
}

func buildHTTPGet(t *testing.T, url string) string {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == 200 {
			return string(b)
		}
		last = fmt.Errorf("%s %v", resp.Status, err)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// TestBuildCache: a rebuild hits the cache at every step; touching a file
// (mtime only) still hits; changing its bytes misses from that COPY on;
// --no-cache builds every step again.
func TestBuildCache(t *testing.T) {
	d := buildDaemon(t)
	dir := buildCtx(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\", \"/built.txt\"]\n",
		"hello.txt":  "hi from the tiny context\n",
	})
	first := buildOK(t, d, "-t", "cache:v1", dir)
	assert.NotContains(t, first, "Using cache")
	assert.Contains(t, first, " ---> Running in ")
	id1 := buildInspect(t, d, "cache:v1").ID

	again := buildOK(t, d, "-t", "cache:v1", dir)
	assert.Equal(t, 3, strings.Count(again, " ---> Using cache"), again)
	assert.NotContains(t, again, "Running in")
	assert.Equal(t, id1, buildInspect(t, d, "cache:v1").ID, "same image")

	// mtime only: still a hit
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "hello.txt"), future, future))
	touched := buildOK(t, d, "-t", "cache:v1", dir)
	assert.Equal(t, 3, strings.Count(touched, " ---> Using cache"), touched)
	assert.Equal(t, id1, buildInspect(t, d, "cache:v1").ID)

	// new bytes: COPY misses, and so does everything after it
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("changed\n"), 0o644))
	changed := buildOK(t, d, "-t", "cache:v2", dir)
	assert.Equal(t, 0, strings.Count(changed, "Using cache"), changed)
	assert.NotEqual(t, id1, buildInspect(t, d, "cache:v2").ID)
	assert.Equal(t, "changed\nbuilt\n", buildRun(t, d, "cache:v2"))

	// --no-cache: every step again, even though all of them are cached
	nocache := buildOK(t, d, "--no-cache", "-t", "cache:v3", dir)
	assert.NotContains(t, nocache, "Using cache")
	assert.Contains(t, nocache, " ---> Running in ")

	// -q prints only the ID
	q := buildOK(t, d, "-q", dir)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}\n$`, q)

	// history shows the layers: COPY and RUN have sizes, CMD is empty
	hist := d.MustCLI("history", "cache:v2")
	assert.Regexp(t, `(?m)^\S+\s+.*/bin/sh -c echo built > /built.txt\s+6B`, hist)
	assert.Regexp(t, `(?m)COPY file:[0-9a-f]+.*\s+8B`, hist)
}

// TestBuildEveryInstruction builds a Dockerfile with each instruction the
// article lists and checks where each one lands in the image config.
func TestBuildEveryInstruction(t *testing.T) {
	d := buildDaemon(t)
	// ADD of a URL: a server on 127.0.0.1 (the daemon fetches it)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "downloaded\n")
	}))
	defer srv.Close()
	// ADD of a local tar: auto-extracted
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "inner/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "inner/x.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 13})
	tw.Write([]byte("from the tar\n"))
	require.NoError(t, tw.Close())
	tarBytes := tb.Bytes()

	dir := buildCtx(t, map[string]string{
		"Dockerfile": `ARG BASE=busybox
FROM ${BASE} AS builder
RUN echo compiled > /artifact
FROM ${BASE}
MAINTAINER Lab <lab@example.invalid>
LABEL stage="final" version=1
ARG GREETING=hello
ENV GREETING=${GREETING} ANOTHER="x y"
WORKDIR /srv/app
COPY --chown=nobody:nogroup conf/ ./conf/
COPY --from=builder /artifact /srv/artifact
ADD files.tar /srv/
ADD ` + srv.URL + `/remote.txt /srv/remote.txt
RUN echo "$GREETING from $(pwd)" > /srv/greeting && chmod 644 /srv/remote.txt
SHELL ["/bin/sh", "-ec"]
RUN test -f /srv/inner/x.txt
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
USER nobody
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s CMD wget -q -O- http://127.0.0.1:8080/ || exit 1
ONBUILD RUN echo child build
ENTRYPOINT ["/bin/sh", "-c", "cat /srv/greeting /srv/artifact /srv/inner/x.txt /srv/remote.txt; id -un; stat -c %U /srv/app/conf/a.conf"]
CMD []
`,
		"conf/a.conf": "a=1\n",
		"files.tar":   string(tarBytes),
	})
	out := buildOK(t, d, "--build-arg", "GREETING=bonjour", "--label", "from-cli=yes", "-t", "every:1", dir)
	assert.Contains(t, out, "Step 1/")
	cfg := buildInspect(t, d, "every:1")
	c := cfg.Config
	assert.Equal(t, "Lab <lab@example.invalid>", cfg.Author)
	assert.Equal(t, "final", c.Labels["stage"])
	assert.Equal(t, "yes", c.Labels["from-cli"])
	assert.Contains(t, c.Env, "GREETING=bonjour")
	assert.Contains(t, c.Env, "ANOTHER=x y")
	assert.Equal(t, "/srv/app", c.WorkingDir)
	assert.Contains(t, c.ExposedPorts, "8080/tcp")
	assert.Contains(t, c.ExposedPorts, "53/udp")
	assert.Contains(t, c.Volumes, "/data")
	assert.Equal(t, "nobody", c.User)
	assert.Equal(t, "SIGTERM", c.StopSignal)
	require.NotNil(t, c.Healthcheck)
	assert.Equal(t, []string{"CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/ || exit 1"}, c.Healthcheck.Test)
	assert.Equal(t, []string{"RUN echo child build"}, c.OnBuild)
	assert.Equal(t, []string{"/bin/sh", "-ec"}, c.Shell)
	got := buildRun(t, d, "every:1")
	assert.Equal(t, "bonjour from /srv/app\ncompiled\nfrom the tar\ndownloaded\nnobody\nnobody\n", got)

	// --target builds only up to the named stage
	buildOK(t, d, "--target", "builder", "-t", "every:builder", dir)
	assert.Equal(t, "compiled\n", buildRun(t, d, "every:builder", "cat", "/artifact"))

	// ONBUILD fires in a child build
	child := buildCtx(t, map[string]string{"Dockerfile": "FROM every:1\n"})
	assert.Contains(t, buildOK(t, d, child), "child build")
}

// TestBuildRunNetwork: RUN steps get an endpoint on the daemon's default
// bridge (eth0 with an address of its subnet), as docker's build
// containers do; --network none leaves them only lo; the endpoint is gone
// after the step.
func TestBuildRunNetwork(t *testing.T) {
	d := buildDaemon(t)
	dir := buildCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN ip -o -4 addr > /addrs\nCMD [\"cat\", \"/addrs\"]\n"})
	buildOK(t, d, "-t", "net:bridge", dir)
	addrs := buildRun(t, d, "net:bridge")
	prefix := d.Bip[:strings.LastIndex(d.Bip, ".")+1] // "10.66.N."
	assert.Contains(t, addrs, "eth0")
	assert.Contains(t, addrs, "inet "+prefix, "an address of the daemon's subnet %s:\n%s", d.Bip, addrs)

	buildOK(t, d, "--no-cache", "--network", "none", "-t", "net:none", dir)
	addrs = buildRun(t, d, "net:none")
	assert.Contains(t, addrs, "lo")
	assert.NotContains(t, addrs, "eth0")

	// No veth of a build container is left on the bridge. The daemon
	// deletes a veth pair in the background once the container is gone
	// (the kernel's RCU grace periods make it slow), so a busy machine may
	// still show the last one for a moment; a leak stays.
	var links []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		links, _ = filepath.Glob("/sys/class/net/" + d.Bridge + "/brif/*")
		if len(links) == 0 || time.Now().After(deadline) {
			break
		}
	}
	assert.Empty(t, links)
}

// TestBuildBadInput: docker's messages, exit codes, and nothing left.
func TestBuildBadInput(t *testing.T) {
	d := buildDaemon(t)
	for _, tc := range []struct {
		name, dockerfile string
		files            map[string]string
		args             []string
		code             int
		want             string
	}{
		{name: "unknown instruction", dockerfile: "FROM busybox\nFOO bar\n", code: 1,
			want: "dockerfile parse error on line 2: unknown instruction: FOO"},
		{name: "syntax error", dockerfile: "FROM busybox\nENV\n", code: 1,
			want: "dockerfile parse error on line 2: ENV requires at least one argument"},
		{name: "missing base image", dockerfile: "FROM 127.0.0.1:1/nosuch:v1\n", code: 1,
			want: "127.0.0.1:1"},
		{name: "COPY of a missing file", dockerfile: "FROM busybox\nCOPY nofile /x\n", code: 1,
			want: "COPY failed: file not found in build context or excluded by .dockerignore: stat nofile: file does not exist"},
		{name: "COPY outside the context", dockerfile: "FROM busybox\nCOPY ../secret /x\n", code: 1,
			want: "COPY failed: file not found in build context or excluded by .dockerignore: stat secret: file does not exist"},
		{name: "COPY of an ignored file", dockerfile: "FROM busybox\nCOPY secret.txt /x\n",
			files: map[string]string{".dockerignore": "secret.txt\n", "secret.txt": "s\n"}, code: 1,
			want: "COPY failed: file not found in build context or excluded by .dockerignore: stat secret.txt: file does not exist"},
		{name: "failing RUN", dockerfile: "FROM busybox\nRUN false\n", code: 1,
			want: "The command '/bin/sh -c false' returned a non-zero code: 1"},
		{name: "RUN exit code", dockerfile: "FROM busybox\nRUN exit 3\n", code: 3,
			want: "The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
		{name: "unknown target", dockerfile: "FROM busybox AS one\nRUN true\n", args: []string{"--target", "two"}, code: 1,
			want: `target stage "two" could not be found`},
		{name: "bad tag", dockerfile: "FROM busybox\n", args: []string{"-t", "UPPER:case"}, code: 1,
			want: "invalid reference format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"Dockerfile": tc.dockerfile}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := buildCtx(t, files)
			// a file just outside the context, for ../secret
			os.WriteFile(filepath.Join(filepath.Dir(dir), "secret"), []byte("outside\n"), 0o644)
			r := d.CLI(append(append([]string{"build"}, tc.args...), dir)...)
			assert.Equal(t, tc.code, r.Code, "exit code\n%s%s", r.Stdout, r.Stderr)
			assert.Contains(t, r.Stderr, tc.want)
			buildAssertClean(t, d)
		})
	}

	r := d.CLI("build", "/no/such/dir")
	assert.Equal(t, 1, r.Code)
	assert.Equal(t, "unable to prepare context: path \"/no/such/dir\" not found\n", r.Stderr)
}

// TestBuildDockerCLI: the real docker CLI's classic builder path against
// minidockerd. Without the buildx plugin, docker 28 falls back to POST
// /build by itself (with its deprecation notice on stderr); DOCKER_BUILDKIT=0
// asks for it explicitly.
func TestBuildDockerCLI(t *testing.T) {
	d := buildDaemon(t)
	testutil.DockerCLI(t)
	dir := buildCtx(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\", \"/built.txt\"]\n",
		"hello.txt":  "hi from the tiny context\n",
	})
	r := d.Docker("build", "-t", "apibuild:v1", dir)
	require.Equal(t, 0, r.Code, "%s%s", r.Stdout, r.Stderr)
	assert.Contains(t, r.Stdout, "Sending build context to Docker daemon  3.072kB")
	assert.Contains(t, r.Stdout, "Step 3/4 : RUN echo built > /built.txt\n ---> Running in ")
	assert.Contains(t, r.Stdout, "Successfully tagged apibuild:v1\n")
	assert.Equal(t, "hi from the tiny context\nbuilt\n", d.Docker("run", "--rm", "apibuild:v1").Stdout)

	r = d.Docker("build", "-q", dir)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}\n$`, r.Stdout)

	// a Dockerfile outside the context (-f): both CLIs send it under a
	// random name listed in .dockerignore, so `COPY . ` does not see it,
	// and both build the very same image
	df := filepath.Join(t.TempDir(), "outside.Dockerfile")
	require.NoError(t, os.WriteFile(df, []byte("FROM busybox\nCOPY . /ctx/\nCMD [\"ls\", \"-A\", \"/ctx\"]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(".dockerignore\n"), 0o644))
	r = d.Docker("build", "-q", "-f", df, "-t", "outside:docker", dir)
	require.Equal(t, 0, r.Code, r.Stderr)
	viaDocker := strings.TrimSpace(r.Stdout)
	viaOurs := strings.TrimSpace(buildOK(t, d, "-q", "-f", df, "-t", "outside:ours", dir))
	assert.Equal(t, viaDocker, viaOurs, "same context: the second build is all cache hits")
	assert.Equal(t, "Dockerfile\nhello.txt\n", buildRun(t, d, "outside:ours"))

	bad := buildCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN false\n"})
	r = d.Docker("build", bad)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "The command '/bin/sh -c false' returned a non-zero code: 1")
}

// buildTar makes a context tar in memory.
func buildTar(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}))
		tw.Write([]byte(body))
	}
	require.NoError(t, tw.Close())
	return &buf
}

// TestBuildAPIStream checks the wire format of POST /build against the
// transcript of dockerd's (fixtures/docker/api/build.txt): a JSON message
// per line ending in "\r\n", "Step …" and its "\n" as two messages, the
// image ID as {"aux":{"ID":…}} just before "Successfully built", a failing
// RUN as an in-stream error with its exit code, and an error that comes
// before any output as a plain HTTP error.
func TestBuildAPIStream(t *testing.T) {
	d := buildDaemon(t)
	post := func(query string, body io.Reader) (*http.Response, string) {
		req, err := http.NewRequest("POST", "http://minidocker/v1.41/build?"+query, body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-tar")
		req.Header.Set("X-Registry-Config", "e30=")
		resp, err := d.HTTPClient().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post("dockerfile=Dockerfile&t=apibuild%3Av1&version=1", buildTar(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/hello.txt\", \"/built.txt\"]\n",
		"hello.txt":  "hi from the tiny context\n",
	}))
	require.Equal(t, 200, resp.StatusCode, body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	lines := strings.SplitAfter(body, "\r\n")
	assert.Equal(t, `{"stream":"Step 1/4 : FROM busybox"}`+"\r\n", lines[0])
	assert.Equal(t, `{"stream":"\n"}`+"\r\n", lines[1])
	assert.Contains(t, body, `{"stream":"Step 3/4 : RUN echo built \u003e /built.txt"}`+"\r\n")
	auxAt := strings.Index(body, `{"aux":{"ID":"sha256:`)
	builtAt := strings.Index(body, `{"stream":"Successfully built `)
	require.True(t, auxAt > 0 && builtAt > auxAt, "aux comes just before Successfully built:\n%s", body)
	assert.True(t, strings.HasSuffix(body, `{"stream":"Successfully tagged apibuild:v1\n"}`+"\r\n"), body)

	// a failing RUN: the error is in the stream, with the exit code
	resp, body = post("t=fail", buildTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN exit 3\n"}))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, body, `{"error":"The command '/bin/sh -c exit 3' returned a non-zero code: 3","errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"}}`)

	// an error before any output: an HTTP error
	resp, body = post("", buildTar(t, map[string]string{"Dockerfile": "FROM busybox\nFOO bar\n"}))
	assert.Equal(t, 400, resp.StatusCode, body)
	assert.Contains(t, body, `"message":"dockerfile parse error on line 2: unknown instruction: FOO`)

	// a context that is not a tar
	resp, body = post("", strings.NewReader("this is not a tar archive, not at all, and long enough to have a header block? no."))
	assert.Equal(t, 400, resp.StatusCode, body)

	// a context entry climbing out of the context directory is refused
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	resp, body = post("", &evil)
	assert.Equal(t, 400, resp.StatusCode, body)
	_, err := os.Stat(filepath.Join(d.DataRoot, "build", "escaped"))
	assert.True(t, os.IsNotExist(err), "nothing written outside the context dir")
}

// TestBuildClientGoesAway: a client that disconnects during a RUN cancels
// the build; the step's container (process, cgroup) and scratch dirs go.
func TestBuildClientGoesAway(t *testing.T) {
	d := buildDaemon(t)
	dir := buildCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN " + buildSleepStep(d) + "\n"})
	cmd := exec.Command(d.Bin, "-H", d.Host, "build", dir)
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "\nstarted\n") { // the RUN output, not the Step line
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("RUN did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotEmpty(t, buildStepCgroups(d), "the RUN step runs in a cgroup under the daemon's parent")
	require.True(t, buildSleepRuns(d), "the step's shell is seen from the host")
	cmd.Process.Kill()
	cmd.Wait()
	for deadline = time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(buildStepCgroups(d)) == 0 && !buildSleepRuns(d) && buildTmpEmpty(d) {
			return
		}
	}
	t.Fatalf("left after the client went away: cgroups %v, sleep running %v, tmp empty %v",
		buildStepCgroups(d), buildSleepRuns(d), buildTmpEmpty(d))
}

// TestBuildDaemonStops: a daemon stopped during a RUN removes the step's
// container before it exits; one killed with -9 leaves it, and the daemon
// removes it when it starts again (the harness's leak check at the end
// proves both: no process, cgroup or mount left).
func TestBuildDaemonStops(t *testing.T) {
	d := buildDaemon(t)
	dir := buildCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN " + buildSleepStep(d) + "\n"})
	startRun := func() *exec.Cmd {
		cmd := exec.Command(d.Bin, "-H", d.Host, "build", dir)
		out := &testutil.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "\nstarted\n"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("RUN did not start:\n%s", out.String())
			}
		}
		return cmd
	}

	cmd := startRun()
	require.True(t, buildSleepRuns(d), "the step's shell is seen from the host")
	d.Stop() // SIGTERM
	cmd.Wait()
	assert.Empty(t, buildStepCgroups(d), "the step's cgroup is gone with the daemon")
	assert.False(t, buildSleepRuns(d), "the step's process is gone with the daemon")

	d.Start()
	cmd = startRun()
	d.Kill9()
	cmd.Wait()
	assert.NotEmpty(t, buildStepCgroups(d), "kill -9: the step's container outlives the daemon")
	d.Start()
	assert.Empty(t, buildStepCgroups(d), "the restarted daemon removed what the dead one left")
	assert.False(t, buildSleepRuns(d))
	assert.True(t, buildTmpEmpty(d))
	r := d.CLI("build", buildCtx(t, map[string]string{"Dockerfile": "FROM busybox\nRUN true\n"}))
	require.Equal(t, 0, r.Code, r.Stderr)
}

func buildStepCgroups(d *testutil.Daemon) []string {
	var found []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/" + d.Cgroup + "/*", "/sys/fs/cgroup/" + d.Cgroup + "/*"} {
		m, _ := filepath.Glob(pattern)
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				found = append(found, p)
			}
		}
	}
	return found
}

// buildSleepStep is a RUN command that prints "started" and then waits,
// marked with a word of this daemon's own: its shell (the step's PID 1,
// kept alive by the command after sleep) carries the word in its command
// line, which is how buildSleepRuns finds it from the host.
func buildSleepStep(d *testutil.Daemon) string {
	return "echo started; sleep 300; : " + filepath.Base(d.Dir)
}

// buildSleepRuns says whether buildSleepStep's shell still runs.
func buildSleepRuns(d *testutil.Daemon) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), buildSleepStep(d)) {
			return true
		}
	}
	return false
}

func buildTmpEmpty(d *testutil.Daemon) bool {
	entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "build", "tmp"))
	return len(entries) == 0
}

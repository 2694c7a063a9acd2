// Lab 03, first half — images and registries (chapters/03-core-operations,
// images-and-registry.md).
//
// The article's claims about images: an image is identified by an ID that
// a tag only names (tag → same IMAGE ID); a registry stores images and
// lists them (_catalog, tags/list); push then pull gives back the very same
// image; save/load moves an image without a registry; and a registry that
// speaks plain HTTP is refused until the daemon is told it is insecure.
// Every test starts its own daemon and its own registry on loopback.
// Run as root: `make lab-03`.
package coreoperations

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// registry is one `minidocker registry serve` process started for a test.
type registry struct {
	Addr string // host:port as image references spell it (127.0.0.1:PORT, [::1]:PORT)
	URL  string // http://Addr
}

// startRegistry runs our registry server on host (127.0.0.1 or ::1) and a
// free port, waits until it answers, and stops it (by its PID) at cleanup.
func startRegistry(t *testing.T, host string, extra ...string) *registry {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	addr := l.Addr().String()
	l.Close()
	root := t.TempDir()
	args := append([]string{"registry", "serve", "--addr", addr, "--root", root}, extra...)
	cmd := exec.Command(testutil.Binary(t), args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	r := &registry{Addr: addr, URL: "http://" + addr}
	for i := 0; i < 200; i++ {
		resp, err := http.Get(r.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
			return r
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("registry on %s did not answer\n%s", addr, log.String())
	return nil
}

// getJSON fetches a registry URL and decodes its JSON.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// imageID is the full IMAGE ID of a local image ("" when there is none).
func imageID(d *testutil.Daemon, ref string) string {
	r := d.CLI("image", "inspect", ref)
	if r.Code != 0 {
		return ""
	}
	var out []struct{ Id string }
	if json.Unmarshal([]byte(r.Stdout), &out) != nil || len(out) != 1 {
		return ""
	}
	return out[0].Id
}

// Step 1: load the offline busybox, tag it (same IMAGE ID), look at it.
func TestImagesLoadTagAndList(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	out := d.MustCLI("images")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`, lines[0])
	assert.Regexp(t, `^busybox\s+latest\s+[0-9a-f]{12}\s+\S.* ago\s+[0-9.]+[kM]B$`, lines[1])

	id := imageID(d, "busybox")
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, id)
	d.MustCLI("tag", "busybox", "mybox:v1")
	assert.Equal(t, id, imageID(d, "mybox:v1"), "a tag is only a second name for the same image")
	assert.Equal(t, strings.TrimPrefix(id, "sha256:")[:12]+"\n", d.MustCLI("images", "-q"), "-q lists each image once")
	assert.Equal(t, id+"\n", d.MustCLI("images", "-q", "--no-trunc"))

	hist := d.MustCLI("history", "busybox")
	assert.Regexp(t, `^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n`, hist)
	assert.Contains(t, hist, `CMD ["sh"]`)

	// rmi of one name only untags; the last name deletes.
	assert.Equal(t, "Untagged: mybox:v1\n", d.MustCLI("rmi", "mybox:v1"))
	out = d.MustCLI("rmi", "busybox")
	assert.Contains(t, out, "Untagged: busybox:latest\n")
	assert.Contains(t, out, "Deleted: "+id+"\n")
	assert.Equal(t, "", d.MustCLI("images", "-q"))
}

// Step 2: our own registry. Push, look at _catalog and tags/list, remove
// the local image, pull it back: the same IMAGE ID.
func TestImagesPushCatalogPull(t *testing.T) {
	d := testutil.StartDaemon(t)
	reg := startRegistry(t, "127.0.0.1")
	d.LoadBusybox()
	id := imageID(d, "busybox")
	ref := reg.Addr + "/busybox"
	d.MustCLI("tag", "busybox", ref)

	out := d.MustCLI("push", ref)
	assert.Contains(t, out, "Using default tag: latest\n")
	assert.Contains(t, out, "The push refers to repository ["+ref+"]\n")
	assert.Regexp(t, `: Pushed\n`, out)
	assert.Regexp(t, `latest: digest: sha256:[0-9a-f]{64} size: \d+\n`, out)

	var catalog struct{ Repositories []string }
	getJSON(t, reg.URL+"/v2/_catalog", &catalog)
	assert.Equal(t, []string{"busybox"}, catalog.Repositories)
	var tags struct {
		Name string
		Tags []string
	}
	getJSON(t, reg.URL+"/v2/busybox/tags/list", &tags)
	assert.Equal(t, "busybox", tags.Name)
	assert.Equal(t, []string{"latest"}, tags.Tags)

	// A second push finds everything already there.
	assert.Contains(t, d.MustCLI("push", ref), ": Layer already exists\n")

	// Untagging the repository's last tag drops its digest reference too;
	// the image stays while busybox:latest still names it.
	out = d.MustCLI("rmi", ref)
	assert.Regexp(t, `^Untagged: `+regexp.QuoteMeta(ref)+`:latest\nUntagged: `+regexp.QuoteMeta(ref)+`@sha256:[0-9a-f]{64}\n$`, out)
	out = d.MustCLI("rmi", "busybox")
	assert.Contains(t, out, "Deleted: "+id)
	require.Equal(t, "", imageID(d, ref), "gone locally")

	out = d.MustCLI("pull", ref)
	assert.Contains(t, out, "latest: Pulling from busybox\n")
	assert.Contains(t, out, ": Pull complete\n")
	assert.Regexp(t, `Digest: sha256:[0-9a-f]{64}\n`, out)
	assert.Contains(t, out, "Status: Downloaded newer image for "+ref+":latest\n")
	assert.True(t, strings.HasSuffix(out, "\n"+ref+":latest\n"), out)
	assert.Equal(t, id, imageID(d, ref), "the pulled image is the pushed one: same config, same ID")

	// By digest: the manifest's digest names exactly one image, for ever.
	digest := regexp.MustCompile(`Digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(out)[1]
	d.MustCLI("pull", reg.Addr+"/busybox@"+digest)
	assert.Equal(t, id, imageID(d, reg.Addr+"/busybox@"+digest))
	assert.Equal(t, "Untagged: "+reg.Addr+"/busybox@"+digest+"\n", d.MustCLI("rmi", reg.Addr+"/busybox@"+digest))

	// The pulled image runs like the loaded one would: its layers are unpacked.
	r := d.CLI("run", "--rm", ref, "echo", "pulled")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Equal(t, "pulled\n", r.Stdout)
}

// Step 3: the real docker CLI does the same against our daemon and registry.
func TestImagesDockerCLIPushPull(t *testing.T) {
	d := testutil.StartDaemon(t)
	reg := startRegistry(t, "127.0.0.1")
	d.LoadBusybox()
	id := imageID(d, "busybox")
	ref := reg.Addr + "/team/box:v1"
	r := d.Docker("tag", "busybox", ref)
	require.Equal(t, 0, r.Code, r.Combined())
	r = d.Docker("push", ref)
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Regexp(t, `v1: digest: sha256:[0-9a-f]{64} size: \d+`, r.Stdout)
	r = d.Docker("rmi", ref)
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Contains(t, r.Stdout, "Untagged: "+ref)
	r = d.Docker("pull", ref)
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Contains(t, r.Stdout, "Status: ")
	assert.Contains(t, r.Stdout, ref+"\n")
	assert.Equal(t, id, imageID(d, ref))

	r = d.Docker("images")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Regexp(t, `(?m)^`+strings.ReplaceAll(reg.Addr, ".", `\.`)+`/team/box\s+v1\s+`+strings.TrimPrefix(id, "sha256:")[:12], r.Stdout)
	r = d.Docker("history", "busybox")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Contains(t, r.Stdout, "CREATED BY")
	r = d.Docker("image", "inspect", "--format", "{{.Id}}", "busybox")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Equal(t, id+"\n", r.Stdout)
	assert.Equal(t, r.Stdout, d.MustCLI("image", "inspect", "-f", "{{.Id}}", "busybox"), "our image inspect -f")
	r = d.Docker("inspect", "--format", "{{.Id}}", "busybox")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Equal(t, id+"\n", r.Stdout, "inspect without --type falls back to the image")
}

// Step 4: save and load move an image as a tar; the ID survives.
func TestImagesSaveLoadRoundTrip(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox()
	d.MustCLI("tag", "busybox", "keep:me")
	id := imageID(d, "keep:me")
	file := filepath.Join(t.TempDir(), "keep.tar")
	d.MustCLI("save", "-o", file, "keep:me")
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1<<20))
	names := tarNames(t, file)
	assert.Contains(t, names, "manifest.json", "docker's layout")
	assert.Contains(t, names, "index.json", "and the OCI layout, as docker ≥ 25 writes")

	d.MustCLI("rmi", "keep:me", "busybox")
	assert.Equal(t, "Loaded image: keep:me\n", d.MustCLI("load", "-i", file))
	assert.Equal(t, id, imageID(d, "keep:me"))

	// The real docker CLI: save to stdout, load from stdin.
	d.MustCLI("rmi", "keep:me")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "load")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "Loaded image: keep:me\n", string(out))
	cmd = exec.Command(testutil.DockerCLI(t), "-H", d.Host, "save", "keep:me")
	saved, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, data, saved, "saving the same image twice gives the same bytes")
}

func tarNames(t *testing.T, file string) []string {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
}

// Step 5: import turns a rootfs tar into a one-layer image.
func TestImagesImport(t *testing.T) {
	d := testutil.StartDaemon(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"hello.txt", "hi\n"}, {"etc/motd", "welcome\n"}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}))
		tw.Write([]byte(f.body))
	}
	tw.Close()
	r := d.CLIInput(buf.String(), "import", "-c", `CMD ["/hello"]`, "-c", "ENV A=1", "-m", "from a test", "-", "imp:v1")
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Regexp(t, `^sha256:[0-9a-f]{64}\n$`, r.Stdout)
	var insp []struct {
		Id      string
		Comment string
		Config  struct{ Cmd, Env []string }
	}
	require.NoError(t, json.Unmarshal([]byte(d.MustCLI("image", "inspect", "imp:v1")), &insp))
	assert.Equal(t, strings.TrimSpace(r.Stdout), insp[0].Id)
	assert.Equal(t, []string{"/hello"}, insp[0].Config.Cmd)
	assert.Contains(t, insp[0].Config.Env, "A=1")
	assert.Contains(t, d.MustCLI("history", "imp:v1"), "from a test")
}

// Step 6: the HTTPS/insecure story (article 3.7). A registry that speaks
// plain HTTP on a host address that is not loopback (here the test bridge's
// gateway, standing in for a LAN address) is refused with docker's exact
// error; adding it to daemon.json "insecure-registries" and restarting the
// daemon makes push and pull work. Loopback, 127.0.0.0/8 and (as in Docker
// 28) ::1/128, needs no entry.
func TestImagesInsecureRegistry(t *testing.T) {
	d := testutil.StartDaemon(t)
	gateway, _, _ := strings.Cut(d.Bip, "/")
	reg := startRegistry(t, gateway)
	d.LoadBusybox()
	id := imageID(d, "busybox")
	ref := reg.Addr + "/busybox:latest"
	d.MustCLI("tag", "busybox", ref)

	want := fmt.Sprintf(`Get "https://%s/v2/": http: server gave HTTP response to HTTPS client`, reg.Addr)
	r := d.CLI("push", ref)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Combined(), want)
	r = d.CLI("pull", ref)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Error response from daemon: "+want)
	r = d.Docker("push", ref)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Combined(), want)

	d.Stop()
	d.WriteConfig(fmt.Sprintf(`{"insecure-registries": [%q]}`, reg.Addr))
	d.Start()
	out := d.MustCLI("push", ref)
	assert.Regexp(t, `latest: digest: sha256:[0-9a-f]{64}`, out)
	d.MustCLI("rmi", ref, "busybox")
	d.MustCLI("pull", ref)
	assert.Equal(t, id, imageID(d, ref))

	// A CIDR works as well.
	d.Stop()
	d.WriteConfig(fmt.Sprintf(`{"insecure-registries": ["%s/32"]}`, gateway))
	d.Start()
	assert.Contains(t, d.MustCLI("pull", ref), "Status: Image is up to date for "+ref)
}

// Step 6b: the IPv6 loopback is insecure by default, as in Docker 28.0 and
// later (older dockers listed only 127.0.0.0/8): a plain-HTTP registry on
// [::1] takes a push with an empty daemon.json, and info lists ::1/128.
func TestImagesIPv6LoopbackIsInsecure(t *testing.T) {
	d := testutil.StartDaemon(t)
	reg := startRegistry(t, "::1")
	d.LoadBusybox()
	ref := reg.Addr + "/busybox:latest"
	d.MustCLI("tag", "busybox", ref)
	assert.Regexp(t, `latest: digest: sha256:[0-9a-f]{64}`, d.MustCLI("push", ref))
	assert.Contains(t, d.MustCLI("info"), "  ::1/128\n")
}

// Step 7: a registry with passwords (htpasswd, bcrypt): login stores the
// credential in the docker config file, pushes carry it (X-Registry-Auth).
func TestImagesLoginPushLogout(t *testing.T) {
	d := testutil.StartDaemon(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, os.WriteFile(htpasswd, []byte("student:"+string(hash)+"\n"), 0o600))
	reg := startRegistry(t, "127.0.0.1", "--htpasswd", htpasswd)
	d.LoadBusybox()
	ref := reg.Addr + "/private:v1"
	d.MustCLI("tag", "busybox", ref)

	r := d.CLI("push", ref)
	assert.NotEqual(t, 0, r.Code, "anonymous push is refused")

	r = d.CLIInput("wrong\n", "login", "-u", "student", "--password-stdin", reg.Addr)
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "401 Unauthorized")

	r = d.CLIInput("s3cret\n", "login", "-u", "student", "--password-stdin", reg.Addr)
	require.Equal(t, 0, r.Code, r.Combined())
	assert.Equal(t, "Login Succeeded\n", r.Stdout)
	cfg, err := os.ReadFile(filepath.Join(d.Dir, "docker-config", "config.json"))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), `"`+reg.Addr+`"`)
	assert.Contains(t, string(cfg), `"auth": "c3R1ZGVudDpzM2NyZXQ="`, "base64 of student:s3cret, as docker stores it")

	d.MustCLI("push", ref)
	d.MustCLI("rmi", ref)
	d.MustCLI("pull", ref)
	// The real docker CLI reads the same file.
	r = d.Docker("push", ref)
	require.Equal(t, 0, r.Code, r.Combined())

	assert.Equal(t, "Removing login credentials for "+reg.Addr+"\n", d.MustCLI("logout", reg.Addr))
	d.MustCLI("rmi", ref)
	r = d.CLI("pull", ref)
	assert.Equal(t, 1, r.Code, "logged out: anonymous again")

	// The real docker CLI logs in through our daemon's POST /auth.
	cmd := exec.Command(testutil.DockerCLI(t), "-H", d.Host, "login", "-u", "student", "--password-stdin", reg.Addr)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(d.Dir, "docker-config"))
	cmd.Stdin = strings.NewReader("s3cret\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "Login Succeeded")
	d.MustCLI("pull", ref)
}

// registry-mirrors: images of Docker Hub are fetched from the mirror. The
// mirror is a registry of ours on loopback holding library/busybox, so
// nothing leaves the machine.
func TestImagesRegistryMirror(t *testing.T) {
	testutil.RequireRoot(t)
	d := testutil.NewDaemon(t)
	mirror := startRegistry(t, "127.0.0.1")
	d.WriteConfig(fmt.Sprintf(`{"registry-mirrors": ["http://%s"]}`, mirror.Addr))
	d.Start()
	t.Cleanup(func() { d.RemoveAllContainers(); d.Stop(); d.AssertNoLeaks(); d.Purge() })
	d.LoadBusybox()
	id := imageID(d, "busybox")
	d.MustCLI("tag", "busybox", mirror.Addr+"/library/busybox:latest")
	d.MustCLI("push", mirror.Addr+"/library/busybox:latest")
	var tags struct{ Tags []string }
	getJSON(t, mirror.URL+"/v2/library/busybox/tags/list", &tags)
	require.Equal(t, []string{"latest"}, tags.Tags, "the mirror holds the image (so no fallback to Docker Hub is ever tried)")
	d.MustCLI("rmi", mirror.Addr+"/library/busybox:latest", "busybox")

	out := d.MustCLI("pull", "busybox")
	assert.Contains(t, out, "Status: Downloaded newer image for busybox:latest")
	assert.True(t, strings.HasSuffix(out, "\ndocker.io/library/busybox:latest\n"), out)
	assert.Equal(t, id, imageID(d, "busybox"))
}

// The raw Engine API, as dockerd answers it: errors before any progress
// are plain HTTP errors, load answers one JSON line per image.
func TestImagesAPIShapes(t *testing.T) {
	d := testutil.StartDaemon(t)
	reg := startRegistry(t, "127.0.0.1")
	c := d.HTTPClient()

	resp, err := c.Post("http://minidocker/v1.41/images/create?fromImage="+reg.Addr+"%2Fnothing&tag=latest", "", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `{"message":"manifest for `+reg.Addr+`/nothing:latest not found: manifest unknown: manifest unknown"}`)

	data, err := os.ReadFile(testutil.BusyboxTar(t))
	require.NoError(t, err)
	resp, err = c.Post("http://minidocker/v1.41/images/load?quiet=1", "application/x-tar", bytes.NewReader(data))
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, `{"stream":"Loaded image: busybox:latest\n"}`+"\r\n", string(body))

	resp, err = c.Get("http://minidocker/v1.41/images/nosuch/json")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, `{"message":"No such image: nosuch:latest"}`+"\n", string(body))

	req, _ := http.NewRequest(http.MethodPost, "http://minidocker/v1.41/images/busybox/push?tag=latest", nil)
	req.URL.Path = "/v1.41/images/" + reg.Addr + "/busybox/push"
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "pushing a name that is not local")

	resp, err = c.Post("http://minidocker/v1.41/images/busybox/tag?repo="+reg.Addr+"/busybox&tag=v9", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	req, _ = http.NewRequest(http.MethodPost, "http://minidocker/v1.41/images/"+reg.Addr+"/busybox/push?tag=v9", nil)
	req.Header.Set("X-Registry-Auth", "e30=")
	resp, err = c.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	assert.Equal(t, `{"status":"The push refers to repository [`+reg.Addr+`/busybox]"}`, lines[0])
	assert.Regexp(t, `^\{"progressDetail":\{\},"aux":\{"Tag":"v9","Digest":"sha256:[0-9a-f]{64}","Size":\d+\}\}$`, lines[len(lines)-1])
}

// Bad input: clear errors in docker's words, and nothing half-made.
func TestImagesBadInput(t *testing.T) {
	d := testutil.StartDaemon(t)
	reg := startRegistry(t, "127.0.0.1")
	d.LoadBusybox()

	r := d.CLI("pull", "Bad::Ref")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "invalid reference format")
	r = d.Docker("tag", "busybox", "Upper:v1")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "invalid reference format")

	// Unknown repository or tag.
	r = d.CLI("pull", reg.Addr+"/busybox:nope")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "manifest unknown")
	d.MustCLI("tag", "busybox", reg.Addr+"/busybox")
	d.MustCLI("push", reg.Addr+"/busybox")
	r = d.CLI("pull", reg.Addr+"/busybox:nope")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "Error response from daemon: manifest for "+reg.Addr+"/busybox:nope not found: manifest unknown")

	// Unknown local image.
	r = d.CLI("rmi", "nosuch")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "No such image: nosuch")
	r = d.CLI("image", "inspect", "nosuch")
	assert.Equal(t, 1, r.Code)
	r = d.CLI("push", "127.0.0.1:1/nosuch")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "An image does not exist locally with the tag: 127.0.0.1:1/nosuch")

	// A registry that is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := l.Addr().String()
	l.Close()
	r = d.CLI("pull", down+"/busybox")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "connection refused")

	// load: non-tar and truncated input store nothing.
	before := d.MustCLI("images", "-a", "--no-trunc")
	r = d.CLIInput("this is not a tar archive, not at all\n", "load")
	assert.Equal(t, 1, r.Code)
	assert.NotEmpty(t, r.Stderr)
	data, err := os.ReadFile(testutil.BusyboxTar(t))
	require.NoError(t, err)
	d.MustCLI("rmi", "busybox", reg.Addr+"/busybox")
	before = d.MustCLI("images", "-a", "--no-trunc")
	r = d.CLIInput(string(data[:len(data)/2]), "load")
	assert.Equal(t, 1, r.Code, r.Combined())
	assert.Equal(t, before, d.MustCLI("images", "-a", "--no-trunc"), "a truncated load stores no image")
	d.LoadBusybox() // and loading the whole archive afterwards works

	// rmi of an image a container uses: refused without -f.
	r = d.CLI("create", "--name", "user", "busybox", "true")
	require.Equal(t, 0, r.Code, r.Combined())
	r = d.CLI("rmi", imageID(d, "busybox"))
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "conflict")
	r = d.CLI("rmi", "busybox")
	assert.Equal(t, 1, r.Code, "the last name of an image in use")
	assert.Contains(t, r.Stderr, "conflict")
	assert.NotEqual(t, "", imageID(d, "busybox"))
	d.MustCLI("rm", "user")
	d.MustCLI("rmi", "busybox")
}

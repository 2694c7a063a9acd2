package daemon_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil"
	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestNamespaceModes: --ipc (private, shareable + container:<id>, none,
// host), --pid (host, container:<id>) and --uts host put the container in
// the namespace asked for (its /proc/self/ns link says so), share /dev/shm
// with it, and a bad mode or target gets docker's status and message.
func TestNamespaceModes(t *testing.T) {
	d := preload.StartDaemon(t)
	hostNs := func(kind string) string {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	nsOf := func(args ...string) string {
		return strings.TrimSpace(dockerOK(t, d, append([]string{"run", "--rm", "--net", "none"}, args...)...))
	}

	// IPC: private by default; shareable lends its namespace and /dev/shm
	if ns := nsOf("busybox", "readlink", "/proc/self/ns/ipc"); ns == hostNs("ipc") {
		t.Fatalf("a default container shares the host's IPC namespace %s", ns)
	}
	dockerOK(t, d, "run", "-d", "--name", "donor", "--net", "none", "--ipc", "shareable", "busybox", "sleep", "300")
	dockerOK(t, d, "exec", "donor", "sh", "-c", "echo shared > /dev/shm/hello")
	donorIpc := strings.TrimSpace(dockerOK(t, d, "exec", "donor", "readlink", "/proc/self/ns/ipc"))
	out := nsOf("--ipc", "container:donor", "busybox", "sh", "-c", "readlink /proc/self/ns/ipc; cat /dev/shm/hello")
	if out != donorIpc+"\nshared" {
		t.Fatalf("--ipc container:donor: %q, want the donor's %s and its /dev/shm", out, donorIpc)
	}
	if out = nsOf("--ipc", "none", "busybox", "sh", "-c", "readlink /proc/self/ns/ipc; grep -c ' /dev/shm ' /proc/self/mountinfo || true"); out == hostNs("ipc")+"\n0" || !strings.HasSuffix(out, "\n0") {
		t.Fatalf("--ipc none: %q (want a namespace of its own and no /dev/shm)", out)
	}
	marker := "minidocker-test-" + testutil.RandomHex(4)
	if err := os.WriteFile("/dev/shm/"+marker, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + marker)
	if out = nsOf("--ipc", "host", "busybox", "sh", "-c", "readlink /proc/self/ns/ipc; cat /dev/shm/"+marker); out != hostNs("ipc")+"\nhost" {
		t.Fatalf("--ipc host: %q", out)
	}

	// PID: the host's, or the donor's (its sleep is PID 1 there)
	if out = nsOf("--pid", "host", "busybox", "sh", "-c", "readlink /proc/self/ns/pid; echo $$"); out == hostNs("pid")+"\n1" || !strings.HasPrefix(out, hostNs("pid")+"\n") {
		t.Fatalf("--pid host: %q", out)
	}
	if out = nsOf("--pid", "container:donor", "busybox", "cat", "/proc/1/cmdline"); out != "sleep\x00300\x00" {
		t.Fatalf("--pid container:donor: PID 1 is %q", out)
	}

	// UTS: the host's name, which the container does not change
	host, _ := os.Hostname()
	if out = nsOf("--uts", "host", "busybox", "hostname"); out != host {
		t.Fatalf("--uts host: hostname %q, want %q", out, host)
	}
	if now, _ := os.Hostname(); now != host {
		t.Fatalf("the host's name changed to %q", now)
	}

	dockerOK(t, d, "create", "--name", "stopped", "--ipc", "shareable", "busybox", "true")
	dockerOK(t, d, "run", "-d", "--name", "private", "--net", "none", "busybox", "sleep", "300")
	donorID := strings.TrimSpace(dockerOK(t, d, "inspect", "-f", "{{.Id}}", "stopped"))
	for _, c := range []struct {
		hostConfig, createErr, startErr string
		code                            int
	}{
		{hostConfig: `"IpcMode":"bogus"`, createErr: "invalid IPC mode: bogus"},
		{hostConfig: `"PidMode":"bogus"`, createErr: "invalid PID mode: bogus"},
		{hostConfig: `"UTSMode":"container:donor"`, createErr: "invalid UTS mode: container:donor"},
		{hostConfig: `"UTSMode":"host"`, createErr: "conflicting options: hostname and the UTS mode"},
		{hostConfig: `"IpcMode":"container:nosuch"`, startErr: "No such container: nosuch", code: 400},
		{hostConfig: `"PidMode":"container:nosuch"`, startErr: "No such container: nosuch", code: 400},
		{hostConfig: `"IpcMode":"container:stopped"`, startErr: "container " + donorID + " is not running", code: 409},
		{hostConfig: `"PidMode":"container:stopped"`, startErr: "container " + donorID + " is not running", code: 409},
		{hostConfig: `"IpcMode":"container:private"`, startErr: "container private: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", code: 400},
	} {
		t.Run(c.hostConfig, func(t *testing.T) {
			code, body := apiPost(t, d, "/containers/create", `{"Image":"busybox","Hostname":"h","Cmd":["true"],"HostConfig":{`+c.hostConfig+`}}`)
			if c.createErr != "" {
				if code != 400 || body != c.createErr {
					t.Fatalf("create: %d %q, want 400 %q", code, body, c.createErr)
				}
				return
			}
			var created struct{ Id string }
			if code != 201 || json.Unmarshal([]byte(body), &created) != nil {
				t.Fatalf("create: %d %s", code, body)
			}
			defer d.Docker("rm", "-f", created.Id)
			if code, body = apiPost(t, d, "/containers/"+created.Id+"/start", ""); code != c.code || body != c.startErr {
				t.Fatalf("start: %d %q, want %d %q", code, body, c.code, c.startErr)
			}
		})
	}
}

package cli

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/moby/moby/api/types/network"
)

// TestMemoryFlags: -m and --memory-swap take docker's sizes (go-units'
// RAMInBytes: binary units, an optional b/ib) and refuse anything else with
// the docker CLI's words.
func TestMemoryFlags(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "100k": 100 << 10, "64m": 64 << 20, "500M": 500 << 20, "1g": 1 << 30, "2GB": 2 << 30, "1.5g": 3 << 29} {
		t.Run(in, func(t *testing.T) {
			_, hc, err := (&ContainerFlags{Memory: in, MemorySwap: in}).config(false)
			if err != nil || hc.Memory != want || hc.MemorySwap != want {
				t.Errorf("%s: %+v %v, want %d", in, hc, err, want)
			}
		})
	}
	for _, bad := range []string{"x", "-1m", "10q"} {
		_, _, err := (&ContainerFlags{Memory: bad}).config(false)
		if err == nil || !strings.Contains(err.Error(), "invalid argument \""+bad+"\" for \"-m, --memory\" flag: invalid ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseRestartAndPublish(t *testing.T) {
	p, err := parseRestart("on-failure:3")
	if err != nil || p.Name != "on-failure" || p.MaximumRetryCount != 3 {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := parseRestart("on-failure:x"); err == nil {
		t.Fatal("bad count accepted")
	}
	f := ContainerFlags{Image: "busybox", Publish: []string{"127.0.0.1:8080:80", "53/udp", "7000-7010:70"}}
	cfg, hc, err := f.config(false)
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]network.PortBinding{
		"80/tcp": {HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"},
		"53/udp": {},
		"70/tcp": {HostPort: "7000-7010"},
	} {
		t.Run(spec, func(t *testing.T) {
			bs := hc.PortBindings[network.MustParsePort(spec)]
			if _, exposed := cfg.ExposedPorts[network.MustParsePort(spec)]; len(bs) != 1 || !exposed || bs[0] != want {
				t.Errorf("%s: %+v (exposed %v), want %+v", spec, bs, exposed, want)
			}
		})
	}
	f.Publish = []string{"99999:80"}
	if _, _, err := f.config(false); err == nil || err.Error() != `invalid argument "99999:80" for "-p, --publish" flag: invalid hostPort: 99999` {
		t.Errorf("bad -p: %v", err)
	}
}

func TestContainerFlagsConfig(t *testing.T) {
	f := ContainerFlags{Image: "busybox", Cmd: []string{"sh"}, Env: []string{"A=1", "MINIDOCKER_SURELY_UNSET"},
		Interactive: true, TTY: true, Memory: "64m", CPUs: 1.5, Restart: "always", Network: "none", Volume: []string{"/a:/b:ro"}}
	cfg, hc, err := f.config(true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Env, ",") != "A=1" || !cfg.AttachStdin || !cfg.StdinOnce || !cfg.OpenStdin || !cfg.Tty {
		t.Fatalf("%+v", cfg)
	}
	if hc.Memory != 64<<20 || hc.NanoCPUs != 1500000000 || hc.RestartPolicy.Name != "always" || hc.NetworkMode != "none" {
		t.Fatalf("%+v", hc)
	}
	f.Volume = []string{"a:b:c:d"}
	if _, _, err := f.config(true); err == nil || !strings.Contains(err.Error(), "invalid spec") {
		t.Fatalf("bad -v: %v", err)
	}
}

func TestPsHelpers(t *testing.T) {
	if got := ellipsis("sh -c 'echo out1; echo out2'", 20); got != "sh -c 'echo out1; e…" {
		t.Fatalf("%q", got)
	}
	if got, err := logTime("2026-11-27T13:24:43Z"); err != nil || !strings.HasPrefix(got, "1795") {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := logTime("yesterday"); err == nil {
		t.Fatal("bad --since accepted")
	}
}

func TestRunFlagsKeepCommas(t *testing.T) {
	var c CLI
	parser, err := kong.New(&c, kong.Vars{"default_host": "unix:///x", "config_file": "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"run", "-e", "OPTS=a,b", "-v", "/x:/y", "busybox", "sh", "-c", "echo a,b"}); err != nil {
		t.Fatal(err)
	}
	if len(c.Run.Env) != 1 || c.Run.Env[0] != "OPTS=a,b" || len(c.Run.Cmd) != 3 {
		t.Fatalf("%q %q", c.Run.Env, c.Run.Cmd)
	}
}

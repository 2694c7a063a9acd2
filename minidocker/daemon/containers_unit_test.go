package daemon

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
)

func TestParseBinds(t *testing.T) {
	bs, err := parseBinds([]string{"/h:/c", "/h2:/c2:ro", "data:/var/lib/x"})
	if err != nil {
		t.Fatal(err)
	}
	if bs[0].ReadOnly || !bs[1].ReadOnly || bs[2].Source != "" || bs[2].Named != "data" {
		t.Fatalf("%+v", bs)
	}
	for _, bad := range []string{"/h", "/h:rel", "a:b:c:d", "/h:/c:xx", "/h:/", ":/c"} {
		_, err := parseBinds([]string{bad})
		if err == nil || errdefs.KindOf(err) != errdefs.KindInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMergeImageConfig(t *testing.T) {
	img := &image.ImageConfigRuntime{}
	img.Env = []string{"PATH=/bin", "A=image"}
	img.Cmd = []string{"sh"}
	img.Entrypoint = []string{"/entry"}
	img.WorkingDir = "/w"

	c := mergeImageConfig(&container.Config{Env: []string{"A=mine", "B=b"}}, img)
	if strings.Join(c.Env, ",") != "PATH=/bin,A=mine,B=b" || c.WorkingDir != "/w" ||
		strings.Join(c.Entrypoint, " ") != "/entry" || strings.Join(c.Cmd, " ") != "sh" {
		t.Fatalf("%+v", c)
	}
	c = mergeImageConfig(&container.Config{Entrypoint: []string{"echo"}}, img)
	if len(c.Cmd) != 0 || c.Entrypoint[0] != "echo" {
		t.Fatalf("own entrypoint keeps only its own cmd: %+v", c)
	}
	c = mergeImageConfig(&container.Config{Entrypoint: []string{""}, Cmd: []string{"ls"}}, img)
	if len(c.Entrypoint) != 0 || c.Cmd[0] != "ls" {
		t.Fatalf("--entrypoint \"\" resets: %+v", c)
	}
}

func TestValidateHostConfig(t *testing.T) {
	neg := int64(-1)
	ok := []*container.HostConfig{
		{},
		{RestartPolicy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}},
		{Resources: container.Resources{Memory: 6 << 20, PidsLimit: &neg}},
	}
	for _, hc := range ok {
		if err := validateHostConfig(hc); err != nil {
			t.Errorf("%+v: %v", hc, err)
		}
	}
	bad := map[string]*container.HostConfig{
		"Minimum memory limit allowed is 6MB":                       {Resources: container.Resources{Memory: 1 << 20}},
		"unknown policy 'sometimes'":                                {RestartPolicy: container.RestartPolicy{Name: "sometimes"}},
		"maximum retry count can only be used with":                 {RestartPolicy: container.RestartPolicy{Name: "always", MaximumRetryCount: 2}},
		"can't create 'AutoRemove' container with":                  {AutoRemove: true, RestartPolicy: container.RestartPolicy{Name: "always"}},
		"Range of CPUs is from 0.01 to":                             {Resources: container.Resources{NanoCPUs: 100000e9}},
		"Minimum memoryswap limit should be larger than":            {Resources: container.Resources{Memory: 64 << 20, MemorySwap: 32 << 20}},
		"invalid CPU shares (-1): value must be a positive integer": {Resources: container.Resources{CPUShares: -1}},
	}
	for msg, hc := range bad {
		err := validateHostConfig(hc)
		if err == nil || !strings.Contains(err.Error(), msg) || errdefs.KindOf(err) != errdefs.KindInvalid {
			t.Errorf("want %q, got %v", msg, err)
		}
	}
}

// TestHumanDuration pins the wording of the STATUS column of `ps`
// ("Up 5 minutes"), which is go-units' as in docker.
func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "Less than a second", time.Second: "1 second", 3 * time.Second: "3 seconds",
		90 * time.Second: "About a minute", 5 * time.Minute: "5 minutes", time.Hour: "About an hour",
		5 * time.Hour: "5 hours", 72 * time.Hour: "3 days",
	} {
		t.Run(want, func(t *testing.T) {
			if got := units.HumanDuration(d); got != want {
				t.Errorf("%s: %q, want %q", d, got, want)
			}
		})
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"KILL": syscall.SIGKILL, "SIGTERM": syscall.SIGTERM, "hup": syscall.SIGHUP, "9": syscall.SIGKILL} {
		t.Run(in, func(t *testing.T) {
			if got, err := ParseSignal(in); err != nil || got != want {
				t.Errorf("%s: %v %v", in, got, err)
			}
		})
	}
	for _, bad := range []string{"NOPE", "0", "99"} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestGeneratedNamesAreValid(t *testing.T) {
	for i := 0; i < 200; i++ {
		if n := generateName(i%2 == 0); !validName().MatchString(n) {
			t.Fatalf("generated %q", n)
		}
	}
}

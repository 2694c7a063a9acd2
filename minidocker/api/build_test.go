package api

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

func TestBuildOptionsFromQuery(t *testing.T) {
	r := httptest.NewRequest("POST", `/build?t=a:1&t=b&dockerfile=x/Dockerfile&nocache=1&q=true&pull=1&target=stage&networkmode=default&buildargs={"A":"1","B":null}&labels={"k":"v"}&rm=1&forcerm=0&version=1`, nil)
	o, err := buildOptions(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Tags) != 2 || o.Tags[0] != "a:1" || o.Tags[1] != "b" || o.Dockerfile != "x/Dockerfile" ||
		!o.NoCache || !o.Quiet || !o.Pull || o.Target != "stage" || o.Network != "" {
		t.Errorf("options: %+v", o)
	}
	if v := o.BuildArgs["A"]; v == nil || *v != "1" {
		t.Errorf("buildargs A: %v", v)
	}
	if v, ok := o.BuildArgs["B"]; !ok || v != nil {
		t.Errorf("buildargs B (null: from the client's environment, absent there): %v %v", v, ok)
	}
	if o.Labels["k"] != "v" {
		t.Errorf("labels: %v", o.Labels)
	}
	for _, bad := range []string{`buildargs={`, `labels=[1]`, `version=2`, `remote=https://example.invalid/x.git`} {
		if _, err := buildOptions(httptest.NewRequest("POST", "/build?"+bad, nil)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestBuildAuthHeader(t *testing.T) {
	r := httptest.NewRequest("POST", "/build", nil)
	if buildAuth(r) != nil {
		t.Error("no header: anonymous")
	}
	r.Header.Set("X-Registry-Config", "e30=") // {}
	if buildAuth(r) != nil {
		t.Error("{}: anonymous")
	}
	one := base64.URLEncoding.EncodeToString([]byte(`{"127.0.0.1:5000":{"username":"u","password":"p"}}`))
	r.Header.Set("X-Registry-Config", one)
	if a := buildAuth(r); a == nil || a.Username != "u" || a.Password != "p" {
		t.Errorf("one credential: %+v", a)
	}
	two := base64.URLEncoding.EncodeToString([]byte(`{"a":{"username":"u"},"b":{"username":"v"}}`))
	r.Header.Set("X-Registry-Config", two)
	if buildAuth(r) != nil {
		t.Error("two credentials: which one? anonymous")
	}
}

// TestBuildOptionsRefusedNotIgnored: every docker build option the classic
// builder here does not apply is refused with a 400 naming the flag,
// never ignored; the values that ask for nothing (what a client sends
// without the flag) pass.
func TestBuildOptionsRefusedNotIgnored(t *testing.T) {
	for query, want := range map[string]string{
		"extrahosts=a:1.2.3.4":                          "minidocker does not support docker build --add-host yet",
		`ulimits=[{"Name":"nofile","Hard":1,"Soft":1}]`: "minidocker does not support docker build --ulimit yet",
		"shmsize=33554432":                              "minidocker does not support docker build --shm-size yet",
		"memory=67108864":                               "minidocker does not support docker build --memory yet",
		"memswap=-1":                                    "minidocker does not support docker build --memory-swap yet",
		"cpushares=5":                                   "minidocker does not support docker build --cpu-shares yet",
		"cpuperiod=1000":                                "minidocker does not support docker build --cpu-period yet",
		"cpuquota=500":                                  "minidocker does not support docker build --cpu-quota yet",
		"cpusetcpus=0":                                  "minidocker does not support docker build --cpuset-cpus yet",
		"cpusetmems=0":                                  "minidocker does not support docker build --cpuset-mems yet",
		"cgroupparent=x":                                "minidocker does not support docker build --cgroup-parent yet",
		`cachefrom=["busybox"]`:                         "minidocker does not support docker build --cache-from yet",
		"squash=1":                                      "minidocker does not support docker build --squash yet",
		"platform=linux/s390x":                          "--platform=linux/s390x: this builder builds for linux/" + runtime.GOARCH + " only",
		"platform=linux/a/b/c":                          `"linux/a/b/c": cannot parse platform specifier: invalid argument`,
		"outputs=x":                                     "minidocker does not support docker build --output yet",
		"rm=0":                                          "minidocker does not support docker build --rm=false yet: its RUN steps leave no intermediate container to keep",
		"securityopt=seccomp=unconfined":                "the daemon on this platform does not support --security-opt to build",
		"isolation=hyperv":                              `unsupported isolation: "hyperv"`,
	} {
		_, err := buildOptions(httptest.NewRequest("POST", "/build?"+query, nil))
		if err == nil || err.Error() != want || !errdefs.IsInvalid(err) {
			t.Errorf("%s: %v, want a 400 %q", query, err, want)
		}
	}
	// ... and so does this machine's own platform, which changes nothing
	nothing := "/build?memory=0&memswap=0&cpushares=0&shmsize=0&cachefrom=[]&ulimits=null&extrahosts=&squash=0&rm=1&forcerm=1&isolation=default&platform=linux/" + runtime.GOARCH
	if _, err := buildOptions(httptest.NewRequest("POST", nothing, nil)); err != nil {
		t.Errorf("the values that ask for nothing: %v", err)
	}
}

// TestWithoutPlatform: an image endpoint that cannot choose among
// platforms refuses a "platform" parameter with a 400 instead of ignoring
// it, and runs as before without one.
func TestWithoutPlatform(t *testing.T) {
	called := 0
	h := withoutPlatform("save", func(http.ResponseWriter, *http.Request, map[string]string) error { called++; return nil })
	err := h(httptest.NewRecorder(), httptest.NewRequest("GET", `/images/get?names=busybox&platform={"os":"linux","architecture":"arm64"}`, nil), nil)
	if !errdefs.IsInvalid(err) || err.Error() != "minidocker does not support docker save --platform yet" || called != 0 {
		t.Errorf("with a platform: %v (handler called %d times), want a 400", err, called)
	}
	if err := h(httptest.NewRecorder(), httptest.NewRequest("GET", "/images/get?names=busybox", nil), nil); err != nil || called != 1 {
		t.Errorf("without: %v, called %d", err, called)
	}
}

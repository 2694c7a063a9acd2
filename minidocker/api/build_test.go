package api

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
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

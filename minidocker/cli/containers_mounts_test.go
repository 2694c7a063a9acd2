package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// TestParseMount: --mount values become the API's Mount as docker's CLI
// makes them, and the values it refuses are refused with its words
// (checked against docker 28: `docker create --mount …`).
func TestParseMount(t *testing.T) {
	good := map[string]mount.Mount{
		"target=/x":                          {Type: mount.TypeVolume, Target: "/x"},
		"type=bind,src=/tmp,dst=/x,readonly": {Type: mount.TypeBind, Source: "/tmp", Target: "/x", ReadOnly: true},
		`type=bind,"source=/a,b",target=/x`:  {Type: mount.TypeBind, Source: "/a,b", Target: "/x"},
		"TYPE=TMPFS,destination=/t,tmpfs-size=1m,tmpfs-mode=1770": {Type: mount.TypeTmpfs, Target: "/t",
			TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1770}},
		"type=volume,source=data,target=/d,volume-nocopy,volume-label=a=b,ro=false": {Type: mount.TypeVolume, Source: "data", Target: "/d",
			VolumeOptions: &mount.VolumeOptions{NoCopy: true, Labels: map[string]string{"a": "b"}, DriverConfig: &mount.Driver{}}},
		"type=bind,src=/tmp,dst=/x,bind-recursive=disabled": {Type: mount.TypeBind, Source: "/tmp", Target: "/x",
			BindOptions: &mount.BindOptions{NonRecursive: true}},
	}
	for spec, want := range good {
		t.Run(spec, func(t *testing.T) {
			got, err := parseMount(spec)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, %v; want %+v", got, err, want)
			}
		})
	}
	bad := map[string]string{
		"type=bind":                          "target is required",
		"ro":                                 "target is required",
		"foo":                                "invalid field 'foo' must be a key=value pair",
		"target=/x,a=b":                      "unexpected key 'a' in 'a=b'",
		"dst=/x,ro=oui":                      "invalid value for ro: oui",
		"":                                   "EOF",
		"type=tmpfs,dst=/x,tmpfs-size=abc":   "invalid value for tmpfs-size: abc",
		"type=tmpfs,dst=/x,tmpfs-mode=9":     "invalid value for tmpfs-mode: 9",
		"type=volume,dst=/x,volume-nocopy=x": "invalid value for volume-nocopy: x",
		"type=volume,src=v,dst=/x,bind-propagation=rshared": "cannot mix 'bind-*' options with mount type 'volume'",
		"type=tmpfs,dst=/x,volume-label=a=b":                "cannot mix 'volume-*' options with mount type 'tmpfs'",
		"type=bind,src=/a,dst=/x,tmpfs-size=1m":             "cannot mix 'tmpfs-*' options with mount type 'bind'",
		"type=bind,src=/a,dst=/x,bind-recursive=foo":        `invalid value for bind-recursive: foo (must be "enabled", "disabled", "writable", or "readonly")`,
		"type=bind,src=/a,dst=/x,bind-recursive=readonly":   "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction",
	}
	for spec, want := range bad {
		t.Run("bad "+spec, func(t *testing.T) {
			if _, err := parseMount(spec); err == nil || err.Error() != want {
				t.Errorf("got %v, want %q", err, want)
			}
		})
	}
}

// TestVolumeFlags: -v with a source is a bind (Binds), a lone path an
// anonymous volume (Config.Volumes), "./x" is made absolute, and the specs
// docker's CLI refuses are refused.
func TestVolumeFlags(t *testing.T) {
	cfg, hc := &container.Config{}, &container.HostConfig{}
	if err := volumeFlags([]string{"/h:/c:ro", "data:/d", "/anon", "./rel:/r"}, cfg, hc); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := []string{"/h:/c:ro", "data:/d", filepath.Join(wd, "rel") + ":/r"}; !reflect.DeepEqual(hc.Binds, want) {
		t.Errorf("Binds %q, want %q", hc.Binds, want)
	}
	if _, ok := cfg.Volumes["/anon"]; !ok || len(cfg.Volumes) != 1 {
		t.Errorf("Volumes %v, want /anon", cfg.Volumes)
	}
	for spec, want := range map[string]string{
		"":           "invalid empty volume spec",
		":/b":        "invalid spec: :/b: empty section between colons",
		"/a:/b:":     "invalid spec: /a:/b:: empty section between colons",
		"/a:/b:ro:x": "invalid spec: /a:/b:ro:x: too many colons",
	} {
		t.Run(spec, func(t *testing.T) {
			err := volumeFlags([]string{spec}, &container.Config{}, &container.HostConfig{})
			if err == nil || err.Error() != want {
				t.Errorf("got %v, want %q", err, want)
			}
		})
	}
}

// TestNameFlags: --dns, --dns-search, --add-host, --link and
// --network-alias are checked and sent as docker's CLI sends them.
func TestNameFlags(t *testing.T) {
	f := NameFlags{DNS: []string{"1.2.3.4"}, DNSSearch: []string{"example.com.", "."}, DNSOption: []string{"ndots:2"},
		AddHost: []string{"a:10.0.0.1", "b=::1", "c:[::2]", "gw:host-gateway"}, Link: []string{"db:database"}}
	hc := &container.HostConfig{}
	if err := f.apply(hc); err != nil {
		t.Fatal(err)
	}
	if len(hc.DNS) != 1 || hc.DNS[0].String() != "1.2.3.4" {
		t.Errorf("DNS %v", hc.DNS)
	}
	if !reflect.DeepEqual(hc.DNSSearch, []string{"example.com", "."}) || !reflect.DeepEqual(hc.DNSOptions, []string{"ndots:2"}) {
		t.Errorf("DNSSearch %q DNSOptions %q", hc.DNSSearch, hc.DNSOptions)
	}
	if want := []string{"a:10.0.0.1", "b:::1", "c:::2", "gw:host-gateway"}; !reflect.DeepEqual(hc.ExtraHosts, want) {
		t.Errorf("ExtraHosts %q, want %q", hc.ExtraHosts, want)
	}
	if !reflect.DeepEqual(hc.Links, []string{"db:database"}) {
		t.Errorf("Links %q", hc.Links)
	}
	for name, tc := range map[string]struct {
		f    NameFlags
		want string
	}{
		"dns":         {NameFlags{DNS: []string{"x"}}, `invalid argument "x" for "--dns" flag: IP address is not correctly formatted: x`},
		"dns-search":  {NameFlags{DNSSearch: []string{"-bad"}}, `invalid argument "-bad" for "--dns-search" flag: -bad is not a valid domain`},
		"digits only": {NameFlags{DNSSearch: []string{"123"}}, `invalid argument "123" for "--dns-search" flag: 123 is not a valid domain`},
		"add-host":    {NameFlags{AddHost: []string{"x"}}, `invalid argument "x" for "--add-host" flag: bad format for add-host: "x"`},
		"add-host ip": {NameFlags{AddHost: []string{"x:nope"}}, `invalid argument "x:nope" for "--add-host" flag: invalid IP address in add-host: "nope"`},
		"link":        {NameFlags{Link: []string{"a:b:c"}}, `invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c`},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.f.apply(&container.HostConfig{}); err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	alias := NameFlags{NetworkAlias: []string{"web"}}
	for _, mode := range []string{"default", "bridge", "host", "none", "container:x"} {
		if _, err := alias.networkingConfig(mode); err != errAliasOnDefault {
			t.Errorf("--network-alias with --net %s: %v", mode, err)
		}
	}
	nc, err := alias.networkingConfig("backend")
	if err != nil || !reflect.DeepEqual(nc.EndpointsConfig["backend"].Aliases, []string{"web"}) {
		t.Errorf("--network-alias on backend: %+v %v", nc, err)
	}
}

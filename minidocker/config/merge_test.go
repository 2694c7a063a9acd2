package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestMergeEveryKey: for every daemon.json key, a value given on the
// command line wins over the file's, and a flag left unset keeps the
// file's value (flags win only when they are given).
func TestMergeEveryKey(t *testing.T) {
	off := false
	file := Config{Hosts: []string{"unix:///file.sock"}, RegistryMirrors: []string{"https://file"},
		InsecureRegistries: []string{"file:5000"}, IPTables: &off}
	flags := Config{Hosts: []string{"unix:///flag.sock"}, RegistryMirrors: []string{"https://flag"},
		InsecureRegistries: []string{"flag:5000"}}
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		if ct.Field(i).Type.Kind() == reflect.String {
			reflect.ValueOf(&file).Elem().Field(i).SetString("file-" + ct.Field(i).Name)
			reflect.ValueOf(&flags).Elem().Field(i).SetString("flag-" + ct.Field(i).Name)
		}
	}
	got := Default().Merge(file).Merge(flags)
	kept := Default().Merge(file).Merge(Config{})
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		if key == "-" || f.Type.Kind() == reflect.Ptr {
			continue
		}
		if g, w := reflect.ValueOf(got).Field(i).Interface(), reflect.ValueOf(flags).Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("key %q: flag given, merged = %v, want the flag's %v", key, g, w)
		}
		if g, w := reflect.ValueOf(kept).Field(i).Interface(), reflect.ValueOf(file).Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("key %q: no flag, merged = %v, want the file's %v", key, g, w)
		}
	}
	if kept.IPTablesEnabled() {
		t.Errorf(`"iptables": false in the file is lost when the flag is not given`)
	}
	on := true
	if !Default().Merge(file).Merge(Config{IPTables: &on}).IPTablesEnabled() {
		t.Errorf("--iptables=true does not win over the file's false")
	}
	if !Default().Merge(Config{RemoveNetworkOnExit: true}).Merge(Config{}).RemoveNetworkOnExit {
		t.Errorf("RemoveNetworkOnExit is lost by a later merge")
	}
}

// TestParseStrict: an empty file means the defaults; data after the JSON
// object and unknown keys are errors, never silently ignored.
func TestParseStrict(t *testing.T) {
	if c, err := Parse("d.json", []byte(" \n")); err != nil || !reflect.DeepEqual(c, Config{}) {
		t.Errorf("empty file: %+v, %v; want the zero Config (defaults)", c, err)
	}
	for js, want := range map[string]string{
		`{"data-root":"/a"} {"data-root":"/b"}`: "unexpected data after the JSON object",
		`{"bridge":"br0","Bridge2":"x"}`:        `unknown key "Bridge2"`,
		`{"iptables":"yes"}`:                    `key "iptables": expected bool, got a JSON string`,
	} {
		t.Run(js, func(t *testing.T) {
			_, err := Parse("d.json", []byte(js))
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "invalid configuration file d.json: ") {
				t.Errorf("Parse(%s) = %v, want an error naming the file and %q", js, err, want)
			}
		})
	}
}

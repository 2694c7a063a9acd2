package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReadsEveryKey(t *testing.T) {
	c, err := Parse("d.json", []byte(`{"data-root":"/d","registry-mirrors":["https://m.example"],
		"insecure-registries":["reg.test:5000","10.0.0.0/8"],"bip":"10.9.0.1/24","iptables":false,
		"live-restore":true}`))
	require.NoError(t, err)
	assert.Equal(t, "/d", c.DataRoot)
	assert.Equal(t, []string{"https://m.example"}, c.RegistryMirrors)
	assert.Equal(t, []string{"reg.test:5000", "10.0.0.0/8"}, c.InsecureRegistries)
	assert.False(t, Default().Merge(c).IPTablesEnabled())
	assert.True(t, Default().Merge(c).LiveRestore)
	assert.False(t, Default().LiveRestore, "live-restore is off by default, as in dockerd")
	assert.Equal(t, "/run/minidocker", Default().Merge(c).ExecRoot, "unset keys keep their default")
}

func TestParseNamesFileAndKey(t *testing.T) {
	cases := map[string]struct{ json, want string }{
		"unknown key": {`{"data-rot":"/x"}`, `unknown key "data-rot"`},
		"wrong type":  {`{"registry-mirrors":"https://m"}`, `key "registry-mirrors"`},
		"bad json":    {`{"data-root":`, "bad JSON"},
		"bad level":   {`{"log-level":"loud"}`, `key "log-level"`},
		"bad host":    {`{"hosts":["tcp://0.0.0.0:2375"]}`, `key "hosts"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("/etc/minidocker/daemon.json", []byte(tc.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "/etc/minidocker/daemon.json")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestMergeFlagsWin(t *testing.T) {
	file := Config{DataRoot: "/file", Hosts: []string{"unix:///file.sock"}}
	flags := Config{DataRoot: "/flag"}
	got := Default().Merge(file).Merge(flags)
	assert.Equal(t, "/flag", got.DataRoot)
	assert.Equal(t, []string{"unix:///file.sock"}, got.Hosts)
}

// Keys match as encoding/json matches them (case-insensitively), and the
// first unknown key in the file is the one named.
func TestParseKeyMatching(t *testing.T) {
	c, err := Parse("d.json", []byte(`{"Bridge":"br1","DATA-ROOT":"/d"}`))
	require.NoError(t, err)
	assert.Equal(t, "br1", c.Bridge)
	assert.Equal(t, "/d", c.DataRoot)

	_, err = Parse("d.json", []byte(`{"bridge":"br1","zeta":1,"alpha":2}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown key "zeta"`)
}

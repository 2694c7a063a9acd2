package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// DefaultFile is where the daemon looks for its JSON configuration.
const DefaultFile = "/etc/minidocker/daemon.json"

// DefaultHost is the socket the daemon listens on and the client dials.
const DefaultHost = "unix:///var/run/minidocker.sock"

// Config holds every daemon setting. Every path and name is a setting so
// that tests can run isolated daemons side by side.
type Config struct {
	DataRoot           string   `json:"data-root"`
	ExecRoot           string   `json:"exec-root"`
	Hosts              []string `json:"hosts"`
	Pidfile            string   `json:"pidfile"`
	LogLevel           string   `json:"log-level"`
	RegistryMirrors    []string `json:"registry-mirrors"`
	InsecureRegistries []string `json:"insecure-registries"`
	Bridge             string   `json:"bridge"`
	Bip                string   `json:"bip"`
	IPTables           *bool    `json:"iptables"`
	IPTablesChain      string   `json:"iptables-chain"`
	CgroupParent       string   `json:"cgroup-parent"`
	// LiveRestore keeps the containers running when the daemon stops
	// (dockerd's live-restore); without it SIGTERM stops them first.
	LiveRestore bool `json:"live-restore"`
	// UsernsRemap is dockerd's userns-remap: "" (containers' root is the
	// host's root), "default" (the user dockremap, made if missing), or
	// "user", "user:group", "uid:gid" whose /etc/subuid and /etc/subgid
	// ranges the containers' ids map to.
	UsernsRemap string `json:"userns-remap"`

	// RemoveNetworkOnExit makes the daemon delete its bridges and iptables
	// chains when it stops, as if it had never run. Docker keeps them (and
	// so do we by default); isolated test daemons must not.
	RemoveNetworkOnExit bool `json:"-"`

	// CertsDir is the per-registry trust directory, certs.d beside the
	// configuration file (/etc/minidocker/certs.d, as Docker's
	// /etc/docker/certs.d sits beside /etc/docker/daemon.json). Like
	// Docker's, it is a place, not a daemon.json key.
	CertsDir string `json:"-"`
}

// Default returns the settings of a daemon started with no flags and no file.
// The bridge subnet stays clear of Docker's 172.17.0.0/16 and podman's
// 10.88.0.0/16 so a course VM can run all three side by side.
func Default() Config {
	on := true
	return Config{
		DataRoot:      "/var/lib/minidocker",
		ExecRoot:      "/run/minidocker",
		Hosts:         []string{DefaultHost},
		Pidfile:       "/var/run/minidocker.pid",
		LogLevel:      "info",
		Bridge:        "minidocker0",
		Bip:           "10.66.0.1/16",
		IPTables:      &on,
		IPTablesChain: "MINIDOCKER",
		CgroupParent:  "minidocker",
	}
}

// IPTablesEnabled reports whether the daemon manages iptables rules.
func (c Config) IPTablesEnabled() bool { return c.IPTables == nil || *c.IPTables }

// Load reads a daemon.json. A missing file is not an error when it is the
// default path (the daemon runs with defaults); any other problem is.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("unable to configure the daemon from file %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes daemon.json bytes strictly and names the file and the
// offending key in every error.
func Parse(path string, data []byte) (Config, error) {
	// exercise:begin 02-daemon-json
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	if err := checkKeys(data); err != nil {
		return Config{}, fmt.Errorf("invalid configuration file %s: %s", path, describeJSONError(err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("invalid configuration file %s: %s", path, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("invalid configuration file %s: unexpected data after the JSON object", path)
	}
	if err := c.validate(); err != nil {
		return Config{}, fmt.Errorf("invalid configuration file %s: %w", path, err)
	}
	return c, nil
	// exercise:end 02-daemon-json
}

// describeJSONError turns encoding/json's messages into ones that name the key.
func describeJSONError(err error) string {
	// exercise:begin 02-daemon-json
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var keyErr *unknownKeyError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("key %q: expected %s, got a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("bad JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "bad JSON: the file ends in the middle of a value"
	case errors.As(err, &keyErr):
		return keyErr.Error()
	}
	return err.Error()
	// exercise:end 02-daemon-json
}

// unknownKeyError is a daemon.json key that no setting takes. encoding/json
// reports one only as text ("json: unknown field ..."), so checkKeys finds
// it first and gives it a type the message can be built from.
type unknownKeyError struct{ key string }

func (e *unknownKeyError) Error() string { return fmt.Sprintf("unknown key %q", e.key) }

// configKeys are the daemon.json keys: the json tags of Config's fields,
// read on first use (only the daemon needs them, every process links them).
var configKeys = sync.OnceValue(func() []string {
	var keys []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
})

// checkKeys returns an *unknownKeyError for the first top-level key of data
// that no setting takes, as dockerd refuses unknown directives before it
// looks at the values. Keys match case-insensitively, as encoding/json
// matches them. Data that is not a JSON object is left to the decoder,
// which says what is wrong with it.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return nil
		}
		if !slices.ContainsFunc(configKeys(), func(k string) bool { return strings.EqualFold(k, key) }) {
			return &unknownKeyError{key: key}
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil
		}
	}
	return nil
}

var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "fatal": true}

func (c Config) validate() error {
	if c.LogLevel != "" && !logLevels[c.LogLevel] {
		return fmt.Errorf("key \"log-level\": unknown level %q (use debug, info, warn, error or fatal)", c.LogLevel)
	}
	for _, h := range c.Hosts {
		if _, err := SocketPath(h); err != nil {
			return fmt.Errorf("key \"hosts\": %w", err)
		}
	}
	return nil
}

// Merge lays the settings given in over onto c: every non-zero field of over
// wins. The daemon merges defaults ← file ← command-line flags.
func (c Config) Merge(over Config) Config {
	// exercise:begin 02-config-merge
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.DataRoot, over.DataRoot)
	set(&c.ExecRoot, over.ExecRoot)
	set(&c.Pidfile, over.Pidfile)
	set(&c.LogLevel, over.LogLevel)
	set(&c.Bridge, over.Bridge)
	set(&c.Bip, over.Bip)
	set(&c.IPTablesChain, over.IPTablesChain)
	set(&c.CgroupParent, over.CgroupParent)
	set(&c.UsernsRemap, over.UsernsRemap)
	if len(over.Hosts) > 0 {
		c.Hosts = over.Hosts
	}
	if over.RegistryMirrors != nil {
		c.RegistryMirrors = over.RegistryMirrors
	}
	if over.InsecureRegistries != nil {
		c.InsecureRegistries = over.InsecureRegistries
	}
	c.RemoveNetworkOnExit = c.RemoveNetworkOnExit || over.RemoveNetworkOnExit
	c.LiveRestore = c.LiveRestore || over.LiveRestore // the flag can only turn it on, as dockerd's
	if over.IPTables != nil {
		c.IPTables = over.IPTables
	}
	return c
	// exercise:end 02-config-merge
}

// SocketPath extracts the file path from a unix:// host address, the only
// transport minidocker serves.
func SocketPath(host string) (string, error) {
	path, ok := strings.CutPrefix(host, "unix://")
	if !ok || path == "" {
		return "", fmt.Errorf("unsupported host %q: minidocker listens on unix://PATH only", host)
	}
	return path, nil
}

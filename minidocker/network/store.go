package network

import (
	"encoding/json"
	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"os"
	"path/filepath"
)

// writeJSON stores v at path atomically: a temp file in the same directory,
// then rename. A crash of the daemon leaves either the old or the new
// file. durable adds an fsync, so that the file also survives a power
// loss: a network's record must; an endpoint's need not, since what it
// describes (netns, veth, rules, ports) does not survive a reboot either,
// and an fsync is a millisecond or more on every container start.
func writeJSON(path string, v any, durable bool) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), atomicfile.Options{Sync: durable})
}

// readJSONDir decodes every *.json file of dir with fn; half-written temp
// files (".tmp-*") from a crash are removed.
func readJSONDir(dir string, fn func(name string, data []byte) error) error {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if len(name) > 5 && name[:5] == ".tmp-" {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if filepath.Ext(name) != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := fn(name, data); err != nil {
			return err
		}
	}
	return nil
}

package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// cacheIndex is the classic builder's cache: key → image ID, where the key
// hashes the parent image ID, the step's history line (which for COPY/ADD
// carries the content hash of the sources, and for RUN the build args in
// effect) and the resulting config. It lives in one small JSON file; a
// missing or damaged file is an empty cache. Entries whose image was removed
// are ignored (the caller checks the image still exists).
type cacheIndex struct {
	file string
	mem  map[string]string
}

var cacheMu sync.Mutex // serialises read-modify-write of every index file in this process

func openCache(file string) *cacheIndex {
	return &cacheIndex{file: file, mem: map[string]string{}}
}

func cacheKeyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *cacheIndex) load() map[string]string {
	m := map[string]string{}
	if c.file == "" {
		return m
	}
	if data, err := os.ReadFile(c.file); err == nil {
		var f struct {
			Entries map[string]string `json:"entries"`
		}
		if json.Unmarshal(data, &f) == nil && f.Entries != nil {
			m = f.Entries
		}
	}
	return m
}

func (c *cacheIndex) get(key string) (string, bool) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if id, ok := c.mem[key]; ok {
		return id, true
	}
	id, ok := c.load()[key]
	return id, ok
}

// put records key → id and rewrites the file atomically (temp + rename).
func (c *cacheIndex) put(key, id string) error {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	c.mem[key] = id
	if c.file == "" {
		return nil
	}
	m := c.load()
	m[key] = id
	data, err := json.Marshal(struct {
		Entries map[string]string `json:"entries"`
	}{m})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.file), ".cache-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), c.file)
}

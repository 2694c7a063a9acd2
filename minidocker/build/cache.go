package build

import (
	"bufio"
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
// effect) and the resulting config. It is a JSON-lines file, one
// {"k":…,"id":…} per committed step, appended with O_APPEND (one small
// write per line, so concurrent builds do not interleave) and read once
// when a build starts; the last line for a key wins. Lines that do not
// parse are skipped, so a torn write costs one cache entry, never the file.
// Entries whose image was removed are ignored (the caller checks the image
// still exists); the file is compacted to the live keys when it grows
// past compactAt bytes.
type cacheIndex struct {
	file string
	mem  map[string]string
}

const compactAt = 8 << 20

var cacheMu sync.Mutex // serialises compaction against appends in this process

type cacheLine struct {
	K  string `json:"k"`
	ID string `json:"id"`
}

func openCache(file string) *cacheIndex {
	c := &cacheIndex{file: file, mem: map[string]string{}}
	if file == "" {
		return c
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	f, err := os.Open(file)
	if err != nil {
		return c
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l cacheLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.K != "" {
			c.mem[l.K] = l.ID
		}
	}
	return c
}

// cacheKeyOf hashes parts into one key, each part kept apart from the next.
func cacheKeyOf(parts ...string) string {
	// exercise:begin 04-cache-key
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
	// exercise:end 04-cache-key
}

func (c *cacheIndex) get(key string) (string, bool) {
	id, ok := c.mem[key]
	return id, ok
}

// put records key → id in memory and appends it to the file.
func (c *cacheIndex) put(key, id string) error {
	c.mem[key] = id
	if c.file == "" {
		return nil
	}
	line, err := json.Marshal(cacheLine{K: key, ID: id})
	if err != nil {
		return err
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	f, err := os.OpenFile(c.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	fi, serr := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && serr == nil && fi.Size() > compactAt {
		err = c.compactLocked()
	}
	return err
}

// compactLocked rewrites the file with one line per key (temp + rename).
func (c *cacheIndex) compactLocked() error {
	all := openCacheNoLock(c.file)
	for k, v := range c.mem {
		all[k] = v
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.file), ".cache-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for k, v := range all {
		line, _ := json.Marshal(cacheLine{K: k, ID: v})
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
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

func openCacheNoLock(file string) map[string]string {
	m := map[string]string{}
	f, err := os.Open(file)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l cacheLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.K != "" {
			m[l.K] = l.ID
		}
	}
	return m
}

package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/minidocker/minidocker/minidocker/atomicfile"
	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// DriverName is the only driver there is.
const DriverName = "local"

// Volume is one volume's record.
type Volume struct {
	Name       string
	Mountpoint string // the directory containers see: <root>/<name>/_data
	CreatedAt  time.Time
	Labels     map[string]string `json:",omitempty"`
	// Anonymous volumes are made for one container (image VOLUME, -v /path,
	// a --mount without a source): `rm -v` and `volume prune` remove them.
	Anonymous bool `json:",omitempty"`
}

// Store is the set of volumes under one directory. It is safe for
// concurrent use.
type Store struct {
	root string
	mu   sync.Mutex
	vols map[string]*Volume
	// owner is who new volumes' _data belong to (OwnDataBy); nil: root.
	owner *[2]int
}

// validName is compiled on first use: every minidocker process (CLI, shim,
// container init) links this package, and only the daemon checks names.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })

// Open reads the volumes recorded under root, creating root if needed. A
// directory with data but no record (a volume an older minidocker made for
// `-v name:/path`) is adopted as a named volume; one without either (a
// create or remove that crashed half-way) is removed.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, err
	}
	s := &Store{root: root, vols: map[string]*Volume{}}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "volume.json"))
		if errors.Is(err, os.ErrNotExist) {
			if err := s.adopt(e.Name()); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		v := &Volume{}
		if err := json.Unmarshal(b, v); err != nil || v.Name != e.Name() {
			return nil, fmt.Errorf("volume %s: unreadable record: %v", e.Name(), err)
		}
		v.Mountpoint = s.dataDir(v.Name)
		s.vols[v.Name] = v
	}
	return s, nil
}

// adopt records a volume directory that has data but no record, or
// removes the directory when it has no data either.
func (s *Store) adopt(name string) error {
	fi, err := os.Stat(s.dataDir(name))
	if err != nil || !fi.IsDir() || !validName().MatchString(name) {
		return os.RemoveAll(filepath.Join(s.root, name))
	}
	v := &Volume{Name: name, Mountpoint: s.dataDir(name), CreatedAt: fi.ModTime().UTC().Truncate(time.Second)}
	if err := s.writeRecord(v); err != nil {
		return err
	}
	s.vols[name] = v
	return nil
}

func (s *Store) writeRecord(v *Volume) error {
	b, _ := json.Marshal(v)
	return atomicfile.Write(filepath.Join(s.root, v.Name, "volume.json"), b, atomicfile.Options{Perm: 0o600, Sync: true})
}

func (s *Store) dataDir(name string) string { return filepath.Join(s.root, name, "_data") }

// Create makes a volume, or returns the existing one of that name (docker's
// create is idempotent). An empty name makes an anonymous volume with a
// random 64-hex name. created tells whether the volume is new.
func (s *Store) Create(name string, labels map[string]string) (v *Volume, created bool, err error) {
	anonymous := name == ""
	if anonymous {
		name = stringid.GenerateRandomID()
	}
	if !validName().MatchString(name) {
		return nil, false, errdefs.Invalid("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[name]; ok {
		return clone(v), false, nil
	}
	v = &Volume{Name: name, Mountpoint: s.dataDir(name), CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: labels, Anonymous: anonymous}
	if err := s.makeDataDir(v.Mountpoint); err != nil {
		os.RemoveAll(filepath.Join(s.root, name))
		return nil, false, err
	}
	if err := s.writeRecord(v); err != nil {
		os.RemoveAll(filepath.Join(s.root, name))
		return nil, false, err
	}
	s.vols[name] = v
	return clone(v), true, nil
}

// OwnDataBy makes the _data of the volumes created from now on owned by
// uid:gid: a daemon with --userns-remap gives them to the containers'
// remapped root, whose files they will hold. (dockerd keeps a whole
// volume tree per remapped range; owning _data is what a container needs.)
func (s *Store) OwnDataBy(uid, gid int) {
	s.mu.Lock()
	s.owner = &[2]int{uid, gid}
	s.mu.Unlock()
}

// makeDataDir makes a new volume's _data, owned as OwnDataBy said.
// Called with mu held.
func (s *Store) makeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if s.owner != nil {
		return os.Chown(dir, s.owner[0], s.owner[1])
	}
	return nil
}

func clone(v *Volume) *Volume {
	c := *v
	return &c
}

// Get returns the volume called name.
func (s *Store) Get(name string) (*Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return nil, errdefs.NotFound("get %s: no such volume", name)
	}
	return clone(v), nil
}

// List returns every volume, by name.
func (s *Store) List() []*Volume {
	s.mu.Lock()
	out := make([]*Volume, 0, len(s.vols))
	for _, v := range s.vols {
		out = append(out, clone(v))
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Remove deletes a volume and its data, unless inUse (asked under the
// store's lock, so no Create of the same name interleaves) names users.
func (s *Store) Remove(name string, inUse func(name string) []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		return errdefs.NotFound("get %s: no such volume", name)
	}
	if users := inUse(name); len(users) > 0 {
		return errdefs.Conflict("remove %s: volume is in use - %v", name, users)
	}
	// the record goes first: a crash after it leaves a directory Open removes
	dir := filepath.Join(s.root, name)
	if err := os.Remove(filepath.Join(dir, "volume.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	delete(s.vols, name)
	return os.RemoveAll(dir)
}

// Size is the bytes of the files in a volume (for `system df -v`).
func (s *Store) Size(name string) int64 {
	var n int64
	filepath.WalkDir(s.dataDir(name), func(_ string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

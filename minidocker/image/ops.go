package image

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/minidocker/minidocker/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/stringid"
)

// Image is what Pull, Load and friends hand back about a stored image.
type Image struct {
	ID     string       // sha256:<hex> of the config
	Config *ImageConfig // parsed config
}

func (s *Store) tagLocked(ref string, id string) error {
	s.repos[ref] = id
	if err := s.saveReposLocked(); err != nil {
		return err
	}
	s.setLastTagTimeLocked(id)
	return nil
}

// Tag makes dst (repository[:tag]) point at the image src names, like
// `docker tag`. The tag moves if it pointed at another image.
func (s *Store) Tag(src, dst string) error {
	nt, err := ParseRepositoryTag(dst)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(src)
	if err != nil {
		return err
	}
	return s.tagLocked(nt.String(), id)
}

// refsLocked returns the stored references to id, sorted, split into tags and digests.
func (s *Store) refsLocked(id string) (tags, digests []string) {
	for ref, rid := range s.repos {
		if rid != id {
			continue
		}
		if strings.Contains(ref, "@") {
			digests = append(digests, ref)
		} else {
			tags = append(tags, ref)
		}
	}
	sort.Strings(tags)
	sort.Strings(digests)
	return tags, digests
}

func familiarAll(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, familiar(r))
	}
	return out
}

// childrenLocked lists images whose parent is id.
func (s *Store) childrenLocked(id string) []string {
	var kids []string
	for _, other := range s.imageIDsLocked() {
		if r, err := s.imageRecord(other); err == nil && r.Parent == id {
			kids = append(kids, other)
		}
	}
	return kids
}

// ImageUse is one container that uses an image, for Remove's checks.
type ImageUse struct {
	ContainerID string
	Running     bool
}

// ImagesInUse maps an image ID (sha256:...) to a container using it (a
// running one when there is one). It is data, not a callback, on purpose:
// Remove holds the store's lock while it consults it, and a callback into
// the container store from there is how `ps` and `rmi` once deadlocked
// (ps holds a container and reads the store; rmi held the store and waited
// for every container). The caller builds it before calling Remove.
type ImagesInUse map[string]ImageUse

// RemoveOptions are the flags of `docker rmi`.
type RemoveOptions struct {
	Force   bool
	NoPrune bool        // keep untagged parent images
	InUse   ImagesInUse // nil: no containers
}

// Remove is `docker rmi`: a name untags (and deletes the image when that was
// its last reference), an ID deletes the image (untagging all its names; if
// they span several repositories only with Force). Deleting also removes
// untagged parents and layers no other image uses. The result lists
// {Untagged} and {Deleted} items in docker's order.
//
// It works in three steps: under the store's lock it decides (the conflicts
// docker refuses), acts on the records (untags, deletes image files) and
// notes the layers the deleted images had; then, without that lock, gc
// removes the layers nothing uses any more, each under its own layer lock
// (the store's lock is a leaf: see the lock order in package daemon's
// doc), and the removed ones are reported as docker reports them.
func (s *Store) Remove(ref string, opts RemoveOptions) ([]image.DeleteResponse, error) {
	out, layers, err := s.removeImages(ref, opts)
	if err != nil || layers == nil {
		return out, err
	}
	removed, _ := s.gc(false)
	return append(out, layers.deleted(removed)...), nil
}

// removeImages is Remove's part under the store's lock: it untags ref and,
// when that leaves the image unreferenced (or ref is an ID), deletes the
// image and its untagged parents. layers is nil when no image was deleted.
func (s *Store) removeImages(ref string, opts RemoveOptions) ([]image.DeleteResponse, removedLayers, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(ref)
	if err != nil {
		return nil, nil, err
	}
	var out []image.DeleteResponse
	if isIDReference(ref, id) {
		out, err = s.untagAllLocked(id, opts)
	} else {
		var stillUsed bool
		out, stillUsed, err = s.untagLocked(ref, id, opts)
		if err != nil || stillUsed {
			return out, nil, err
		}
	}
	if err != nil {
		return nil, nil, err
	}
	deleted, layers, err := s.deleteImageChainLocked(id, opts)
	out = append(out, deleted...)
	if err != nil {
		return out, nil, err
	}
	return out, layers, nil
}

// isIDReference tells whether ref named the image id by its ID (full, or a
// prefix of its hex) rather than by a name.
func isIDReference(ref, id string) bool {
	if fullIDRe().MatchString(ref) {
		return true
	}
	return shortIDRe().MatchString(ref) && strings.HasPrefix(id, "sha256:"+strings.TrimPrefix(ref, "sha256:"))
}

// untagLocked is `docker rmi NAME`: it removes the name (refusing, without
// Force, when it is the image's last name and a container uses it) and,
// once the repository has no tag of the image left, its name@digest
// references too. stillUsed tells that the image must stay: other tags,
// a container, or child images still need it.
func (s *Store) untagLocked(ref, id string, opts RemoveOptions) (out []image.DeleteResponse, stillUsed bool, err error) {
	named, _ := parseNamed(ref)
	full := reference.TagNameOnly(named).String()
	tags, digests := s.refsLocked(id)
	user := opts.InUse[id].ContainerID
	if len(tags)+len(digests) == 1 && !opts.Force && user != "" {
		return nil, false, errdefs.Conflict("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", ref, stringid.TruncateID(user), stringid.TruncateID(id))
	}
	delete(s.repos, full)
	if err := s.saveReposLocked(); err != nil {
		return nil, false, err
	}
	out = append(out, image.DeleteResponse{Untagged: familiar(full)})
	remaining := s.dropRepoDigestsLocked(named.Name(), id, full, digests, &out)
	stillUsed = remaining > 0 || user != "" || len(s.childrenLocked(id)) > 0
	return out, stillUsed, nil
}

// dropRepoDigestsLocked is what docker does when the last tag of a
// repository goes: the repository's name@digest references of the image go
// too (all of them when the image has no tag left at all). It returns how
// many tags of the image remain, in any repository.
func (s *Store) dropRepoDigestsLocked(repoName, id, removed string, digests []string, out *[]image.DeleteResponse) (remaining int) {
	sameRepoTags := 0
	for r, rid := range s.repos {
		if rid != id || strings.Contains(r, "@") {
			continue
		}
		remaining++
		if n, err := reference.ParseNormalizedNamed(r); err == nil && n.Name() == repoName {
			sameRepoTags++
		}
	}
	if sameRepoTags > 0 {
		return remaining
	}
	for _, d := range digests {
		if d == removed {
			continue // the reference being removed, reported already
		}
		if n, err := reference.ParseNormalizedNamed(d); err == nil && (remaining == 0 || n.Name() == repoName) {
			delete(s.repos, d)
			*out = append(*out, image.DeleteResponse{Untagged: familiar(d)})
		}
	}
	s.saveReposLocked()
	return remaining
}

// untagAllLocked is the first half of `docker rmi ID`: it refuses what
// docker refuses, then removes every name of the image.
func (s *Store) untagAllLocked(id string, opts RemoveOptions) ([]image.DeleteResponse, error) {
	tags, digests := s.refsLocked(id)
	all := append(append([]string{}, tags...), digests...)
	if err := s.checkDeleteByIDLocked(id, all, opts); err != nil {
		return nil, err
	}
	var out []image.DeleteResponse
	for _, r := range all {
		delete(s.repos, r)
		out = append(out, image.DeleteResponse{Untagged: familiar(r)})
	}
	if err := s.saveReposLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkDeleteByIDLocked returns docker's conflict for deleting image id by
// ID, or nil: names in several repositories and a stopped container's
// image need Force; a running container's image and a parent of other
// images cannot be deleted at all.
func (s *Store) checkDeleteByIDLocked(id string, names []string, opts RemoveOptions) error {
	short := stringid.TruncateID(id)
	repos := map[string]bool{}
	for _, r := range names {
		if n, err := reference.ParseNormalizedNamed(r); err == nil {
			repos[n.Name()] = true
		}
	}
	if len(repos) > 1 && !opts.Force {
		return errdefs.Conflict("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", short)
	}
	if use := opts.InUse[id]; use.ContainerID != "" {
		if use.Running {
			return errdefs.Conflict("conflict: unable to delete %s (cannot be forced) - image is being used by running container %s", short, stringid.TruncateID(use.ContainerID))
		}
		if !opts.Force {
			return errdefs.Conflict("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s", short, stringid.TruncateID(use.ContainerID))
		}
	}
	if len(s.childrenLocked(id)) > 0 {
		return errdefs.Conflict("conflict: unable to delete %s (cannot be forced) - image has dependent child images", short)
	}
	return nil
}

// deleteImageChainLocked deletes image id, then its parents while they are
// untagged, childless and unused (unless NoPrune), and notes the layers
// of every deleted image for Remove's report.
func (s *Store) deleteImageChainLocked(id string, opts RemoveOptions) ([]image.DeleteResponse, removedLayers, error) {
	var out []image.DeleteResponse
	layers := removedLayers{}
	for cur := id; cur != ""; {
		rec, _ := s.imageRecord(cur)
		if cfg, err := s.configLocked(cur); err == nil {
			layers.note(cfg.RootFS.DiffIDs)
		}
		if err := os.Remove(s.imagePath(cur)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return out, nil, err
		}
		os.Remove(s.blobPath(cur))
		out = append(out, image.DeleteResponse{Deleted: cur})
		if opts.NoPrune || rec == nil || !s.prunableParentLocked(rec.Parent, opts) {
			break
		}
		cur = rec.Parent
	}
	return out, layers, nil
}

// prunableParentLocked tells whether rmi may delete parent after its child:
// a local image with no name, no other child and no container.
func (s *Store) prunableParentLocked(parent string, opts RemoveOptions) bool {
	if parent == "" || !s.hasImageLocked(parent) {
		return false
	}
	if t, d := s.refsLocked(parent); len(t)+len(d) > 0 || len(s.childrenLocked(parent)) > 0 {
		return false
	}
	return opts.InUse[parent].ContainerID == ""
}

// removedLayers maps the diffID of each layer of the deleted images to its
// chain ID and its position in the image, so that the layers gc removes
// are reported as docker does: by chain ID, top layer first.
type removedLayers map[string]layerPosition

type layerPosition struct {
	chainID string
	index   int
}

// note records an image's layers; a layer shared by two deleted images
// keeps the position of the first.
func (l removedLayers) note(diffIDs []digest.Digest) {
	for i, c := range chainIDs(diffIDs) {
		if _, ok := l[diffIDs[i].String()]; !ok {
			l[diffIDs[i].String()] = layerPosition{c, i}
		}
	}
}

// deleted is the {Deleted: chainID} items for the layers gc removed, of
// those the deleted images had, top layer first.
func (l removedLayers) deleted(removed []string) []image.DeleteResponse {
	sort.Slice(removed, func(i, j int) bool { return l[removed[i]].index > l[removed[j]].index })
	var out []image.DeleteResponse
	for _, d := range removed {
		if p, ok := l[d]; ok {
			out = append(out, image.DeleteResponse{Deleted: p.chainID})
		}
	}
	return out
}

// chainIDs computes the OCI chain IDs of a layer stack.
func chainIDs(diffIDs []digest.Digest) []string {
	out := make([]string, len(diffIDs))
	var prev digest.Digest
	for i, d := range diffIDs {
		if i == 0 {
			prev = d
		} else {
			prev = digest.FromString(prev.String() + " " + d.String())
		}
		out[i] = prev.String()
	}
	return out
}

func (s *Store) imageSizeLocked(cfg *ImageConfig) int64 {
	var n int64
	seen := map[string]bool{}
	for _, d := range cfg.RootFS.DiffIDs {
		if seen[d.String()] {
			continue
		}
		seen[d.String()] = true
		if r, err := s.layer(d.String()); err == nil {
			n += r.Size
		}
	}
	return n
}

// List is what `docker images` needs: one Summary per image with its
// familiar RepoTags/RepoDigests. Without all, intermediate images (untagged
// with children, left by builds) are hidden; untagged leaves are the
// dangling "<none>" rows and are shown.
func (s *Store) List(all bool) ([]image.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []image.Summary
	for _, id := range s.imageIDsLocked() {
		cfg, err := s.configLocked(id)
		if err != nil {
			continue
		}
		tags, digests := s.refsLocked(id)
		if !all && len(tags)+len(digests) == 0 && len(s.childrenLocked(id)) > 0 {
			continue
		}
		rec, _ := s.imageRecord(id)
		sum := image.Summary{
			ID:          id,
			RepoTags:    familiarAll(tags),
			RepoDigests: familiarAll(digests),
			Size:        s.imageSizeLocked(cfg),
			SharedSize:  -1,
			Containers:  -1,
			Labels:      cfg.Config.Labels,
		}
		if rec != nil {
			sum.ParentID = rec.Parent
		}
		if cfg.Created != nil {
			sum.Created = cfg.Created.Unix()
		}
		out = append(out, sum)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// InspectData is docker's `image inspect` JSON: the Engine API's
// InspectResponse plus the fields API ≤ 1.43 still shows (Parent,
// Container, ContainerConfig, DockerVersion, VirtualSize).
type InspectData struct {
	image.InspectResponse
	Parent          string
	Container       string            `json:",omitempty"`
	ContainerConfig *container.Config `json:",omitempty"`
	DockerVersion   string
	VirtualSize     int64 `json:",omitempty"`
}

// Inspect returns what `docker image inspect` shows.
func (s *Store) Inspect(ref string) (*InspectData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.configLocked(id)
	if err != nil {
		return nil, err
	}
	rec, _ := s.imageRecord(id)
	tags, digests := s.refsLocked(id)
	c := cfg.Config
	d := &InspectData{
		InspectResponse: image.InspectResponse{
			ID:           id,
			RepoTags:     familiarAll(tags),
			RepoDigests:  familiarAll(digests),
			Comment:      cfg.Comment,
			Author:       cfg.Author,
			Config:       &c,
			Architecture: cfg.Architecture,
			Variant:      cfg.Variant,
			Os:           cfg.OS,
			OsVersion:    cfg.OSVersion,
			Size:         s.imageSizeLocked(cfg),
			RootFS:       image.RootFS{Type: "layers"},
		},
		Container:       cfg.Container,
		ContainerConfig: cfg.ContainerConfig,
		DockerVersion:   cfg.DockerVersion,
	}
	d.VirtualSize = d.Size
	if cfg.Created != nil {
		d.Created = cfg.Created.UTC().Format(time.RFC3339Nano)
	}
	for _, l := range cfg.RootFS.DiffIDs {
		d.RootFS.Layers = append(d.RootFS.Layers, l.String())
	}
	if rec != nil {
		d.Parent = rec.Parent
		if !rec.LastTagTime.IsZero() {
			d.Metadata.LastTagTime = rec.LastTagTime
		}
	}
	return d, nil
}

// History is `docker history`: newest first. The top entry carries the
// image ID and each further entry its parent's, while local parents are
// known (images built here); the rest are "<missing>", as in docker.
func (s *Store) History(ref string) ([]image.HistoryResponseItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.configLocked(id)
	if err != nil {
		return nil, err
	}
	var items []image.HistoryResponseItem
	layer := 0
	for _, h := range cfg.History {
		it := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			it.Created = h.Created.Unix()
		}
		if !h.EmptyLayer {
			if layer < len(cfg.RootFS.DiffIDs) {
				if r, err := s.layer(cfg.RootFS.DiffIDs[layer].String()); err == nil {
					it.Size = r.Size
				}
			}
			layer++
		}
		items = append([]image.HistoryResponseItem{it}, items...)
	}
	cur := id
	for i := range items {
		if cur == "" {
			break
		}
		items[i].ID = cur
		t, _ := s.refsLocked(cur)
		items[i].Tags = familiarAll(t)
		rec, err := s.imageRecord(cur)
		if err != nil {
			break
		}
		cur = rec.Parent
	}
	return items, nil
}

var _ = dockerspec.DockerOCIImage{}
var _ = fmt.Sprintf

// Parent returns the local parent of an image ("" if none): set by
// CommitLayer, which is how the builder chains its steps.
func (s *Store) Parent(ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(ref)
	if err != nil {
		return "", err
	}
	rec, err := s.imageRecord(id)
	if err != nil {
		return "", err
	}
	return rec.Parent, nil
}

// Children lists the images whose parent is ref; the classic builder's
// cache looks for a child of the current image made by the same instruction.
func (s *Store) Children(ref string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	return s.childrenLocked(id), nil
}

// Exists reports whether ref names a local image.
func (s *Store) Exists(ref string) bool {
	_, err := s.Resolve(ref)
	return err == nil
}

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minidocker/minidocker/minidocker/archive"
	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/minidocker/minidocker/minidocker/stringid"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestItem is one entry of a docker-archive's manifest.json.
type manifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

type saveImage struct {
	id   string
	tags []string // normalised
	cfg  *ImageConfig
	raw  []byte
}

// Save writes the images refs name as one tar that both `docker load` of any
// version and OCI tools read: docker's manifest.json and repositories, plus
// the OCI image layout (oci-layout, index.json, blobs/sha256/…) that docker ≥ 25
// writes. Configs and uncompressed layer tars live once under blobs/sha256/
// and manifest.json points there. A repository name without a tag saves
// every tag of that repository, like docker. Timestamps in the tar are zero,
// so saving the same images twice gives the same bytes.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string) error {
	imgs, err := s.saveImages(refs)
	if err != nil {
		return err
	}
	sw := newSaveWriter(w)
	if err := sw.begin(); err != nil {
		return err
	}
	for _, si := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sw.writeImage(s, si); err != nil {
			return err
		}
	}
	return sw.finish()
}

// saveImages resolves Save's refs, under the store's lock, into the images
// to write (each once, in the order first named) with their sorted tags.
func (s *Store) saveImages(refs []string) ([]*saveImage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var imgs []*saveImage
	byID := map[string]*saveImage{}
	for _, r := range refs {
		ids, err := s.saveRefLocked(r)
		if err != nil {
			return nil, err
		}
		for id, tags := range ids {
			si := byID[id]
			if si == nil {
				raw, err := s.readBlob(id)
				if err != nil {
					return nil, err
				}
				cfg, err := parseConfig(raw)
				if err != nil {
					return nil, err
				}
				si = &saveImage{id: id, cfg: cfg, raw: raw}
				byID[id] = si
				imgs = append(imgs, si)
			}
			for _, t := range tags {
				if !slices.Contains(si.tags, t) {
					si.tags = append(si.tags, t)
				}
			}
		}
	}
	for _, si := range imgs {
		sort.Strings(si.tags)
	}
	return imgs, nil
}

// saveRefLocked maps one of Save's refs to image IDs and the tags to save
// with each: a bare repository name is all its tags; a name:tag is that
// tag; an ID or name@digest is the image with no tag.
func (s *Store) saveRefLocked(r string) (map[string][]string, error) {
	ids := map[string][]string{} // id → tags
	named, nameErr := parseNamed(r)
	if nameErr == nil && reference.IsNameOnly(named) && !fullIDRe().MatchString(r) {
		for ref, id := range s.repos {
			if n, err := reference.ParseNormalizedNamed(ref); err == nil && n.Name() == named.Name() {
				if _, ok := n.(reference.Tagged); ok {
					ids[id] = append(ids[id], ref)
				}
			}
		}
	}
	if len(ids) > 0 {
		return ids, nil
	}
	id, err := s.resolveLocked(r)
	if err != nil {
		return nil, err
	}
	ids[id] = nil
	if nameErr == nil && !fullIDRe().MatchString(r) && !shortIDRe().MatchString(r) {
		if _, dig := named.(reference.Canonical); !dig {
			ids[id] = []string{reference.TagNameOnly(named).String()}
		}
	}
	return ids, nil
}

// saveWriter writes Save's tar: each blob once under blobs/sha256/, and
// the three indexes that name them (manifest.json for docker, index.json
// for OCI tools, repositories for docker < 1.10), written last.
type saveWriter struct {
	tw          *archive.Writer
	epoch       time.Time       // every timestamp: same images, same bytes
	written     map[string]bool // digests already in the tar
	manifest    []manifestItem
	index       ocispec.Index
	legacyRepos map[string]map[string]string // familiar name → tag → top layer
}

func newSaveWriter(w io.Writer) *saveWriter {
	sw := &saveWriter{tw: archive.NewWriter(w), epoch: time.Unix(0, 0), written: map[string]bool{},
		legacyRepos: map[string]map[string]string{}}
	sw.index.SchemaVersion = 2
	sw.index.MediaType = ocispec.MediaTypeImageIndex
	return sw
}

func (sw *saveWriter) writeFile(name string, data []byte) error {
	return sw.tw.AddFile(name, 0o644, sw.epoch, int64(len(data)), bytes.NewReader(data))
}

// writeBlob writes data as blobs/sha256/<hex of d> unless it is there already.
func (sw *saveWriter) writeBlob(d string, data []byte) error {
	if sw.written[d] {
		return nil
	}
	sw.written[d] = true
	return sw.writeFile("blobs/sha256/"+hexOf(d), data)
}

func (sw *saveWriter) begin() error {
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := sw.tw.AddDir(d, 0o755, sw.epoch); err != nil {
			return err
		}
	}
	return nil
}

// writeImage writes one image's config, layers and OCI manifest, and
// records it in the three indexes.
func (sw *saveWriter) writeImage(s *Store, si *saveImage) error {
	item := manifestItem{Config: "blobs/sha256/" + hexOf(si.id), RepoTags: []string{}}
	om := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.Digest(si.id), Size: int64(len(si.raw))}}
	om.SchemaVersion = 2
	if err := sw.writeBlob(si.id, si.raw); err != nil {
		return err
	}
	for _, l := range si.cfg.RootFS.DiffIDs {
		rec, err := s.layer(l.String())
		if err != nil {
			return fmt.Errorf("image %s: layer %s: %w", si.id, l, err)
		}
		name := "blobs/sha256/" + hexOf(rec.DiffID)
		if !sw.written[rec.DiffID] {
			if err := s.writeLayerTar(sw.tw, name, rec, sw.epoch); err != nil {
				return err
			}
			sw.written[rec.DiffID] = true
		}
		item.Layers = append(item.Layers, name)
		om.Layers = append(om.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: l, Size: rec.TarSize})
	}
	mb, _ := json.Marshal(om)
	md := digest.FromBytes(mb)
	if err := sw.writeBlob(md.String(), mb); err != nil {
		return err
	}
	sw.addTags(si, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb))}, &item)
	sw.manifest = append(sw.manifest, item)
	return nil
}

// addTags names the image's manifest in index.json (once per tag, with
// containerd's and OCI's name annotations; once bare when untagged), in
// manifest.json's RepoTags and in repositories.
func (sw *saveWriter) addTags(si *saveImage, desc ocispec.Descriptor, item *manifestItem) {
	if len(si.tags) == 0 {
		sw.index.Manifests = append(sw.index.Manifests, desc)
	}
	for _, t := range si.tags {
		d := desc
		n, _ := reference.ParseNormalizedNamed(t)
		tag := ""
		if nt, ok := n.(reference.Tagged); ok {
			tag = nt.Tag()
		}
		d.Annotations = map[string]string{"io.containerd.image.name": t, ocispec.AnnotationRefName: tag}
		sw.index.Manifests = append(sw.index.Manifests, d)
		item.RepoTags = append(item.RepoTags, familiar(t))
		fam := reference.FamiliarName(n)
		if sw.legacyRepos[fam] == nil {
			sw.legacyRepos[fam] = map[string]string{}
		}
		if k := len(si.cfg.RootFS.DiffIDs); k > 0 {
			sw.legacyRepos[fam][tag] = hexOf(si.cfg.RootFS.DiffIDs[k-1].String())
		}
	}
}

// finish writes the indexes and closes the tar.
func (sw *saveWriter) finish() error {
	ib, _ := json.Marshal(sw.index)
	mfb, _ := json.Marshal(sw.manifest)
	lb, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	rb, _ := json.Marshal(sw.legacyRepos)
	for _, f := range []struct {
		name string
		data []byte
	}{{"index.json", ib}, {"manifest.json", mfb}, {"oci-layout", lb}, {"repositories", rb}} {
		if err := sw.writeFile(f.name, f.data); err != nil {
			return err
		}
	}
	return sw.tw.Close()
}

// writeLayerTar writes a layer's uncompressed tar (what its diffID hashes).
func (s *Store) writeLayerTar(tw *archive.Writer, name string, rec *layerRecord, mtime time.Time) error {
	f, err := os.Open(s.blobPath(rec.Blob))
	if err != nil {
		return err
	}
	defer f.Close()
	plain, err := archive.DecompressStream(f)
	if err != nil {
		return err
	}
	defer plain.Close()
	if err := tw.AddFile(name, 0o644, mtime, rec.TarSize, plain); err != nil {
		return fmt.Errorf("layer %s: stored blob: %w", rec.DiffID, err)
	}
	return nil
}

// Load reads a `docker save` tar (the legacy layout of docker < 25, as in the
// fixture, or the combined layout of docker ≥ 25) or an OCI image layout tar
// and stores its images. It returns docker's lines: "Loaded image: NAME:TAG"
// per tag, "Loaded image ID: sha256:…" for untagged images. The input is
// spooled to the work area first and every layer is verified against the
// diffIDs of its config, so truncated, non-tar or tampered input stores no
// image and running Load again after a failure works.
func (s *Store) Load(ctx context.Context, r io.Reader, p Progress) ([]string, error) {
	work, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	root, err := os.OpenRoot(work)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := spool(ctx, r, root); err != nil {
		return nil, err
	}
	todo, err := readArchiveImages(root)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, li := range todo {
		more, err := s.loadImage(ctx, root, li, p)
		lines = append(lines, more...)
		if err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// loadImage is one image of a spooled archive, as read from its index.
type loadImage struct {
	config []byte
	layers []string // paths inside the spool
	blobs  []string // expected blob digests (OCI), "" for docker-archive
	tags   []string // normalised references
}

// readArchiveImages reads the images a spooled archive holds: from
// docker's manifest.json when there is one, else from the OCI index.json.
func readArchiveImages(root *os.Root) ([]loadImage, error) {
	if mb, err := root.ReadFile("manifest.json"); err == nil {
		return readDockerManifest(root, mb)
	}
	if ib, err := root.ReadFile("index.json"); err == nil {
		return readOCIIndex(root, ib)
	}
	return nil, errors.New("invalid archive: it has neither manifest.json (docker save) nor index.json (OCI layout)")
}

func readDockerManifest(root *os.Root, mb []byte) ([]loadImage, error) {
	var items []manifestItem
	if err := json.Unmarshal(mb, &items); err != nil {
		return nil, fmt.Errorf("invalid archive: manifest.json: %w", err)
	}
	var todo []loadImage
	for _, it := range items {
		cb, err := root.ReadFile(path.Clean(it.Config))
		if err != nil {
			return nil, fmt.Errorf("invalid archive: config %s: %w", it.Config, err)
		}
		li := loadImage{config: cb, layers: it.Layers, blobs: make([]string, len(it.Layers))}
		for _, t := range it.RepoTags {
			nt, err := ParseRepositoryTag(t)
			if err != nil {
				return nil, fmt.Errorf("invalid archive: tag %q: %w", t, err)
			}
			li.tags = append(li.tags, nt.String())
		}
		todo = append(todo, li)
	}
	return todo, nil
}

func readOCIIndex(root *os.Root, ib []byte) ([]loadImage, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(ib, &idx); err != nil {
		return nil, fmt.Errorf("invalid archive: index.json: %w", err)
	}
	var todo []loadImage
	for _, desc := range idx.Manifests {
		m, err := ociManifest(root, desc)
		if err != nil {
			return nil, err
		}
		cb, err := readOCIBlob(root, m.Config.Digest)
		if err != nil {
			return nil, err
		}
		li := loadImage{config: cb}
		for _, l := range m.Layers {
			li.layers = append(li.layers, "blobs/"+l.Digest.Algorithm().String()+"/"+l.Digest.Encoded())
			li.blobs = append(li.blobs, l.Digest.String())
		}
		if tag := ociIndexTag(desc); tag != "" {
			li.tags = append(li.tags, tag)
		}
		todo = append(todo, li)
	}
	return todo, nil
}

// ociIndexTag is the name an index.json entry gives its image (containerd's
// annotation, else OCI's ref name when it is a full name), or "".
func ociIndexTag(desc ocispec.Descriptor) string {
	name := desc.Annotations["io.containerd.image.name"]
	if name == "" {
		name = desc.Annotations[ocispec.AnnotationRefName]
	}
	if name == "" {
		return ""
	}
	if n, err := reference.ParseNamed(name); err == nil { // only full names
		return reference.TagNameOnly(n).String()
	}
	if n, err := reference.ParseNormalizedNamed(name); err == nil && strings.ContainsAny(name, "/:") {
		return reference.TagNameOnly(n).String()
	}
	return ""
}

// loadImage stores one image of the archive: its layers (verified against
// the config's diffIDs, pinned so a concurrent rmi's gc leaves them), then
// its config, then its tags. It returns docker's "Loaded image" lines.
func (s *Store) loadImage(ctx context.Context, root *os.Root, li loadImage, p Progress) ([]string, error) {
	cfg, err := parseConfig(li.config)
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(li.layers) {
		return nil, fmt.Errorf("invalid archive: config has %d layers, manifest lists %d", len(cfg.RootFS.DiffIDs), len(li.layers))
	}
	var diffIDs []string
	for _, d := range cfg.RootFS.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	s.pin(diffIDs...)
	if err := s.loadLayers(ctx, root, li, diffIDs, p); err != nil {
		s.unpin(diffIDs...)
		s.gc(false)
		return nil, err
	}
	id, err := s.putImage(li.config, "")
	s.unpin(diffIDs...)
	if err != nil {
		return nil, err
	}
	if len(li.tags) == 0 {
		return []string{"Loaded image ID: " + id}, nil
	}
	return s.tagLoaded(id, li.tags)
}

// loadLayers stores the layers of one archive image from the spool.
func (s *Store) loadLayers(ctx context.Context, root *os.Root, li loadImage, diffIDs []string, p Progress) error {
	for i, lp := range li.layers {
		lp := path.Clean(lp)
		var size int64
		if fi, err := root.Stat(lp); err == nil {
			size = fi.Size()
		}
		_, _, err := s.storeLayer(ctx, layerIn{
			DiffID:   diffIDs[i],
			Blob:     li.blobs[i],
			Linkable: true, // the spool is removed afterwards: its file becomes the blob
			Open: func() (io.ReadCloser, error) {
				f, err := root.Open(lp)
				if err != nil {
					return nil, fmt.Errorf("invalid archive: layer %s: %w", lp, err)
				}
				return f, nil
			},
		})
		if err != nil {
			return err
		}
		p.detail(stringid.TruncateID(diffIDs[i]), "Loading layer", size, size)
	}
	return nil
}

// tagLoaded gives a loaded image its tags, saying, as docker does, when a
// tag moves away from another image.
func (s *Store) tagLoaded(id string, tags []string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, t := range tags {
		if old, ok := s.repos[t]; ok && old != id {
			lines = append(lines, fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string", familiar(t), old))
		}
		if err := s.tagLocked(t, id); err != nil {
			return lines, err
		}
		lines = append(lines, "Loaded image: "+familiar(t))
	}
	return lines, nil
}

// spool extracts the outer archive (plain or compressed) into root: regular
// files, dirs and the symlinks docker's legacy save uses for repeated layers.
func spool(ctx context.Context, r io.Reader, root *os.Root) error {
	n, err := archive.Apply(ctx, root, ".", r, archive.ApplyOptions{NoLchown: true})
	if err != nil {
		return fmt.Errorf("invalid archive: %w", err)
	}
	if n == 0 {
		return errors.New("invalid archive: empty input (expected a tar made by docker save)")
	}
	return nil
}

func readOCIBlob(root *os.Root, d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("invalid archive: %w", err)
	}
	b, err := root.ReadFile("blobs/" + d.Algorithm().String() + "/" + d.Encoded())
	if err != nil {
		return nil, fmt.Errorf("invalid archive: blob %s: %w", d, err)
	}
	if digest.FromBytes(b) != d && d.Algorithm() == digest.SHA256 {
		return nil, fmt.Errorf("invalid archive: blob %s does not match its digest", d)
	}
	return b, nil
}

// ociManifest follows desc (a manifest, or an index from which linux/amd64
// or else the first image is taken) to an image manifest.
func ociManifest(root *os.Root, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	for depth := 0; depth < 4; depth++ {
		b, err := readOCIBlob(root, desc.Digest)
		if err != nil {
			return nil, err
		}
		var probe struct {
			MediaType string            `json:"mediaType"`
			Manifests []json.RawMessage `json:"manifests"`
		}
		json.Unmarshal(b, &probe)
		if probe.MediaType == ocispec.MediaTypeImageIndex || probe.MediaType == "application/vnd.docker.distribution.manifest.list.v2+json" || (probe.MediaType == "" && probe.Manifests != nil) {
			var idx ocispec.Index
			if err := json.Unmarshal(b, &idx); err != nil {
				return nil, fmt.Errorf("invalid archive: %w", err)
			}
			if len(idx.Manifests) == 0 {
				return nil, errors.New("invalid archive: empty image index")
			}
			pick := idx.Manifests[0]
			for _, m := range idx.Manifests {
				if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == "amd64" {
					pick = m
					break
				}
			}
			desc = pick
			continue
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("invalid archive: manifest: %w", err)
		}
		return &m, nil
	}
	return nil, errors.New("invalid archive: image indexes nested too deep")
}

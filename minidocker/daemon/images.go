package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"

	apiimage "github.com/moby/moby/api/types/image"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/image"
	"github.com/minidocker/minidocker/minidocker/version"
)

// initImages opens the image store under <data-root>/image.
func (d *Daemon) initImages() error {
	s, err := image.Open(filepath.Join(d.cfg.DataRoot, "image"))
	if err != nil {
		return err
	}
	d.images = s
	return nil
}

func (d *Daemon) imageCount() int {
	list, err := d.images.List(false)
	if err != nil {
		return 0
	}
	return len(list)
}

// RegistryOptions is the daemon's registry configuration (daemon.json
// registry-mirrors and insecure-registries) plus the credential the client
// sent for this one request (X-Registry-Auth).
func (d *Daemon) RegistryOptions(auth *image.AuthConfig) image.RegistryOptions {
	return image.RegistryOptions{
		Mirrors:   d.cfg.RegistryMirrors,
		Insecure:  d.cfg.InsecureRegistries,
		CertsDir:  d.cfg.CertsDir,
		Auth:      auth,
		UserAgent: "minidocker/" + version.Version,
	}
}

// PullImage is `docker pull` of fromImage, with the tag or digest the API
// sends apart in tag. A bad reference is an error before any progress.
func (d *Daemon) PullImage(ctx context.Context, from, tag string, auth *image.AuthConfig, p image.Progress) (*image.Image, error) {
	if from == "" {
		return nil, errdefs.Invalid("fromImage or fromSrc is required")
	}
	ref := pullReference(from, tag)
	if _, err := image.ParseReference(ref); err != nil {
		return nil, err
	}
	img, err := d.images.Pull(ctx, ref, d.RegistryOptions(auth), p)
	if err == nil {
		d.imageEvent("pull", familiarRef(ref), familiarRef(ref))
	}
	return img, err
}

// PushImage is `docker push name[:tag]`: each reference in turn, calling
// pushed after each one. Without a tag it pushes every tag of the
// repository. A name with no local image is an error before any progress.
func (d *Daemon) PushImage(ctx context.Context, name, tag string, auth *image.AuthConfig, p image.Progress, pushed func(*image.PushResult)) error {
	refs, err := d.pushReferences(name, tag)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		res, err := d.images.Push(ctx, ref, d.RegistryOptions(auth), p)
		if err != nil {
			return err
		}
		d.imageEvent("push", familiarRef(ref), familiarRef(ref))
		pushed(res)
	}
	return nil
}

// RemoveImage is `docker rmi`: it refuses (without force) to delete an
// image a container uses, with docker's conflict messages. Which images
// are in use is gathered first, without the image store's lock; holding
// imageUse keeps a create from taking an image meanwhile.
func (d *Daemon) RemoveImage(ref string, force, noPrune bool) ([]apiimage.DeleteResponse, error) {
	d.imageUse.Lock()
	defer d.imageUse.Unlock()
	id, _ := d.images.Resolve(ref)
	res, err := d.images.Remove(ref, image.RemoveOptions{Force: force, NoPrune: noPrune, InUse: d.imagesInUse()})
	d.imageRemoveEvents(id, res) // events.go
	return res, err
}

// Login checks a credential the way `docker login` does for a registry
// with basic auth: GET /v2/ with the username and password must answer
// 200. HTTPS first; plain HTTP only for an insecure registry, as for pulls.
func (d *Daemon) Login(ctx context.Context, server, username, password string) error {
	host := RegistryHost(server)
	if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" {
		return errdefs.Unavailable("logging in to Docker Hub is not supported offline; give a registry address")
	}
	insecure := d.RegistryOptions(nil).IsInsecure(host)
	t := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	defer t.CloseIdleConnections()
	c := &http.Client{Transport: t, Timeout: 30 * time.Second}
	try := func(scheme string) (int, string, error) {
		u := scheme + "://" + host + "/v2/"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, u, err
		}
		req.SetBasicAuth(username, password)
		resp, err := c.Do(req)
		if err != nil {
			return 0, u, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp.StatusCode, u, nil
	}
	code, u, err := try("https")
	if err != nil && insecure {
		code, u, err = try("http")
	}
	if err != nil {
		return errdefs.Unavailable("%v", err)
	}
	if code != http.StatusOK {
		return errdefs.Unauthorized("login attempt to %s failed with status: %d %s", u, code, http.StatusText(code))
	}
	return nil
}

// RegistryHost reduces a login server argument ("https://host:5000/",
// "host:5000") to host[:port].
func RegistryHost(server string) string {
	s := strings.TrimSpace(server)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "docker.io"
	}
	return s
}

// ImageFilters are the keys `docker images --filter` understands; the API
// refuses others.
var ImageFilters = []string{"dangling", "reference", "before", "since", "until"}

// ListImages is `docker images`: the store's list narrowed by the
// dangling and reference filters and the time ones (images_filters.go).
func (d *Daemon) ListImages(all bool, filters map[string][]string) ([]apiimage.Summary, error) {
	window, err := d.imageTimeWindow(filters, time.Now())
	if err != nil {
		return nil, err
	}
	list, err := d.images.List(all)
	if err != nil {
		return nil, err
	}
	out := []apiimage.Summary{}
	for _, im := range list {
		if window != (imageWindow{}) {
			if t, err := d.imageCreated(im.ID); err != nil || !window.contains(t) {
				continue
			}
		}
		if v := filters["dangling"]; len(v) > 0 {
			want := v[0] == "true" || v[0] == "1"
			if want != (len(im.RepoTags) == 0) {
				continue
			}
		}
		if pats := filters["reference"]; len(pats) > 0 {
			var keep bool
			if im, keep = keepReferences(im, pats); !keep {
				continue
			}
		}
		out = append(out, im)
	}
	return out, nil
}

// keepReferences applies the reference filter to one image: it keeps the
// tags and digests that some pattern matches, and reports whether any did.
func keepReferences(im apiimage.Summary, patterns []string) (apiimage.Summary, bool) {
	matchesAny := func(s string) bool {
		for _, p := range patterns {
			if refMatches(p, s) {
				return true
			}
		}
		return false
	}
	var tags, digests []string
	for _, t := range im.RepoTags {
		if matchesAny(t) {
			tags = append(tags, t)
		}
	}
	for _, dg := range im.RepoDigests {
		if repo, _, _ := strings.Cut(dg, "@"); matchesAny(repo) {
			digests = append(digests, dg)
		}
	}
	im.RepoTags, im.RepoDigests = tags, digests
	return im, len(tags)+len(digests) > 0
}

// refMatches is the reference filter: a pattern (with * and ?) against the
// repository, or against repository:tag when the pattern has a tag.
func refMatches(pattern, repoTag string) bool {
	repo, tag := splitTag(repoTag)
	pr, pt := splitTag(pattern)
	if ok, _ := path.Match(pr, repo); !ok {
		return false
	}
	if pt == "" {
		return true
	}
	ok, _ := path.Match(pt, tag)
	return ok
}

// splitTag splits "host:5000/repo:tag" into "host:5000/repo" and "tag".
func splitTag(s string) (repo, tag string) {
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// pullReference joins the API's fromImage and tag into one reference: the
// CLI sends a digest (sha256:…) in tag too.
func pullReference(from, tag string) string {
	switch {
	case tag == "":
		return from
	case strings.Contains(tag, ":"):
		return from + "@" + tag
	}
	return from + ":" + tag
}

// ImportImage is `docker import` of a tar stream, tagged repo[:tag] when
// repo is given.
func (d *Daemon) ImportImage(ctx context.Context, src io.Reader, repo, tag string, changes []string, message string) (string, error) {
	ref := repo
	if ref != "" && tag != "" {
		ref += ":" + tag
	}
	if ref != "" {
		if _, err := image.ParseRepositoryTag(ref); err != nil {
			return "", err
		}
	}
	id, err := d.images.Import(ctx, src, ref, changes, message)
	if err == nil {
		d.imageEvent("import", id, firstOf(familiarRef(ref), id))
	}
	return id, err
}

// repoTags are the local tags of the repository name names, in docker's
// familiar form (busybox:latest).
func (d *Daemon) repoTags(name string) ([]string, error) {
	named, err := image.ParseReference(name)
	if err != nil {
		return nil, err
	}
	repo := image.FamiliarName(named)
	list, err := d.images.List(true)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, im := range list {
		for _, t := range im.RepoTags {
			if strings.HasPrefix(t, repo+":") {
				tags = append(tags, t)
			}
		}
	}
	return tags, nil
}

// pushReferences are the references `docker push name[:tag]` sends:
// the one tag, or without a tag every tag of the repository, as dockerd
// does. Each must name a local image.
func (d *Daemon) pushReferences(name, tag string) ([]string, error) {
	shown := name
	if named, err := image.ParseReference(name); err == nil {
		shown = image.FamiliarName(named)
	}
	refs := []string{name + ":" + tag}
	if tag == "" {
		var err error
		if refs, err = d.repoTags(name); err != nil {
			return nil, err
		}
	}
	if len(refs) == 0 {
		return nil, errdefs.NotFound("An image does not exist locally with the tag: %s", shown)
	}
	for _, ref := range refs {
		if _, err := image.ParseReference(ref); err != nil {
			return nil, err
		}
		if _, err := d.images.Resolve(ref); err != nil {
			return nil, errdefs.NotFound("An image does not exist locally with the tag: %s", shown)
		}
	}
	return refs, nil
}

// TagImage is `docker tag src repo[:tag]`.
func (d *Daemon) TagImage(src, repo, tag string) error {
	if repo == "" {
		return errdefs.Invalid("repository name (repo parameter) is required")
	}
	dst := repo
	if tag != "" {
		dst += ":" + tag
	}
	if err := d.images.Tag(src, dst); err != nil {
		return err
	}
	id, _ := d.images.Resolve(dst)
	d.imageEvent("tag", id, familiarRef(dst))
	return nil
}

// InspectImage is `docker image inspect`.
func (d *Daemon) InspectImage(ref string) (*image.InspectData, error) {
	data, err := d.images.Inspect(ref)
	return data, err
}

// ImageHistory is `docker history`.
func (d *Daemon) ImageHistory(ref string) ([]apiimage.HistoryResponseItem, error) {
	h, err := d.images.History(ref)
	return h, err
}

// SaveImages is `docker save`. Every name is checked first (an image, or
// a repository with some tag here, which saves all its tags), so that a
// wrong one is a 404 rather than a broken tar; write then streams the tar.
func (d *Daemon) SaveImages(ctx context.Context, names []string) (write func(io.Writer) error, err error) {
	if len(names) == 0 {
		return nil, errdefs.Invalid("no image names given")
	}
	for _, n := range names {
		if d.images.Exists(n) {
			continue
		}
		if tags, _ := d.repoTags(n); len(tags) > 0 {
			continue
		}
		_, err := d.images.Resolve(n)
		if err == nil {
			err = fmt.Errorf("No such image: %s", n)
		}
		return nil, errdefs.As(errdefs.KindNotFound, err)
	}
	return func(w io.Writer) error {
		err := d.images.Save(ctx, w, names)
		for _, n := range names {
			if id, rerr := d.images.Resolve(n); err == nil && rerr == nil {
				d.imageEvent("save", id, familiarRef(n))
			}
		}
		return err
	}, nil
}

// LoadImages is `docker load`: it returns the "Loaded image: …" lines.
func (d *Daemon) LoadImages(ctx context.Context, r io.Reader, p image.Progress) ([]string, error) {
	lines, err := d.images.Load(ctx, r, p)
	d.imageLoadEvents(lines) // events.go
	return lines, err
}

// PruneImages is `docker image prune`: dangling images (untagged leaves),
// or with dangling=false every image no container uses.
func (d *Daemon) PruneImages(filters map[string][]string) (apiimage.PruneReport, error) {
	onlyDangling := true
	if v := filters["dangling"]; len(v) > 0 && (v[0] == "false" || v[0] == "0") {
		onlyDangling = false
	}
	report := apiimage.PruneReport{ImagesDeleted: []apiimage.DeleteResponse{}}
	list, err := d.images.List(false)
	if err != nil {
		return report, err
	}
	for _, im := range list {
		if onlyDangling && len(im.RepoTags) > 0 {
			continue
		}
		if cid, _ := d.ImageInUse(im.ID); cid != "" {
			continue
		}
		res, err := d.RemoveImage(im.ID, true, false)
		if err != nil {
			continue // e.g. a parent of another image: docker skips those too
		}
		report.ImagesDeleted = append(report.ImagesDeleted, res...)
		for _, it := range res {
			if it.Deleted == im.ID && im.Size > 0 {
				report.SpaceReclaimed += uint64(im.Size)
			}
		}
	}
	return report, nil
}

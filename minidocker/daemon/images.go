package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
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

// Images is the image store, for the API's image endpoints.
func (d *Daemon) Images() *image.Store { return d.images }

func (d *Daemon) imageCount() int {
	list, err := d.images.List(false)
	if err != nil {
		return 0
	}
	return len(list)
}

// ImageError classifies an error of the image store for the API:
// image.ErrNotFound → 404, ErrConflict → 409, ErrInvalid → 400. The message
// (docker's wording, written by the store) is kept as it is.
func ImageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errdefs.KindOf(err) != errdefs.KindUnknown:
		return err
	case errors.Is(err, image.ErrNotFound):
		return errdefs.As(errdefs.KindNotFound, err)
	case errors.Is(err, image.ErrConflict):
		return errdefs.As(errdefs.KindConflict, err)
	case errors.Is(err, image.ErrInvalid):
		return errdefs.As(errdefs.KindInvalid, err)
	}
	return err
}

// RegistryOptions is the daemon's registry configuration (daemon.json
// registry-mirrors and insecure-registries) plus the credential the client
// sent for this one request (X-Registry-Auth).
func (d *Daemon) RegistryOptions(auth *image.AuthConfig) image.RegistryOptions {
	return image.RegistryOptions{
		Mirrors:   d.cfg.RegistryMirrors,
		Insecure:  d.cfg.InsecureRegistries,
		Auth:      auth,
		UserAgent: "minidocker/" + version.Version,
	}
}

// PullImage is `docker pull`.
func (d *Daemon) PullImage(ctx context.Context, ref string, auth *image.AuthConfig, p image.Progress) (*image.Image, error) {
	img, err := d.images.Pull(ctx, ref, d.RegistryOptions(auth), p)
	return img, ImageError(err)
}

// PushImage is `docker push`.
func (d *Daemon) PushImage(ctx context.Context, ref string, auth *image.AuthConfig, p image.Progress) (*image.PushResult, error) {
	res, err := d.images.Push(ctx, ref, d.RegistryOptions(auth), p)
	return res, ImageError(err)
}

// RemoveImage is `docker rmi`: it refuses (without force) to delete an
// image a container uses, with docker's conflict messages.
func (d *Daemon) RemoveImage(ref string, force, noPrune bool) ([]apiimage.DeleteResponse, error) {
	res, err := d.images.Remove(ref, image.RemoveOptions{Force: force, NoPrune: noPrune, InUse: d.ImageInUse})
	return res, ImageError(err)
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

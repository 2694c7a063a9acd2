package image

import (
	"encoding/json"
	"fmt"
	"os"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
)

// ImageConfig is an image's config JSON as docker writes it: the OCI image
// config with docker's extensions (Healthcheck, OnBuild, Shell in "config")
// and the legacy builder's fields (container, container_config,
// docker_version). The raw bytes are what the image ID is computed from;
// this struct is only for reading and for making new configs.
type ImageConfig struct {
	dockerspec.DockerOCIImage
	Parent          string            `json:"parent,omitempty"`
	Container       string            `json:"container,omitempty"`
	ContainerConfig *container.Config `json:"container_config,omitempty"`
	DockerVersion   string            `json:"docker_version,omitempty"`
	Comment         string            `json:"comment,omitempty"`
}

// ImageConfigRuntime is the runtime part of a config (Cmd, Env, ...), docker's "config" object.
type ImageConfigRuntime = dockerspec.DockerOCIImageConfig

func parseConfig(b []byte) (*ImageConfig, error) {
	var c ImageConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("invalid image config: %w", err)
	}
	if c.RootFS.Type != "" && c.RootFS.Type != "layers" {
		return nil, fmt.Errorf("invalid image config: rootfs type %q", c.RootFS.Type)
	}
	for _, d := range c.RootFS.DiffIDs {
		if !validDigest(d.String()) {
			return nil, fmt.Errorf("invalid image config: layer diffID %q", d)
		}
	}
	return &c, nil
}

func (s *Store) configLocked(id string) (*ImageConfig, error) {
	b, err := s.readBlob(id)
	if err != nil {
		return nil, err
	}
	return parseConfig(b)
}

// Config returns the parsed config of a local image (by ID or reference).
func (s *Store) Config(ref string) (*ImageConfig, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	return s.configLocked(id)
}

// RawConfig returns the config JSON exactly as stored (its digest is the ID).
func (s *Store) RawConfig(ref string) ([]byte, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	return s.readBlob(id)
}

// LayerDirs returns the unpacked layer directories of an image, top layer
// first: the order overlay's lowerdir= wants.
func (s *Store) LayerDirs(ref string) ([]string, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.configLocked(id)
	if err != nil {
		return nil, err
	}
	n := len(cfg.RootFS.DiffIDs)
	dirs := make([]string, 0, n)
	for i := n - 1; i >= 0; i-- {
		d := cfg.RootFS.DiffIDs[i].String()
		dir := s.layerDir(d) + "/diff"
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("image %s: layer %s is missing: %w", id, d, err)
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// layersListing is layers-listing.txt: GNU tar's verbose listing of the
// save archive, then of each layer tar in manifest.json order, each headed
// by its diff_id and the history line that made it.
func layersListing(saveTar, work string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Entries of every layer tar in %s, in manifest.json order (base first).\n", filepath.Base(saveTar))
	fmt.Fprintf(&b, "# Produced with: tar --full-time -tvf <layerdir>/layer.tar   (GNU tar; entry order is the order inside the tar)\n")
	fmt.Fprintf(&b, "# diff_id = sha256 of the uncompressed layer.tar (matches rootfs.diff_ids in the image config).\n\n")
	fmt.Fprintf(&b, "## outer archive: tar --full-time -tvf %s\n", filepath.Base(saveTar))
	if err := tarList(&b, saveTar); err != nil {
		return nil, err
	}
	members, err := readMembers(saveTar)
	if err != nil {
		return nil, err
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		return nil, fmt.Errorf("manifest.json: %v", err)
	}
	var config struct {
		History []struct {
			CreatedBy  string `json:"created_by"`
			EmptyLayer bool   `json:"empty_layer"`
		}
	}
	if err := json.Unmarshal(members[manifest[0].Config], &config); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	var createdBy []string // of the history entries that made a layer
	for _, h := range config.History {
		if !h.EmptyLayer {
			createdBy = append(createdBy, h.CreatedBy)
		}
	}
	layers := manifest[0].Layers
	for i, l := range layers {
		data := members[l]
		p := filepath.Join(work, fmt.Sprintf("layer-%d.tar", i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n## layer %d/%d: %s  (%d bytes)\n", i+1, len(layers), l, len(data))
		fmt.Fprintf(&b, "# diff_id sha256:%x\n", sha256.Sum256(data))
		if i < len(createdBy) {
			fmt.Fprintf(&b, "# created_by: %s\n", createdBy[i])
		}
		if err := tarList(&b, p); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// tarList appends GNU tar's listing of file to b.
func tarList(b *bytes.Buffer, file string) error {
	cmd := exec.Command("tar", "--full-time", "-tvf", file)
	cmd.Stdout = b
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	return cmd.Run()
}

// readMembers reads every regular file of a tar into memory (a save
// archive of a small image).
func readMembers(file string) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if m[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
}

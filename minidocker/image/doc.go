// Package image is minidocker's image store: article section 3 (images and
// registries). An image is a config (JSON) plus an ordered list of layers
// (tars); its ID is the sha256 of the config bytes, so `tag` only adds a
// name and the IMAGE ID stays the same, and a save/load round trip keeps it.
//
// Where to start reading:
//
//   - store.go: the on-disk layout (content-addressed blobs, one directory
//     per layer keyed by diffID, image records, repositories.json), atomic
//     writes, per-layer locks, and garbage collection of unused layers.
//   - unpack.go: how a layer tar becomes an overlay lowerdir, safely: every
//     write goes through os.Root, OCI whiteouts become overlay whiteouts.
//   - reference.go: docker's reference rules (busybox → docker.io/library/busybox:latest).
//   - remote.go: pull and push with the distribution protocol (via
//     go-containerregistry), docker's progress lines, mirrors and insecure registries.
//   - archive.go: docker save / docker load (docker-archive and OCI layout).
//   - commit.go: the reverse of unpack: an overlay upperdir back into a layer
//     (used by `docker commit` and the Dockerfile builder), and import.go
//     (`docker import`: a rootfs tar becomes a one-layer image).
//   - ops.go: tag, rmi, images, inspect, history.
//
// Layers are stored once per diffID, not per chain ID as docker's overlay2
// driver does: a layer's content does not depend on its parent, and overlay
// stacks the directories, so sharing by diffID is both correct and simpler.
package image

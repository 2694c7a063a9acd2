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
//   - storeLayer in store.go: how a layer blob becomes an overlay lowerdir
//     (unpackPipeline in pipeline.go), through package archive (Apply: every write goes through os.Root, OCI
//     whiteouts become overlay whiteouts; DecompressStream: gzip, zstd or
//     plain).
//   - reference.go: docker's reference rules (busybox → docker.io/library/busybox:latest).
//   - remote.go: pull and push with the distribution protocol (via
//     go-containerregistry), docker's progress lines, mirrors and insecure registries.
//   - archive.go: docker save / docker load (docker-archive and OCI layout).
//   - commit.go: the reverse of unpacking: an overlay upperdir back into a layer
//     (used by `docker commit` and the Dockerfile builder), and import.go
//     (`docker import`: a rootfs tar becomes a one-layer image).
//   - platform.go: the "platform" a client may name (os/arch/variant, with
//     docker's spellings) and whether an image was built for it.
//   - ops.go: tag, rmi, images, inspect, history. Remove (rmi) shows the
//     store's lock discipline: decide and act on the records under one
//     deferred unlock, then collect unused layers without it.
//
// # The layer pipeline
//
// unpackPipeline (pipeline.go) reads a layer blob once, in three goroutines
// joined by pipes that hold 2 MiB each (chunks reused from layer to layer),
// so that a stage briefly held up (a file being created, a busy CPU) does
// not stall the others:
//
//	fetch:      registry body, blob digest checked by go-containerregistry
//	              │
//	decompress: blob saved to tmp/ (or, for load, linked later), gunzip or zstd
//	              │
//	unpack:     diffID hash, archive.Apply into tmp/layer-*/diff
//
// The first stage does what `crane pull` does and no more; the blob copy
// sits in the second. `load` runs the same pipeline over each spooled layer
// file and hard-links that file as the blob instead of copying it. An
// uncompressed blob is hashed once: its digest is its diffID.
//
// Choices that differ from docker, and why:
//
//   - Layers are stored once per diffID, not per chain ID as docker's overlay2
//     driver does: a layer's content does not depend on its parent, and
//     overlay stacks the directories, so sharing by diffID is both correct
//     and simpler.
//   - A layer is read once, as a pipeline (below), into tmp/, and renamed
//     into layers/ only when both the blob digest and the diffID are
//     verified. Docker downloads to a temp file first and extracts
//     afterwards.
//   - Pull reads through go-containerregistry's remote (its v1.Image and
//     v1.Layer), but push, save and load write their own formats, not
//     remote.Write or the tarball and layout writers: push sends dockerd's
//     schema 2 manifest byte for byte (indented with three spaces, so the
//     RepoDigest is the one docker push gives) with docker's per-layer
//     progress lines, which remote.Write has no hook for; save writes
//     docker ≥ 25's combined tar (uncompressed layers under blobs/sha256,
//     manifest.json, index.json and repositories, zero timestamps), which
//     the tarball writer (compressed <digest>.tar.gz layers) and the
//     layout writer (a directory) do not make.
//   - Metadata writes are temp file + rename without fsync by default
//     (Store.SyncWrites turns it on): on ext4 an fsync right after unpacking
//     waits for all the new file data, which tripled the pull time.
//
// Measured (scripts/bench.d/03-images.sh: `minidocker pull` through the
// daemon from `minidocker registry serve` vs `crane pull --format=oci`,
// 50 MB of random data, 2 vCPU machine shared with a load average of
// 17-30, so wall times move a lot and CPU times less): before the
// pipeline above, pull took 1.22x crane's wall time and 1.42x its CPU time
// and load 1279 ms; after it, 0.97-1.11x wall, 1.26-1.37x CPU, and load
// 492-800 ms with about 40% less daemon CPU (one copy and one hash less
// per layer). Of the daemon's CPU in a pull, a third is sha256 (the blob
// digest and the diffID, both required), a sixth writing files.
// BenchmarkStoreLayerGzip measures the pipeline alone, without network.
//
// gzip is github.com/klauspost/compress/gzip (same format, same API):
// compressing a layer for push runs far faster than compress/gzip (a 50 MB
// push went from 1.9 s to 0.8-0.95 s; on incompressible data it stores
// blocks instead of searching for matches).
package image

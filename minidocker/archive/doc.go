// Package archive is how minidocker reads and writes tar archives: image
// layers (article section 3), `docker save`/`load`/`import`, `docker cp`,
// commit and the build context (section 4) all go through it, so each
// accepts the same compressions and gets the same protections. containerd's
// pkg/archive and pkg/archive/compression play the same part there.
//
// Where to start reading:
//
//   - apply.go: Apply, the one extractor. Every write goes through an
//     os.Root, so no entry, symlink or hardlink can reach outside the
//     destination; with OverlayWhiteouts, OCI whiteouts become overlayfs
//     ones. Note the order of the metadata calls: owner, then extended
//     attributes (chown clears file capabilities), then mode (chown clears
//     setuid), then times.
//   - write.go: WriteTree, the one writer (the reverse of Apply). With
//     MapIDs (a --userns-remap container's files) it maps owners back, and
//     the namespaced file capability a remapped root writes back to the
//     plain one images carry (archiveCapability).
//   - changes.go: OverlayChanges, `docker diff` read from an overlay upper
//     directory (whiteouts are deletions, opaque directories hide).
//   - compression.go: DecompressStream, the one place a stream's gzip, zstd
//     or bzip2 wrapping is recognised by its magic bytes.
//
// Choices that differ from docker, and why:
//
//   - os.Root refuses to follow absolute symlinks and symlinks leaving the
//     root. Docker extracts in a chroot instead. Where docker's result
//     depends on resolving such a link inside the root (cp, build context),
//     ApplyOptions.InScope resolves the entry's directory with rootpath
//     first; an image layer that writes through its own absolute symlink is
//     refused.
//   - xz is recognised but refused: nothing in our dependencies reads it,
//     and docker only reads it by running the xz program.
package archive

// Package rootpath resolves a path inside a directory that stands for a
// root filesystem, the way the kernel would inside a chroot: a container's
// rootfs for `docker cp` (article section 3) and an image's or build
// context's tree for the Dockerfile's COPY/ADD (section 4). Symlinks are
// followed, but an absolute target starts again at that root's top and ".."
// stops there, so a link can never lead out of it.
//
// Start reading at Resolve. It only reads names; opening what it found goes
// through os.Root in the callers, so a link swapped in afterwards still
// cannot escape.
package rootpath

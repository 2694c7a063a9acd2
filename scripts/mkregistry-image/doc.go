// Command mkregistry-image makes the article's registry:2 image here, with
// no download: an image FROM scratch whose only file is the static
// minidocker binary, run as `/minidocker registry serve --addr :5000 --root
// /var/lib/registry` — the same registry server `minidocker registry serve`
// runs on the host, now as a container.
//
//	go run ./scripts/mkregistry-image -o registry.tar                  # docker-archive, tag registry:2
//	go run ./scripts/mkregistry-image -o registry.tar -bin bin/minidocker -tag registry:2
//	go run ./scripts/mkregistry-image -rootfs-tar rootfs.tar            # only the rootfs (for `import`)
//
// The archive is written with go-containerregistry's tarball package, so
// `minidocker load -i registry.tar` and `docker load -i registry.tar` both
// accept it. scripts/mkregistry-image.sh builds and loads it in one step.
//
// The binary must be static (CGO_ENABLED=0, as the Makefile builds it): a
// FROM-scratch image has no dynamic loader and no libc.
package main

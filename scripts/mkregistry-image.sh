#!/usr/bin/env bash
# mkregistry-image.sh — make the article's `registry:2` image without a
# download and load it into the daemon: FROM scratch + the static minidocker
# binary, entrypoint `/minidocker registry serve`, cmd `--addr :5000 --root
# /var/lib/registry`. Then the article's line works:
#
#   scripts/mkregistry-image.sh
#   minidocker run -d -p 5000:5000 --restart always --name registry registry:2
#
# Usage: scripts/mkregistry-image.sh [TAG]     (default registry:2)
# Environment: MINIDOCKER_HOST picks the daemon; MD the minidocker binary.
set -euo pipefail
cd "$(dirname "$0")/.."
MD=${MD:-$PWD/bin/minidocker}
TAG=${1:-registry:2}
[ -x "$MD" ] || make build
tmp=$(mktemp -d /tmp/mkregistry.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The image as a docker-archive (scripts/mkregistry-image/main.go), loaded
# like any saved image. The same rootfs also works with `import`:
#   go run ./scripts/mkregistry-image -rootfs-tar rootfs.tar
#   minidocker import -c 'ENTRYPOINT ["/minidocker","registry","serve"]' \
#     -c 'CMD ["--addr",":5000","--root","/var/lib/registry"]' rootfs.tar registry:2
go run ./scripts/mkregistry-image -bin "$MD" -tag "$TAG" -o "$tmp/registry.tar"
"$MD" load -i "$tmp/registry.tar"

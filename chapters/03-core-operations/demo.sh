#!/usr/bin/env bash
# Chapter 03 (part 1): images and a registry of our own. Loads the offline
# busybox, tags it, looks at it, runs a registry on 127.0.0.1, pushes,
# reads the catalog, removes the local copy and pulls it back.
# Everything it starts or adds is removed at the end.
set -euo pipefail
BUSYBOX_TAR=${BUSYBOX_TAR:-${MINIDOCKER_BUSYBOX_TAR:-build/busybox.tar}}
if ! command -v show >/dev/null 2>&1; then
	show() { printf '\n$ %s\n' "$*"; "$@"; }
fi

work=$(mktemp -d /tmp/md-ch03.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
reg_pid=""
cleanup() {
	minidocker rmi demo/busybox:v1 "$reg/busybox:latest" >/dev/null 2>&1 || true
	if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

show minidocker load -i "$BUSYBOX_TAR"
show minidocker images
show minidocker tag busybox demo/busybox:v1
show minidocker images          # two names, one IMAGE ID
show minidocker history busybox
show minidocker image inspect busybox

echo
echo "# a registry of our own (what the article runs as registry:2), on $reg"
minidocker registry serve --addr "$reg" --root "$work/registry" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.05; done

show minidocker tag busybox "$reg/busybox"
show minidocker push "$reg/busybox"
show curl -s "http://$reg/v2/_catalog"
echo
show curl -s "http://$reg/v2/busybox/tags/list"
echo
echo
echo "# remove every local name of the image, so the pull has to download it"
show minidocker rmi "$reg/busybox" demo/busybox:v1 busybox || true
show minidocker pull "$reg/busybox"
show minidocker images          # the pulled image has the same IMAGE ID
minidocker tag "$reg/busybox" busybox   # and busybox:latest is back for the next chapters

echo
echo "# save and load: an image as a file"
show minidocker save -o "$work/busybox.tar" busybox
show ls -lh "$work/busybox.tar"
show minidocker load -i "$work/busybox.tar"
show minidocker rmi "$reg/busybox"

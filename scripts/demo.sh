#!/usr/bin/env bash
# demo.sh — the course's main job: start a minidocker daemon (unless one
# already answers on the socket), then run each chapter's demo.sh in order,
# showing every command before it runs. `make demo` builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
export MINIDOCKER_HOST=${MINIDOCKER_HOST:-unix:///var/run/minidocker.sock}
export BUSYBOX_TAR=${MINIDOCKER_BUSYBOX_TAR:-$PWD/build/busybox.tar}

started=""
if ! minidocker version >/dev/null 2>&1; then
	echo "==> starting minidocker daemon (log: build/daemon.log)"
	mkdir -p build
	# --remove-network-on-exit: the demo leaves the host as it found it
	minidocker daemon --remove-network-on-exit >build/daemon.log 2>&1 &
	started=$!
	for _ in $(seq 100); do minidocker version >/dev/null 2>&1 && break; sleep 0.1; done
fi
stop_daemon() {
	if [ -n "$started" ]; then
		echo "==> stopping the daemon (pid $started)"
		kill "$started" && wait "$started" || true
	fi
}
trap stop_daemon EXIT

# show runs a command after printing it, the way the article presents them.
show() { printf '\n$ %s\n' "$*"; "$@"; }
export -f show

for demo in chapters/*/demo.sh; do
	echo
	echo "################ ${demo%/demo.sh}"
	bash "$demo"
done

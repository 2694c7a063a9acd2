#!/usr/bin/env bash
# demo.sh — the course's main job: start a minidocker daemon (unless one
# already answers on the socket), then replay every chapter's console
# transcripts in order, showing each command and its output. `make demo`
# builds first. Arguments, if any, name the chapter files to replay.
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

# The demo is the chapters' own console transcripts, replayed in order
# (chapters/doctest/replay); `make doctest` replays the same ones and
# compares their output with the text, so the two cannot disagree.
go run ./chapters/doctest/replay "$@"

#!/usr/bin/env bash
# bench.sh — `make bench`: speed and memory figures, printed, never asserted.
# Each figure is shown next to a baseline measured in the same run where one
# exists, as a ratio. It starts one isolated daemon (own socket, data root,
# bridge, chains, cgroup parent) and sources every scripts/bench.d/*.sh in
# order; each part may use the helpers below. Everything is bounded: the
# knobs (RUNS, SCALE_CYCLES, …) are named at the top of each part.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: run as root (sudo make bench)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench.sh: hyperfine is missing (scripts/setup-host.sh installs it)" >&2; exit 1; }

export MD=$PWD/bin/minidocker
export BUSYBOX_TAR=${MINIDOCKER_BUSYBOX_TAR:-$PWD/build/busybox.tar}
export BENCH_DIR=$(mktemp -d /tmp/mdbench.XXXXXX)
export MDH=unix://$BENCH_DIR/md.sock
export BENCH_RESULTS=$BENCH_DIR/results.txt

# Names of its own, so that two benches on one machine cannot remove each
# other's bridge (a daemon deletes its bridge when it exits).
BENCH_TAG=$(printf '%04x' $((RANDOM)))
BENCH_CGROUP=minidocker-bench-$BENCH_TAG
"$MD" -H "$MDH" daemon --config-file /dev/null --data-root "$BENCH_DIR/data" --exec-root "$BENCH_DIR/exec" \
	--pidfile "$BENCH_DIR/md.pid" --bridge "mdb$BENCH_TAG" --bip "10.66.$((200 + RANDOM % 50)).1/24" \
	--iptables-chain "MDB$BENCH_TAG" --cgroup-parent "$BENCH_CGROUP" --remove-network-on-exit >"$BENCH_DIR/daemon.log" 2>&1 &
export DAEMON_PID=$!
cleanup() {
	for id in $("$MD" -H "$MDH" ps -aq 2>/dev/null); do "$MD" -H "$MDH" rm -f "$id" >/dev/null 2>&1 || true; done
	kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
	rm -rf "$BENCH_DIR"
	rmdir /sys/fs/cgroup/*/"$BENCH_CGROUP" /sys/fs/cgroup/"$BENCH_CGROUP" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 200); do "$MD" -H "$MDH" version >/dev/null 2>&1 && break; sleep 0.05; done

# md runs the CLI against the bench daemon.
md() { "$MD" -H "$MDH" "$@"; }
# mean_ms CMD… prints hyperfine's mean time of a command, in milliseconds.
mean_ms() {
	hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json "$BENCH_DIR/h.json" "$@" >/dev/null 2>&1
	python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$BENCH_DIR/h.json"
}
# report NAME VALUE UNIT [BASELINE_NAME BASELINE_VALUE] prints one line, with
# the ratio; a baseline named without a value is shown as n/a (the part
# says why on stderr).
report() {
	local line
	if [ $# -ge 5 ] && [ -n "$5" ]; then
		line=$(printf '%-48s %10s %-4s  vs %-34s %10s %-4s  ratio %s' "$1" "$2" "$3" "$4" "$5" "$3" \
			"$(python3 -c "print('%.2fx' % ($2/$5))")")
	elif [ $# -ge 4 ] && [ -n "$4" ]; then
		line=$(printf '%-48s %10s %-4s  vs %-34s %10s' "$1" "$2" "$3" "$4" n/a)
	else
		line=$(printf '%-48s %10s %-4s' "$1" "$2" "$3")
	fi
	echo "$line" | tee -a "$BENCH_RESULTS"
}
# rss_mib PID prints a process's resident memory in MiB.
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
export -f md mean_ms report rss_mib

# BENCH_PARTS="00 04 07" runs only the parts with those numbers (a later
# part may use what an earlier one set up: 07 and 08 use 04's runc bundle).
for part in scripts/bench.d/*.sh; do
	num=${part#scripts/bench.d/}
	num=${num%%-*}
	[ -z "${BENCH_PARTS:-}" ] || [[ " $BENCH_PARTS " == *" $num "* ]] || continue
	echo "== ${part#scripts/bench.d/}"
	# shellcheck disable=SC1090
	source "$part"
done
echo
echo "== summary"
cat "$BENCH_RESULTS"

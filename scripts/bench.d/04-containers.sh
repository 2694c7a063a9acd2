# 04-containers.sh — containers (article section 4: PID 1, namespaces,
# cgroups), sourced by bench.sh. Baselines come from the same run:
#
#   run --rm --net none busybox true   vs  `runc run` of the same busybox rootfs
#                                          (bundle from `runc spec`: terminal false,
#                                          args ["true"], network namespace without
#                                          interfaces = --net none, not rootless)
#                                      vs  `unshare --fork --pid --mount --uts --ipc --net true`
#                                          (the namespaces alone: no rootfs, no cgroup)
#   exec c true                        vs  `runc exec` into a detached runc container,
#                                          and `nsenter --all` (the bare setns cost)
#   daemon idle RSS with N containers  vs  the same daemon with none
#   shim RSS / PSS per container       vs  containerd-shim-runc-v2 of a private containerd
#                                          (target ≤ 4.3 MiB; containerd-shim 12.9 MiB)
#   and, when containerd is installed, `ctr run --rm … true` (containerd + its shim + runc,
#   docker's path without dockerd) as one more run baseline.
#
# Knobs: RUNS (hyperfine runs, default 20), BENCH_CONTAINERS (default 20).

CTR_BENCH=$BENCH_DIR/containers
mkdir -p "$CTR_BENCH/bundle/rootfs" "$CTR_BENCH/runc-root"
md image inspect busybox:latest >/dev/null 2>&1 || md load -i "$BUSYBOX_TAR" >/dev/null

# --- the runc bundle: busybox's rootfs out of the docker-archive -------------
if ! python3 - "$BUSYBOX_TAR" "$CTR_BENCH/bundle/rootfs" <<'EOF'; then
import json, sys, tarfile
archive, dest = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as outer:
    manifest = json.load(outer.extractfile("manifest.json"))
    for layer in manifest[0]["Layers"]:
        with tarfile.open(fileobj=outer.extractfile(layer)) as t:
            t.extractall(dest, filter="tar")
EOF
	echo "04-containers: could not unpack $BUSYBOX_TAR; building the rootfs with scripts/mkbusybox" >&2
	go run ./scripts/mkbusybox -rootfs-tar "$CTR_BENCH/rootfs.tar"
	tar -C "$CTR_BENCH/bundle/rootfs" -xf "$CTR_BENCH/rootfs.tar"
fi
(cd "$CTR_BENCH/bundle" && runc spec)
set_runc_args() { # set_runc_args ARG… rewrites process.args of the bundle's config.json
	python3 - "$CTR_BENCH/bundle/config.json" "$@" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = sys.argv[2:]
open(p, "w").write(json.dumps(c, indent=1))
EOF
}
RUNC="runc --root $CTR_BENCH/runc-root"

# --- run --rm true, end to end ----------------------------------------------
set_runc_args true
runc_ok=1
$RUNC run --bundle "$CTR_BENCH/bundle" md-bench-probe </dev/null >/dev/null 2>"$CTR_BENCH/runc.err" || {
	runc_ok=0
	echo "04-containers: runc run failed, no runc baseline:" >&2
	cat "$CTR_BENCH/runc.err" >&2
}
run_ms=$(mean_ms "$MD -H $MDH run --rm --net none busybox true")
runc_ms=""
[ "$runc_ok" = 1 ] && runc_ms=$(mean_ms "$RUNC run --bundle $CTR_BENCH/bundle md-bench-run")
unshare_ms=$(mean_ms "unshare --fork --pid --mount --uts --ipc --net true")
report "run --rm --net none busybox true" "$run_ms" ms "runc run (same rootfs)" "$runc_ms"
report "run --rm --net none busybox true" "$run_ms" ms "unshare --fork --pid --mount --uts --ipc --net" "$unshare_ms"
[ -n "$runc_ms" ] && report "runc run (same rootfs)" "$runc_ms" ms "unshare --fork --pid --mount --uts --ipc --net" "$unshare_ms"

# --- a private containerd (own root, state, socket, namespace): ctr run, its shim
CTD=""
CTD_NS=mdbench-$$
if command -v containerd >/dev/null && command -v ctr >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
	mkdir -p "$CTR_BENCH/ctd"
	cat >"$CTR_BENCH/ctd/config.toml" <<EOF
version = 2
root = "$CTR_BENCH/ctd/root"
state = "$CTR_BENCH/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTR_BENCH/ctd/c.sock"
[ttrpc]
  address = "$CTR_BENCH/ctd/c.sock.ttrpc"
EOF
	containerd --config "$CTR_BENCH/ctd/config.toml" >"$CTR_BENCH/ctd/log" 2>&1 &
	CTD_PID=$!
	CTR="ctr -a $CTR_BENCH/ctd/c.sock -n $CTD_NS"
	for _ in $(seq 200); do $CTR version >/dev/null 2>&1 && break; sleep 0.05; done
	if $CTR images import "$BUSYBOX_TAR" >/dev/null 2>&1; then
		CTD=1
	else
		echo "04-containers: private containerd did not work, no containerd baselines" >&2
		tail -5 "$CTR_BENCH/ctd/log" >&2
	fi
fi
stop_bench_containerd() {
	[ -n "${CTD_PID:-}" ] || return 0
	for c in $($CTR containers ls -q 2>/dev/null); do
		$CTR task kill -s KILL "$c" >/dev/null 2>&1 || true
		for _ in $(seq 100); do $CTR task rm "$c" >/dev/null 2>&1 && break; sleep 0.05; done
		$CTR containers rm "$c" >/dev/null 2>&1 || true
	done
	kill "$CTD_PID" 2>/dev/null && wait "$CTD_PID" 2>/dev/null || true
	CTD_PID=""
	# ctr's default cgroup is /<namespace>/<id> in every controller
	for d in /sys/fs/cgroup/*/"$CTD_NS" /sys/fs/cgroup/"$CTD_NS"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	return 0
}
# bench.sh runs under set -e: whatever fails from here on, containerd goes too
trap 'stop_bench_containerd; cleanup' EXIT
if [ -n "$CTD" ]; then
	ctr_ms=$(mean_ms "$CTR run --rm docker.io/library/busybox:latest md-bench-ctr true")
	report "run --rm --net none busybox true" "$run_ms" ms "ctr run --rm (containerd+shim+runc)" "$ctr_ms"
fi

# --- exec c true --------------------------------------------------------------
md run -d --name md-bench-exec --net none busybox sleep 1000000 >/dev/null
exec_ms=$(mean_ms "$MD -H $MDH exec md-bench-exec true")
runc_exec_ms=""
if [ "$runc_ok" = 1 ]; then
	set_runc_args sleep 1000000
	if $RUNC run -d --bundle "$CTR_BENCH/bundle" md-bench-exec </dev/null >/dev/null 2>&1; then
		runc_exec_ms=$(mean_ms "$RUNC exec md-bench-exec true")
		$RUNC delete -f md-bench-exec >/dev/null 2>&1 || true
	fi
fi
ctr_pid=$(md inspect -f '{{.State.Pid}}' md-bench-exec)
nsenter_ms=$(mean_ms "nsenter -t $ctr_pid -m -u -i -n -p true")
report "exec c true (target <= 23 ms, docker 70 ms)" "$exec_ms" ms "runc exec" "$runc_exec_ms"
report "exec c true" "$exec_ms" ms "nsenter -t PID -m -u -i -n -p true" "$nsenter_ms"
md rm -f md-bench-exec >/dev/null

# --- memory: daemon idle with N containers, shim per container ---------------
N=${BENCH_CONTAINERS:-20}
# settle: poll until a process's RSS stops changing (the shim trims its
# memory shortly after start; the daemon's GC returns freed heap)
settled_rss() {
	local pid=$1 prev="" cur i
	for i in $(seq 50); do
		cur=$(rss_mib "$pid")
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 0.2
	done
	echo "$cur"
}
pss_mib() { awk '/^Pss:/ {printf "%.1f", $2/1024}' "/proc/$1/smaps_rollup"; }
daemon_rss0=$(settled_rss "$DAEMON_PID")
ids=()
for i in $(seq "$N"); do
	ids+=("$(md run -d --net none --name "md-bench-idle-$i" busybox sleep 1000000)")
done
shims=()
for id in "${ids[@]}"; do
	pid=$(md inspect -f '{{.State.Pid}}' "$id")
	shims+=("$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")")
done
daemon_rss=$(settled_rss "$DAEMON_PID")
for s in "${shims[@]}"; do settled_rss "$s" >/dev/null; done
shim_rss=$(for s in "${shims[@]}"; do rss_mib "$s"; echo; done | awk '{t+=$1} END {printf "%.1f", t/NR}')
shim_pss=$(for s in "${shims[@]}"; do pss_mib "$s"; echo; done | awk '{t+=$1} END {printf "%.1f", t/NR}')
shim_max=$(for s in "${shims[@]}"; do rss_mib "$s"; echo; done | sort -n | tail -n1)
report "daemon idle RSS, $N containers (target <= 28)" "$daemon_rss" MiB "daemon idle RSS, 0 containers" "$daemon_rss0"
ctd_rss="" ctd_pss=""
if [ -n "$CTD" ]; then
	ctd_shims=()
	for i in $(seq 3); do
		$CTR run -d docker.io/library/busybox:latest "md-bench-ctd-$i" sleep 1000000 >/dev/null
		tpid=$($CTR task ls | awk -v c="md-bench-ctd-$i" '$1 == c {print $2}')
		ctd_shims+=("$(awk '/^PPid:/ {print $2}' "/proc/$tpid/status")")
	done
	for s in "${ctd_shims[@]}"; do settled_rss "$s" >/dev/null; done
	ctd_rss=$(for s in "${ctd_shims[@]}"; do rss_mib "$s"; echo; done | awk '{t+=$1} END {printf "%.1f", t/NR}')
	ctd_pss=$(for s in "${ctd_shims[@]}"; do pss_mib "$s"; echo; done | awk '{t+=$1} END {printf "%.1f", t/NR}')
fi
stop_bench_containerd
trap cleanup EXIT
report "shim RSS, mean of $N (target <= 4.3)" "$shim_rss" MiB "containerd-shim-runc-v2 RSS, mean of 3" "$ctd_rss"
report "shim RSS, largest of $N" "$shim_max" MiB
report "shim PSS, mean of $N (goal <= 2.0, conmon RSS 2.7)" "$shim_pss" MiB "containerd-shim-runc-v2 PSS" "$ctd_pss"
for id in "${ids[@]}"; do md rm -f "$id" >/dev/null; done

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
#   shim RSS / PSS per container       (targets: ≤ 4.3 MiB; containerd-shim 12.9 MiB,
#                                          conmon 2.0 MiB — not installed here)
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
report "shim RSS, mean of $N (target <= 4.3)" "$shim_rss" MiB "containerd-shim (not measured here)" 12.9
report "shim RSS, largest of $N" "$shim_max" MiB
report "shim PSS (binary pages shared), mean of $N" "$shim_pss" MiB
for id in "${ids[@]}"; do md rm -f "$id" >/dev/null; done

# 08-load.sh — the run ratio under load (issue 14: with both cores busy,
# the ratio to `runc run` stays within 1.5× of the one without), sourced by
# bench.sh. minidocker and runc are run alternately and the medians
# compared, first as the machine is, then with two `yes >/dev/null` keeping
# two cores busy. "As the machine is" means no load of ours: on a shared
# machine, say what else ran.

# alternate_medians prints the median ms of `run --rm --net none busybox
# true` and of `runc run` of the same rootfs, run one after the other.
alternate_medians() {
	python3 - "$MD" "$MDH" "${RUNS:-20}" "$CTR_BENCH/bundle" "$CTR_BENCH/runc-root" <<'PY'
import statistics, subprocess, sys, time
md, host, runs, bundle, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def timed(argv):
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
ours = [md, "-H", host, "run", "--rm", "--net", "none", "busybox", "true"]
runc = ["runc", "--root", root, "run", "--bundle", bundle, "md-bench-load"]
a, b = [], []
for i in range(runs + 2):
    x, y = timed(ours), timed(runc)
    if i >= 2:  # warm-up
        a.append(x); b.append(y)
print("%.1f %.1f" % (statistics.median(a), statistics.median(b)))
PY
}

if [ "${runc_ok:-0}" = 1 ]; then
	set_runc_args true
	read -r calm_md_ms calm_runc_ms < <(alternate_medians)
	LOAD_PIDS=()
	for _ in 1 2; do
		yes >/dev/null &
		LOAD_PIDS+=($!)
	done
	stop_load() { kill "${LOAD_PIDS[@]}" 2>/dev/null; wait "${LOAD_PIDS[@]}" 2>/dev/null || true; }
	trap 'stop_load; cleanup' EXIT
	read -r busy_md_ms busy_runc_ms < <(alternate_medians)
	stop_load
	trap cleanup EXIT
	calm_ratio=$(python3 -c "print('%.2f' % ($calm_md_ms / $calm_runc_ms))")
	busy_ratio=$(python3 -c "print('%.2f' % ($busy_md_ms / $busy_runc_ms))")
	report "run --rm --net none (median, alternated)" "$calm_md_ms" ms "runc run (median, alternated)" "$calm_runc_ms"
	report "run --rm --net none, 2 cores busy" "$busy_md_ms" ms "runc run, 2 cores busy" "$busy_runc_ms"
	report "run/runc ratio busy (goal <= 1.5x the other)" "$busy_ratio" x "run/runc ratio without our load" "$calm_ratio"
else
	report "run ratio under load: n/a (no runc baseline, see 04-containers)" "" ""
fi

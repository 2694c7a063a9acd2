# 07-scale.sh — many containers and many cycles (issue 14), sourced by bench.sh.
#
#   100 containers started by 8 parallel clients    vs  the same with 8 parallel `runc run -d`
#   ps with 100 running                             vs  ps with 0
#   daemon RSS and the sum of shim RSS, 100 running
#   1000 run --rm cycles: the daemon's RSS, open fds and goroutines sampled
#   every 100 cycles, with the growth named (flat or linear)
#
# Knobs: SCALE_CONTAINERS (100), SCALE_CLIENTS (8), SCALE_CYCLES (1000),
# SCALE_CYCLE_SECONDS (600: the cycles stop there, and say so).

SCALE_BENCH=$BENCH_DIR/scale
mkdir -p "$SCALE_BENCH"
SCALE_N=${SCALE_CONTAINERS:-100}
SCALE_P=${SCALE_CLIENTS:-8}
md image inspect busybox >/dev/null 2>&1 || md load -i "$BUSYBOX_TAR" >/dev/null
ms_clock() { python3 -c 'import time; print(int(time.monotonic()*1000))'; }
# daemon_info FIELD… prints fields of GET /info (our CLI's info has no --format)
daemon_info() {
	curl -fs --unix-socket "$BENCH_DIR/md.sock" http://d/info |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])' "$@"
}

# --- ps with none running, then 100 started by 8 clients --------------------
ps0_ms=$(mean_ms "$MD -H $MDH ps")
t0=$(ms_clock)
seq "$SCALE_N" | xargs -P "$SCALE_P" -I{} "$MD" -H "$MDH" run -d --net none --name "scale-{}" busybox sleep 1000000 >/dev/null ||
	echo "07-scale: some of the $SCALE_N runs failed" >&2
t1=$(ms_clock)
scale_ms=$((t1 - t0))
running=$(md ps -q | wc -l)

runc_scale_ms=""
if [ "${runc_ok:-0}" = 1 ]; then # 04-containers.sh made the bundle and checked runc
	set_runc_args sleep 1000000
	SCALE_RUNC="runc --root $SCALE_BENCH/runc-root"
	t0=$(ms_clock)
	seq "$SCALE_N" | xargs -P "$SCALE_P" -I{} sh -c "$SCALE_RUNC run -d --bundle $CTR_BENCH/bundle scale-{} </dev/null >/dev/null 2>&1"
	t1=$(ms_clock)
	runc_scale_ms=$((t1 - t0))
	seq "$SCALE_N" | xargs -P "$SCALE_P" -I{} $SCALE_RUNC delete -f scale-{} >/dev/null 2>&1 || true
fi
report "$SCALE_N containers by $SCALE_P parallel clients ($running up)" "$scale_ms" ms \
	"$SCALE_P parallel runc run -d" "$runc_scale_ms"

psn_ms=$(mean_ms "$MD -H $MDH ps")
report "ps with $running running" "$psn_ms" ms "ps with 0 running" "$ps0_ms"

# RSS counts the binary's shared pages in every shim; PSS splits them
shim_rss_sum=0 shim_pss_sum=0
for pid in $(md ps -q | xargs "$MD" -H "$MDH" inspect -f '{{.State.Pid}}'); do
	shim=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
	shim_rss_sum=$(python3 -c "print('%.1f' % ($shim_rss_sum + $(rss_mib "$shim")))")
	shim_pss_sum=$(python3 -c "print('%.1f' % ($shim_pss_sum + $(awk '/^Pss:/ {printf "%.3f", $2/1024}' "/proc/$shim/smaps_rollup")))")
done
report "daemon RSS with $running running" "$(rss_mib "$DAEMON_PID")" MiB
report "sum of shim RSS with $running running" "$shim_rss_sum" MiB "sum of their PSS" "$shim_pss_sum"
md ps -aq | xargs -r -P "$SCALE_P" -n 10 "$MD" -H "$MDH" rm -f >/dev/null

# --- run/rm cycles: does anything grow? --------------------------------------
SCALE_CYCLES=${SCALE_CYCLES:-1000}
python3 - "$MD" "$MDH" "$DAEMON_PID" "$BENCH_DIR/md.sock" "$SCALE_CYCLES" "${SCALE_CYCLE_SECONDS:-600}" \
	>"$SCALE_BENCH/cycles.txt" <<'PY'
import json, os, socket, subprocess, sys, time
md, host, pid, sock, cycles, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])

def info():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"GET /info HTTP/1.0\r\nHost: d\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    d = json.loads(data.split(b"\r\n\r\n", 1)[1])
    return d["NGoroutines"], d["NFd"]

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])

def settle():
    # rm's last step, removing the container's directory, runs in the
    # background (a goroutine holding two directory fds). Sample after it,
    # or a removal still under way reads as growth.
    trash = os.path.join(os.path.dirname(sock), "data", "containers")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(n.startswith(".trash-") for n in os.listdir(trash)):
        time.sleep(0.01)

def sample(n):
    settle()
    g, fd = info()
    print(n, rss_kib(), fd, g, flush=True)

start = time.monotonic()
sample(0)
for i in range(1, cycles + 1):
    subprocess.run([md, "-H", host, "run", "--rm", "--net", "none", "busybox", "true"], check=True)
    if i % 100 == 0 or i == cycles:
        sample(i)
    if time.monotonic() - start > limit:
        if i % 100:
            sample(i)
        print("stopped", i, file=sys.stderr)
        break
PY
# growth: the least-squares slope per 100 cycles, after the first 100 (warm-up:
# caches, the GC's heap goal); "flat" when what it adds over the whole run is
# within the noise named for each figure
python3 - "$SCALE_BENCH/cycles.txt" >"$SCALE_BENCH/growth.txt" <<'PY'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
done = rows[-1][0]
warm = [r for r in rows if r[0] >= 100] or rows
def slope(col):
    xs = [r[0] for r in warm]; ys = [r[col] for r in warm]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 100
for name, col, unit, scale, noise in (("daemon RSS", 1, "MiB", 1 / 1024, 3.0), ("daemon open fds", 2, "", 1, 2), ("daemon goroutines", 3, "", 1, 2)):
    s = slope(col) * scale
    added = s * (warm[-1][0] - warm[0][0]) / 100
    kind = "flat" if abs(added) <= noise else "linear"
    first, last = rows[0][col] * scale, rows[-1][col] * scale
    print(f"{name}|{first:.1f} -> {last:.1f} {unit} over {done} cycles, {s:+.2f}/100 cycles after warm-up: {kind}")
PY
cycles_done=$(tail -n1 "$SCALE_BENCH/cycles.txt" | awk '{print $1}')
[ "$cycles_done" -lt "$SCALE_CYCLES" ] && echo "07-scale: stopped after $cycles_done of $SCALE_CYCLES cycles (SCALE_CYCLE_SECONDS)" >&2
while IFS='|' read -r name text; do
	report "$name, $cycles_done run --rm cycles" "$text" ""
done <"$SCALE_BENCH/growth.txt"

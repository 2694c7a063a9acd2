# 05-networking.sh — networking (article section 5), sourced by bench.sh.
#
# 1. What the bridge costs a container start: `run --rm busybox true` on the
#    default bridge against `--net none` (target: ≤ 15 ms more; docker was
#    measured at ~60-75 ms more on this machine kind), and against `runc run`
#    of the same busybox rootfs (target: ≤ 1.5x).
# 2. What -p costs bytes: 200 MB fetched from a container's httpd through the
#    published port on 127.0.0.1 (DNAT + route_localnet + masquerade, all in
#    the kernel) against the same fetch from the container's IP directly
#    (target: throughput ratio ≥ 0.8). Only 127.0.0.1 and the container's
#    address on the bench bridge are contacted.

md image inspect busybox >/dev/null 2>&1 || md load -i "$BUSYBOX_TAR" >/dev/null
NET_BENCH=$BENCH_DIR/net
mkdir -p "$NET_BENCH"

# The two are run alternately (bridge, none, bridge, ...) and the medians
# compared, so that load from other work on the machine hits both alike.
read -r bridge_ms none_ms < <(python3 - "$MD" "$MDH" "${RUNS:-20}" <<'PY'
import statistics, subprocess, sys, time
md, host, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def once(*extra):
    t = time.perf_counter()
    subprocess.run([md, "-H", host, "run", "--rm", *extra, "busybox", "true"], check=True)
    return (time.perf_counter() - t) * 1000
for _ in range(3):
    once(); once("--net", "none")
b, n = [], []
for _ in range(runs):
    b.append(once()); n.append(once("--net", "none"))
print("%.1f %.1f" % (statistics.median(b), statistics.median(n)))
PY
)
report "run --rm busybox true (bridge, median)" "$bridge_ms" ms "run --rm --net none busybox true" "$none_ms"
report "bridge networking cost per run (bridge - none)" "$(python3 -c "print('%.1f' % ($bridge_ms - $none_ms))")" ms \
	"target" 15

# runc run of the same rootfs (busybox from the same binary), lo-only netns
if command -v runc >/dev/null; then
	bundle=$NET_BENCH/runc-bundle
	mkdir -p "$bundle/rootfs"
	go run ./scripts/mkbusybox -rootfs-tar "$NET_BENCH/rootfs.tar" >/dev/null 2>&1 &&
		tar -C "$bundle/rootfs" -xf "$NET_BENCH/rootfs.tar" &&
		(cd "$bundle" && runc spec) &&
		python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"))
PY
	if [ -f "$bundle/config.json" ]; then
		runc_ms=$(mean_ms "runc --root $NET_BENCH/runc-state run --bundle $bundle mdbench-runc")
		report "run --rm busybox true (bridge, median)" "$bridge_ms" ms "runc run (same rootfs, own netns)" "$runc_ms"
	else
		echo "05-networking: could not prepare a runc bundle; skipping the runc baseline" >&2
	fi
fi

# 200 MB through -p vs to the container's IP
NB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
md run -d --name nwbench -p "127.0.0.1:$NB_PORT:80" busybox sh -c \
	'mkdir /www && dd if=/dev/zero of=/www/big bs=1M count=200 2>/dev/null && exec httpd -f -p 80 -h /www' >/dev/null
NB_IP=$(md inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' nwbench)
for _ in $(seq 300); do curl -fsI "http://127.0.0.1:$NB_PORT/big" >/dev/null 2>&1 && break; sleep 0.1; done
port_ms=$(RUNS=5 mean_ms "curl -fs -o /dev/null http://127.0.0.1:$NB_PORT/big")
direct_ms=$(RUNS=5 mean_ms "curl -fs -o /dev/null http://$NB_IP/big")
report "200 MB via -p 127.0.0.1:$NB_PORT" "$port_ms" ms "200 MB to the container IP directly" "$direct_ms"
report "-p throughput relative to direct (target >= 0.8)" "$(python3 -c "print('%.2f' % ($direct_ms / $port_ms))")" x
md rm -f nwbench >/dev/null

# The same two figures without the CLI, API and runtime around them: the
# network library's own Attach/Detach (a namespace, a veth pair, an IP, a
# route; plus the DNAT rules with one port) and a 200 MB TCP stream through
# 127.0.0.1:PORT against the container's IP (minidocker/network benchmarks).
go test -run '^$' -bench 'BenchmarkAttachDetach|BenchmarkThroughput' -benchtime 20x ./minidocker/network 2>/dev/null |
	awk '/^BenchmarkAttachDetach\/noports/ {print "noports", $5, $7} /^BenchmarkAttachDetach\/oneport/ {print "oneport", $5, $7}
	     /^BenchmarkThroughput/ {print "tput", $5, $7, $9}' |
	while read -r kind a b c; do
		case $kind in
		noports) report "network.Attach, no ports (in-process)" "$a" ms "network.Detach" "$b" ;;
		oneport) report "network.Attach, one -p (in-process)" "$a" ms "network.Detach" "$b" ;;
		tput) report "200 MB stream via 127.0.0.1:PORT (in-process)" "$a" MB/s "straight to the container IP" "$b" ;;
		esac
	done

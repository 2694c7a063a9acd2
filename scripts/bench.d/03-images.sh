# 03-images.sh — images and registry (article section 3), sourced by bench.sh.
# Loads busybox into the bench daemon (later parts use it), then measures a
# pull of a ~50 MB single-layer image from our own registry against
# `crane pull --format=oci` (go-containerregistry's CLI: no unpack) of the
# same image in the same run, registry push/pull throughput, and save/load.

md load -i "$BUSYBOX_TAR" >/dev/null

IMG_BENCH=$BENCH_DIR/images
mkdir -p "$IMG_BENCH/rootfs"

# crane, pinned, into a private GOBIN (a Go module from the proxy; cached after the first time).
CRANE=$IMG_BENCH/gobin/crane
if ! GOFLAGS= GOBIN=$IMG_BENCH/gobin go install github.com/google/go-containerregistry/cmd/crane@v0.22.1 >"$IMG_BENCH/crane-install.log" 2>&1; then
	echo "03-images: could not install crane (see below); skipping the crane baseline" >&2
	cat "$IMG_BENCH/crane-install.log" >&2
	CRANE=""
fi

# A ~50 MB single-layer image: random (incompressible) data, as `import`.
head -c 50000000 /dev/urandom >"$IMG_BENCH/rootfs/data.bin"
tar -C "$IMG_BENCH/rootfs" -cf "$IMG_BENCH/rootfs.tar" .
rm -rf "$IMG_BENCH/rootfs"
md import -c 'CMD ["sh"]' "$IMG_BENCH/rootfs.tar" bench/big:v1 >/dev/null
rm -f "$IMG_BENCH/rootfs.tar"

# Our registry on a free loopback port (127.0.0.0/8 is insecure by default).
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$REG_PORT
"$MD" registry serve --addr "$REG" --root "$IMG_BENCH/registry" >"$IMG_BENCH/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 200); do curl -fs "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
stop_bench_registry() { kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true; }

md tag bench/big:v1 "$REG/big:v1"
ms_now() { date +%s%N | cut -c1-13; }
t0=$(ms_now)
md push "$REG/big:v1" >/dev/null
t1=$(ms_now)
blob_mb=$(md image inspect "$REG/big:v1" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)[0]["Size"]/1e6,1))')
push_ms=$((t1 - t0))
report "registry push of a ${blob_mb} MB layer (first push)" "$push_ms" ms
report "registry push throughput" "$(python3 -c "print('%.1f' % ($blob_mb/($push_ms/1000)))")" MB/s

# Nothing of it left locally, so every pull downloads and unpacks the whole layer.
md rmi bench/big:v1 "$REG/big:v1" >/dev/null

RUNS_IMG=${RUNS_IMG:-10}
# CPU time is shown next to the wall time: on a busy machine it moves far
# less. hyperfine reports the command's own (the CLI's, crane's); the
# daemon's is read from /proc around the whole measurement (warm-ups and
# the rmi that prepares each run included, spread over the runs).
cpu_ms() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % ((r["user"]+r["system"])*1000))' "$BENCH_DIR/h.json"; }
daemon_ticks() { awk '{print $14+$15}' "/proc/$DAEMON_PID/stat"; }
ticks0=$(daemon_ticks)
pull_ms=$(RUNS=$RUNS_IMG mean_ms --prepare "bash -c '\"$MD\" -H \"$MDH\" rmi $REG/big:v1 >/dev/null 2>&1 || true'" \
	"$MD -H $MDH pull -q $REG/big:v1")
pull_cpu=$(python3 -c "print('%.1f' % ($(cpu_ms) + ($(daemon_ticks) - $ticks0) * 1000 / $(getconf CLK_TCK) / ($RUNS_IMG + 3)))")
crane_ms=""
crane_cpu=""
if [ -n "$CRANE" ]; then
	crane_ms=$(RUNS=$RUNS_IMG mean_ms --prepare "rm -rf $IMG_BENCH/oci" \
		"$CRANE pull --insecure --format=oci $REG/big:v1 $IMG_BENCH/oci")
	crane_cpu=$(cpu_ms)
	rm -rf "$IMG_BENCH/oci"
fi
report "pull ${blob_mb} MB image (download+unpack)" "$pull_ms" ms "crane pull --format=oci (no unpack)" "$crane_ms"
report "pull CPU time (daemon + CLI)" "$pull_cpu" ms "crane pull CPU time" "$crane_cpu"
report "registry pull throughput (minidocker pull)" "$(python3 -c "print('%.1f' % ($blob_mb/($pull_ms/1000)))")" MB/s
[ -n "$crane_ms" ] && report "registry pull throughput (crane)" "$(python3 -c "print('%.1f' % ($blob_mb/($crane_ms/1000)))")" MB/s

# save and load of the same image.
save_ms=$(RUNS=$RUNS_IMG mean_ms "$MD -H $MDH save -o $IMG_BENCH/big.tar $REG/big:v1")
report "save ${blob_mb} MB image (save -o)" "$save_ms" ms
ticks0=$(daemon_ticks)
load_ms=$(RUNS=$RUNS_IMG mean_ms --prepare "bash -c '\"$MD\" -H \"$MDH\" rmi $REG/big:v1 >/dev/null 2>&1 || true'" \
	"$MD -H $MDH load -q -i $IMG_BENCH/big.tar")
load_cpu=$(python3 -c "print('%.1f' % ($(cpu_ms) + ($(daemon_ticks) - $ticks0) * 1000 / $(getconf CLK_TCK) / ($RUNS_IMG + 3)))")
report "load ${blob_mb} MB image (load -i, verify+unpack)" "$load_ms" ms
report "load CPU time (daemon + CLI)" "$load_cpu" ms

md rmi "$REG/big:v1" >/dev/null 2>&1 || true
rm -f "$IMG_BENCH/big.tar"
stop_bench_registry

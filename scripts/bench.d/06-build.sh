# 06-build.sh — Dockerfile builds (article section 4), sourced by bench.sh.
# The issue's 3-instruction build (FROM busybox, COPY a file, RUN echo, CMD),
# cold (--no-cache: every step made again, RUN in a container on the
# default bridge) and cached (every step a cache hit), and a 10-step build,
# each through the whole CLI (context tar, POST /build, stream). The
# baseline is docker's legacy builder (the one minidocker reimplements),
# measured in the same run on a private dockerd when dockerd is installed
# (issue 14: cached ≤ 0.3×); without dockerd it says n/a.

md image inspect busybox >/dev/null 2>&1 || md load -i "$BUSYBOX_TAR" >/dev/null

BUILD_BENCH=$BENCH_DIR/build
mkdir -p "$BUILD_BENCH/small" "$BUILD_BENCH/ten"
printf 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nCMD ["cat", "/hello.txt", "/built.txt"]\n' \
	>"$BUILD_BENCH/small/Dockerfile"
echo "hi from the tiny context" >"$BUILD_BENCH/small/hello.txt"
cat >"$BUILD_BENCH/ten/Dockerfile" <<'DOCKERFILE'
FROM busybox
LABEL bench="ten steps"
ENV GREETING=hello
WORKDIR /app
COPY a.txt /app/a.txt
RUN echo "$GREETING" > /app/greeting
COPY b.txt /app/b.txt
RUN cat /app/a.txt /app/b.txt > /app/ab.txt
EXPOSE 8080
CMD ["cat", "/app/ab.txt"]
DOCKERFILE
echo a >"$BUILD_BENCH/ten/a.txt"
echo b >"$BUILD_BENCH/ten/b.txt"

# warm the cache (and check that the builds work at all)
md build -q -t bench/small:v1 "$BUILD_BENCH/small" >/dev/null
md build -q -t bench/ten:v1 "$BUILD_BENCH/ten" >/dev/null

# the floor of any CLI command at this moment (process start, /_ping, one request)
report "minidocker version (CLI floor, for scale)" "$(mean_ms "$MD -H $MDH version")" ms
# docker's legacy builder on a private dockerd (own sockets, roots, no
# bridge, no iptables), when there is one
legacy_cold="" legacy_cached=""
if command -v dockerd >/dev/null; then
	DD=$BUILD_BENCH/dockerd
	mkdir -p "$DD"
	echo '{}' >"$DD/daemon.json" # dockerd refuses an empty file; no host /etc/docker/daemon.json either
	dockerd --host "unix://$DD/d.sock" --data-root "$DD/data" --exec-root "$DD/exec" --pidfile "$DD/d.pid" \
		--bridge none --iptables=false --ip6tables=false --containerd-namespace mdbench \
		--containerd-plugins-namespace mdbench-plugins --cgroup-parent mdbench-docker \
		--config-file "$DD/daemon.json" >"$DD/log" 2>&1 &
	DD_PID=$!
	stop_bench_dockerd() {
		kill "$DD_PID" 2>/dev/null && wait "$DD_PID" 2>/dev/null || true
		rmdir /sys/fs/cgroup/*/mdbench-docker /sys/fs/cgroup/mdbench-docker 2>/dev/null || true
	}
	trap 'stop_bench_dockerd; cleanup' EXIT
	DDOCK="docker -H unix://$DD/d.sock"
	for _ in $(seq 200); do $DDOCK version >/dev/null 2>&1 && break; sleep 0.05; done
	if $DDOCK load -q -i "$BUSYBOX_TAR" >/dev/null 2>&1 &&
		DOCKER_BUILDKIT=0 $DDOCK build -q -t bench/small:v1 "$BUILD_BENCH/small" >/dev/null 2>&1; then
		legacy_cold=$(DOCKER_BUILDKIT=0 RUNS=10 mean_ms "$DDOCK build -q --no-cache -t bench/small:v1 $BUILD_BENCH/small")
		legacy_cached=$(DOCKER_BUILDKIT=0 mean_ms "$DDOCK build -q -t bench/small:v1 $BUILD_BENCH/small")
	else
		echo "06-build: the private dockerd did not build; no docker baseline" >&2
		tail -5 "$DD/log" >&2
	fi
	stop_bench_dockerd
	trap cleanup EXIT
else
	echo "06-build: dockerd is not installed (only the docker CLI is): the docker baselines are n/a" >&2
fi
report "build, 3 instructions, cold (--no-cache)" \
	"$(RUNS=10 mean_ms "$MD -H $MDH build -q --no-cache -t bench/small:v1 $BUILD_BENCH/small")" ms \
	"docker legacy builder, cold" "$legacy_cold"
report "build, 3 instructions, cached (goal <= 0.3x)" \
	"$(mean_ms "$MD -H $MDH build -q -t bench/small:v1 $BUILD_BENCH/small")" ms \
	"docker legacy builder, cached" "$legacy_cached"
report "build, 10 steps, cold (--no-cache)" \
	"$(RUNS=10 mean_ms "$MD -H $MDH build -q --no-cache -t bench/ten:v1 $BUILD_BENCH/ten")" ms
report "build, 10 steps, cached" \
	"$(mean_ms "$MD -H $MDH build -q -t bench/ten:v1 $BUILD_BENCH/ten")" ms
# the real docker CLI's classic-builder path against the same daemon
if command -v docker >/dev/null; then
	report "docker build (CLI 28) → minidockerd, cached" \
		"$(DOCKER_BUILDKIT=0 DOCKER_CONFIG=$BUILD_BENCH/dc mean_ms "docker -H $MDH build -q -t bench/small:v1 $BUILD_BENCH/small")" ms \
		"docker legacy builder, cached" "$legacy_cached"
fi
# the builder alone (no CLI process, no HTTP): the same build on an image
# store with RUN in a real container (--network none), cold and cached
go test -run '^$' -bench 'BenchmarkRealBuild' -benchtime 10x ./minidocker/build | awk '/^BenchmarkRealBuild/ {print}' |
	while read -r name _ ns _; do
		case $name in
		*cold*) report "builder in-process, 3 instructions, cold" "$(python3 -c "print('%.1f' % ($ns/1e6))")" ms "docker legacy builder, cold" "$legacy_cold" ;;
		*cached*) report "builder in-process, 3 instructions, cached" "$(python3 -c "print('%.1f' % ($ns/1e6))")" ms "docker legacy builder, cached" "$legacy_cached" ;;
		esac
	done

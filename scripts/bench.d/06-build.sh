# 06-build.sh — Dockerfile builds (article section 4), sourced by bench.sh.
# The issue's 3-instruction build (FROM busybox, COPY a file, RUN echo, CMD),
# cold (--no-cache: every step made again, RUN in a container on the
# default bridge) and cached (every step a cache hit), and a 10-step build,
# each through the whole CLI (context tar, POST /build, stream). Docker's
# figures were measured on this machine kind with docker 20.10 (legacy
# builder 579 ms cold / 61 ms cached; BuildKit 303 ms cold / 100 ms cached);
# the ratios are against the legacy builder, the one minidocker reimplements.

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
report "build, 3 instructions, cold (--no-cache)" \
	"$(RUNS=10 mean_ms "$MD -H $MDH build -q --no-cache -t bench/small:v1 $BUILD_BENCH/small")" ms \
	"docker 20.10 legacy builder, cold" 579
report "build, 3 instructions, cached" \
	"$(mean_ms "$MD -H $MDH build -q -t bench/small:v1 $BUILD_BENCH/small")" ms \
	"docker 20.10 legacy builder, cached" 61
report "build, 10 steps, cold (--no-cache)" \
	"$(RUNS=10 mean_ms "$MD -H $MDH build -q --no-cache -t bench/ten:v1 $BUILD_BENCH/ten")" ms
report "build, 10 steps, cached" \
	"$(mean_ms "$MD -H $MDH build -q -t bench/ten:v1 $BUILD_BENCH/ten")" ms
# the real docker CLI's classic-builder path against the same daemon
if command -v docker >/dev/null; then
	report "docker build (CLI 28) → minidockerd, cached" \
		"$(DOCKER_BUILDKIT=0 DOCKER_CONFIG=$BUILD_BENCH/dc mean_ms "docker -H $MDH build -q -t bench/small:v1 $BUILD_BENCH/small")" ms \
		"docker 20.10 legacy builder, cached" 61
fi
# the builder alone (no CLI process, no HTTP): the same build on an image
# store with RUN in a real container (--network none), cold and cached
go test -run '^$' -bench 'BenchmarkRealBuild' -benchtime 10x ./minidocker/build | awk '/^BenchmarkRealBuild/ {print}' |
	while read -r name _ ns _; do
		case $name in
		*cold*) report "builder in-process, 3 instructions, cold" "$(python3 -c "print('%.1f' % ($ns/1e6))")" ms "docker 20.10 legacy builder, cold" 579 ;;
		*cached*) report "builder in-process, 3 instructions, cached" "$(python3 -c "print('%.1f' % ($ns/1e6))")" ms "docker 20.10 legacy builder, cached" 61 ;;
		esac
	done

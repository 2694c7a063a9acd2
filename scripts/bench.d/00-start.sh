# 00-start.sh — what one minidocker process costs before main (issue 14:
# goal ≤ 2× a static Go hello-world), sourced by bench.sh. A container start
# pays it three times (CLI, shim, init), exec and build once.
#
#   minidocker nosuchcmd   vs  a static Go hello-world built here (CGO off)
#                          vs  the same hello-world linking every standard
#                              package minidocker links (what is left is
#                              our size and our dependencies' inits)
#                          vs  `runc --version`
# and, as profiles that hardly move under load: the binary's size, the
# page faults of one start (perf stat, when perf is installed) and what the
# package inits allocate (GODEBUG=inittrace=1), with the five largest.
# Real commands cost more than nosuchcmd (kong builds their flags): `run`,
# `ps` and `exec` against a socket that does not exist parse the whole line
# and fail at connect, so they show the CLI's own start of each, no daemon
# involved.

START_BENCH=$BENCH_DIR/start
mkdir -p "$START_BENCH/hello"
cat >"$START_BENCH/hello/main.go" <<'EOF'
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
EOF
printf 'module hello\n\ngo 1.22\n' >"$START_BENCH/hello/go.mod"
HELLO=$START_BENCH/hello/hello
(cd "$START_BENCH/hello" && CGO_ENABLED=0 GOFLAGS= go build -trimpath -o "$HELLO" .)

# A second baseline: a hello-world that links every standard-library package
# minidocker links (blank imports, so their inits run) and nothing else.
# Against it, what is left is minidocker's own size (more types and itabs
# for the runtime to set up, deeper stacks to copy) and the inits of its
# third-party dependencies.
STDONLY=$START_BENCH/stdonly/stdonly
mkdir -p "$START_BENCH/stdonly"
{
	printf 'package main\n\nimport (\n'
	CGO_ENABLED=0 go list -deps ./minidocker | grep -v -e '\.' -e internal -e '^vendor/' -e '^unsafe$' -e '^os$' | sed 's/.*/\t_ "&"/'
	printf '\t"os"\n)\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n'
} >"$START_BENCH/stdonly/main.go"
printf 'module stdonly\n\ngo 1.22\n' >"$START_BENCH/stdonly/go.mod"
(cd "$START_BENCH/stdonly" && CGO_ENABLED=0 GOFLAGS= go build -trimpath -o "$STDONLY" .)

# nosuchcmd exits 2 after the usage error: -i lets hyperfine accept that
start_ms=$(mean_ms -i "$MD nosuchcmd")
hello_ms=$(mean_ms "$HELLO")
stdonly_ms=$(mean_ms "$STDONLY")
report "process start (minidocker nosuchcmd, goal <= 2x)" "$start_ms" ms "static Go hello-world" "$hello_ms"
report "process start (minidocker nosuchcmd)" "$start_ms" ms "hello-world + our std packages" "$stdonly_ms"
report "hello-world + our std packages" "$stdonly_ms" ms "static Go hello-world" "$hello_ms"
if command -v runc >/dev/null; then
	report "process start (minidocker nosuchcmd)" "$start_ms" ms "runc --version" "$(mean_ms "runc --version")"
fi

report "binary size" "$(python3 -c "import os; print('%.1f' % (os.path.getsize('$MD')/2**20))")" MiB \
	"static Go hello-world" "$(python3 -c "import os; print('%.1f' % (os.path.getsize('$HELLO')/2**20))")"
if command -v perf >/dev/null; then
	faults() { perf stat -x, -e page-faults -r 20 "$@" 2>&1 >/dev/null | awk -F, '/page-faults/ {print $1}'; }
	report "page faults of one start" "$(faults "$MD" nosuchcmd)" "" "static Go hello-world" "$(faults "$HELLO")"
	report "page faults of one start" "$(faults "$MD" nosuchcmd)" "" "hello-world + our std packages" "$(faults "$STDONLY")"
fi
# the real CLI start of two commands (no goal): they fail at connect, hence -i
NOSOCK="-H unix:///nonexistent.sock"
for line in "run --rm busybox true" "ps" "exec c true"; do
	report "CLI start (minidocker $line)" "$(mean_ms -i "$MD $NOSOCK $line")" ms "static Go hello-world" "$hello_ms"
	if command -v perf >/dev/null; then
		# shellcheck disable=SC2086 # the line is words
		report "page faults of one start ($line)" "$(faults "$MD" $NOSOCK $line)" "" "static Go hello-world" "$(faults "$HELLO")"
	fi
done
GODEBUG=inittrace=1 "$MD" nosuchcmd 2>"$START_BENCH/inittrace" >/dev/null || true
read -r init_kb init_allocs init_pkgs < <(awk '/^init / {b += $8; a += $10; n++} END {printf "%.0f %d %d\n", b/1024, a, n}' "$START_BENCH/inittrace")
report "package inits: $init_pkgs with work, $init_allocs allocs" "$init_kb" KiB
echo "   largest inits by bytes allocated (inittrace):"
# awk 'NR <= 5', not head: head leaves at line 5, and sort, killed by
# SIGPIPE when it has more to write, fails the pipeline (pipefail) and so the bench
awk '/^init / {printf "   %8.1f KiB %6d allocs  %s\n", $8/1024, $10, $2}' "$START_BENCH/inittrace" | sort -rn | awk 'NR <= 5'

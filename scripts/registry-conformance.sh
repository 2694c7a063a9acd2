#!/usr/bin/env bash
# Run the OCI distribution-spec conformance tool against minidocker's registry.
#
#   scripts/registry-conformance.sh            # full default profile (spec 1.1, every workflow on)
#   OCI_VERSION=dev scripts/registry-conformance.sh   # also upload cancel, digest headers, ?tag= pushes
#   RESULTS_DIR=out scripts/registry-conformance.sh   # keep report.html, results.yaml, junit.xml
#   MINIDOCKER_BIN=./minidocker scripts/registry-conformance.sh  # test this binary
#   REGISTRY_RUNNER=1 scripts/registry-conformance.sh             # test package registry alone
#
# By default it builds the minidocker binary and runs `minidocker registry
# serve`; if that binary cannot be built (someone else's package is broken
# mid-change) it falls back to a ten-line runner around registry.Serve.
#
# What it does: builds the pinned conformance tool in a temp module (pin and
# checksums: minidocker/registry/testdata/conformance/go.{mod,sum}, so the tool
# never enters our go.mod), starts a registry on 127.0.0.1:<free port> with a
# temp root, runs the tool with OCI_REGISTRY=… OCI_TLS=disabled, prints its
# summary and exits non-zero if anything failed (or errored, or was skipped).
# Building the tool needs the Go module proxy (or a warm module cache).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
pin="$repo/minidocker/registry/testdata/conformance"
work=$(mktemp -d "${TMPDIR:-/tmp}/registry-conformance.XXXXXX")
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

export GOWORK=off

echo "== building the conformance tool ($(grep -o 'distribution-spec/conformance v[^ ]*' "$pin/go.mod"))"
mkdir -p "$work/tool"
cp "$pin/go.mod" "$pin/go.sum" "$work/tool/"
(cd "$work/tool" && GOFLAGS=-mod=readonly go build -o "$work/conformance" github.com/opencontainers/distribution-spec/conformance)

# A free loopback port: bind port 0, read what the kernel chose, release it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))
addr="127.0.0.1:$port"
root="$work/root"

if [[ -z "${MINIDOCKER_BIN:-}" && -z "${REGISTRY_RUNNER:-}" ]]; then
	echo "== building minidocker"
	if (cd "$repo" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$work/minidocker" ./minidocker) 2>"$work/build.log" &&
		"$work/minidocker" registry serve --help >/dev/null 2>&1; then
		MINIDOCKER_BIN="$work/minidocker"
	else
		echo "   (no usable minidocker binary, see below; using a registry.Serve runner instead)"
		sed 's/^/   /' "$work/build.log" | tail -n 5
	fi
fi

if [[ -n "${MINIDOCKER_BIN:-}" ]]; then
	echo "== starting $MINIDOCKER_BIN registry serve on $addr"
	"$MINIDOCKER_BIN" registry serve --addr "$addr" --root "$root" >"$work/registry.log" 2>&1 &
	server_pid=$!
else
	# No CLI needed: a ten-line main that calls registry.Serve, built inside
	# our module (go build accepts a file outside the tree and resolves its
	# imports against the module it runs in).
	echo "== building a throwaway registry runner"
	mkdir -p "$work/runner"
	cat >"$work/runner/main.go" <<'GO'
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/minidocker/minidocker/minidocker/registry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := registry.Serve(ctx, registry.Options{Addr: os.Args[1], Root: os.Args[2]}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
GO
	(cd "$repo" && GOFLAGS=-mod=mod go build -o "$work/registry" "$work/runner/main.go")
	echo "== starting the registry on $addr"
	"$work/registry" "$addr" "$root" >"$work/registry.log" 2>&1 &
	server_pid=$!
fi

ready=""
for _ in $(seq 1 100); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/v2/" 2>/dev/null || true)
	if [[ -n "$code" && "$code" != 000 ]]; then ready=1; break; fi
	if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
	sleep 0.1
done
if [[ -z "$ready" ]]; then
	echo "the registry did not come up on $addr:" >&2
	tail -n 20 "$work/registry.log" >&2
	exit 1
fi

echo "== running the conformance tool (OCI_VERSION=${OCI_VERSION:-1.1})"
mkdir -p "$work/results"
status=0
(cd "$work/results" &&
	OCI_REGISTRY="$addr" OCI_TLS=disabled OCI_RESULTS_DIR="$work/results" \
		"$work/conformance" >"$work/conformance.out" 2>"$work/conformance.err") || status=$?

# The summary: result line, counts, then the per-API and per-data tables.
sed -n '/^OCI Conformance Result/,$p' "$work/conformance.out"
if [[ -n "${RESULTS_DIR:-}" ]]; then
	mkdir -p "$RESULTS_DIR"
	cp "$work/results/"* "$work/conformance.out" "$work/conformance.err" "$work/registry.log" "$RESULTS_DIR/"
	echo "results kept in $RESULTS_DIR"
fi

count() { awk -v k="$1" '$1 ~ "^"k"\\.+:$" {print $2; exit}' "$work/conformance.out"; }
fail=$(count FAIL); err=$(count Error); skip=$(count Skip); pass=$(count Pass)
echo "== passed ${pass:-?}, failed ${fail:-?}, errors ${err:-?}, skipped ${skip:-?}"
if [[ $status -ne 0 || "${fail:-x}" != 0 || "${err:-x}" != 0 || "${skip:-x}" != 0 ]]; then
	echo "conformance FAILED (tool exit status $status); failing tests:" >&2
	sed -n '/^Errors:/,/^API conformance/p' "$work/conformance.out" >&2 || true
	tail -n 20 "$work/conformance.err" >&2 || true
	exit 1
fi
echo "conformance OK"

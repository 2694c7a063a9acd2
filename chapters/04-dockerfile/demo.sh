#!/usr/bin/env bash
# Chapter 04: Dockerfile — build the article's three kinds of images offline
# (a base image, a busybox-httpd front-end, an ENTRYPOINT+CMD application),
# run them, and show the cache at work. Run by scripts/demo.sh (which
# provides `show` and a running daemon). Traffic goes only to 127.0.0.1.
set -euo pipefail
minidocker image inspect busybox >/dev/null 2>&1 || show minidocker load -i "$BUSYBOX_TAR"
WORK=$(mktemp -d /tmp/md-ch04.XXXXXX)
cleanup() { minidocker rm -f ch04-front >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

# the base image: tools, a time zone (a POSIX TZ rule: busybox has no zoneinfo), a WORKDIR
mkdir -p "$WORK/base"
cat >"$WORK/base/Dockerfile" <<'DOCKERFILE'
FROM busybox
LABEL org.example.team="platform"
ENV TZ=CET-1CEST,M3.5.0,M10.5.0/3
RUN mkdir -p /opt/tools && printf '#!/bin/sh\necho tool ran\n' > /opt/tools/hello && chmod +x /opt/tools/hello
ENV PATH=/opt/tools:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
CMD ["sh", "-c", "echo pid=$$ cwd=$(pwd) tz=$TZ"]
DOCKERFILE
show cat "$WORK/base/Dockerfile"
show minidocker build -t ch04/base:1 "$WORK/base"
show minidocker run --rm ch04/base:1                 # CMD is PID 1, in WORKDIR, with ENV
show minidocker run --rm ch04/base:1 date +%Z        # run arguments replace CMD
show minidocker run --rm ch04/base:1 hello

# the front-end image: dist/ served by busybox httpd, EXPOSE feeds -P
mkdir -p "$WORK/front/dist"
echo '<h1>front-end built by minidocker</h1>' >"$WORK/front/dist/index.html"
printf 'FROM ch04/base:1\nCOPY dist/ /www/\nEXPOSE 80\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n' >"$WORK/front/Dockerfile"
show cat "$WORK/front/Dockerfile"
show minidocker build -t ch04/front:1 "$WORK/front"
show minidocker run -d -P --name ch04-front ch04/front:1
show minidocker port ch04-front
PORT=$(minidocker port ch04-front 80/tcp | sed 's/.*://')
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
show curl -s "http://127.0.0.1:$PORT/"
show minidocker rm -f ch04-front

# the application image: ENTRYPOINT is the program, CMD its default arguments
mkdir -p "$WORK/app"
echo 'echo "app started as pid $$ with args: $*"' >"$WORK/app/app.sh"
printf 'FROM ch04/base:1\nCOPY app.sh /app/app.sh\nENTRYPOINT ["sh", "/app/app.sh"]\nCMD ["--port", "8080"]\n' >"$WORK/app/Dockerfile"
show cat "$WORK/app/Dockerfile"
show minidocker build -t ch04/app:1 "$WORK/app"
show minidocker run --rm ch04/app:1
show minidocker run --rm ch04/app:1 --port 9090
show minidocker run --rm --entrypoint echo ch04/app:1 replaced

# the cache: a rebuild hits every step; touching a file keeps it; editing it does not
show minidocker build -t ch04/app:1 "$WORK/app"
show touch "$WORK/app/app.sh"
show minidocker build -t ch04/app:1 "$WORK/app"
echo 'echo "version 2, args: $*"' >"$WORK/app/app.sh"
show minidocker build -t ch04/app:2 "$WORK/app"
show minidocker build -q --no-cache -t ch04/app:2 "$WORK/app"
show minidocker history ch04/front:1

# a failing RUN: docker's message, exit status, nothing left behind
set +e
printf 'FROM busybox\nRUN false\n' | show minidocker build -
echo "exit status: $?"
set -e
show minidocker ps -a
show minidocker rmi ch04/app:1 ch04/app:2 ch04/front:1 ch04/base:1

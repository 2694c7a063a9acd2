#!/usr/bin/env bash
# Chapter 05: networking — the modes, the bridge and its veths, what -p adds
# to iptables, and the article's registry:2 line. Run by scripts/demo.sh
# (which provides `show` and a running daemon). Traffic goes only to
# 127.0.0.1 and to containers on the daemon's bridge.
set -euo pipefail
minidocker image inspect busybox >/dev/null 2>&1 || show minidocker load -i "$BUSYBOX_TAR"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BRIDGE=$(minidocker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' bridge 2>/dev/null ||
	minidocker network inspect bridge | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Options"]["com.docker.network.bridge.name"])')
cleanup() { minidocker rm -f web side registry >/dev/null 2>&1 || true; }
trap cleanup EXIT

# the networks: the default bridge, plus docker's host and none
show minidocker network ls

# bridge (default): lo and eth0 with an address from the bridge's subnet
show minidocker run --rm busybox ip -o -4 addr
show minidocker run --rm busybox ip route
# none: only lo; host: the host's own interfaces and name
show minidocker run --rm --net none busybox ip -o link
show minidocker run --rm --net host busybox hostname

# -p: a web server published on the host's loopback
PORT=$(free_port)
show minidocker run -d --name web -p "127.0.0.1:$PORT:80" busybox httpd -f -p 80 -h /etc
show minidocker ps
show minidocker port web
show ip -br link show master "$BRIDGE"
show iptables -w -t nat -S
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/hostname" && break; sleep 0.1; done
show curl -s "http://127.0.0.1:$PORT/hostname"

# container mode: a second container in web's network namespace reaches it on localhost
show minidocker run --rm --net container:web busybox wget -qO- http://127.0.0.1/hostname
show minidocker rm -f web

# the article's registry:2 line (registry:2 is made here, FROM scratch with our binary)
show bash scripts/mkregistry-image.sh
RPORT=5000
python3 -c 'import socket; socket.socket().bind(("0.0.0.0",5000))' 2>/dev/null || RPORT=$(free_port)
show minidocker run -d -p "$RPORT:5000" --restart always --name registry registry:2
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$RPORT/v2/" && break; sleep 0.1; done
show minidocker tag busybox "localhost:$RPORT/busybox:latest"
show minidocker push "localhost:$RPORT/busybox:latest"
show curl -s "http://127.0.0.1:$RPORT/v2/_catalog"
show curl -s "http://127.0.0.1:$RPORT/v2/busybox/tags/list"
show minidocker rm -f registry
show minidocker rmi "localhost:$RPORT/busybox:latest"

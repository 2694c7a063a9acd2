# Engine skeleton (issue: engine): the client round trip and the daemon's idle memory.
# Baselines: the real docker CLI against the same daemon; dockerd+containerd
# idle RSS on this machine kind was measured at 111.6 MiB (target ≤ 28 MiB).
report "minidocker version (whole process)" "$(mean_ms "$MD -H $MDH version")" ms \
	"docker version (same daemon)" "$(mean_ms "docker -H $MDH version")"
go test -run '^$' -bench 'BenchmarkPing' -benchtime 2000x ./minidocker/api | awk '/^BenchmarkPing/ {print}' |
	while read -r name n ns _; do report "GET /_ping in-process round trip" "$(python3 -c "print('%.1f' % ($ns/1000))")" us; done
sleep_left=$(( 10 - SECONDS )); [ "$sleep_left" -gt 0 ] && sleep "$sleep_left"
report "daemon idle RSS after 10 s" "$(rss_mib "$DAEMON_PID")" MiB "dockerd+containerd idle (measured)" 111.6

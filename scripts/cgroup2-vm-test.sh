#!/usr/bin/env bash
# cgroup2-vm-test.sh — run Go root tests on a cgroup-v2-only kernel.
#
# The dev and CI machines are cgroup v1 hybrids, the course's EL9 machines are
# cgroup v2 only. To prove the v2 code paths, this script boots Debian's own
# kernel (the linux-image-amd64 package, from /boot — not the running kernel)
# under qemu with TCG (KVM does not work on these machines), from an initramfs
# it builds on the fly:
#
#   /bin/busybox (+ its applets)   busybox-static
#   /init                          copies itself onto a tmpfs and switch_roots there
#                                  (pivot_root cannot leave the initramfs root), then
#                                  mounts proc, sys, devtmpfs, tmpfs and cgroup2
#                                  at /sys/fs/cgroup (and nothing of v1), insmods
#                                  the modules, runs every test binary, prints
#                                  "MINIDOCKER-VM-RESULT <pkg> rc=N" per binary and
#                                  "MINIDOCKER-VM-DONE rc=N", then powers off
#   /tests/<pkg>.test              CGO_ENABLED=0 go test -c of each package
#   /pkg/<pkg>/                    the package's testdata/, the test's working dir
#   /lib/modules/*.ko              the modules asked for with -modules, loaded at
#                                  boot in dependency order
#
# The kernel command line is cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1,
# so the guest has no v1 controller at all. The script exits with the tests'
# exit code (2 when the VM did not report one: boot failure or timeout).
#
# Usage: scripts/cgroup2-vm-test.sh [-run REGEXP] [-v] [-timeout SECONDS]
#                                   [-smp N] [-m MB] [-env K=V]... [-add SRC:DST]...
#                                   [-modules overlay,veth,bridge,...] [-minidocker]
#                                   [pkgdir|file.test ...]
#   default pkgdir: ./minidocker/cgroups
#   e.g.  scripts/cgroup2-vm-test.sh -run 'OOM|Memory' ./minidocker/cgroups ./minidocker/libcontainer
#   -env K=V     exported in the guest before the tests run (CI is passed on as it is)
#   -modules L   kernel modules (comma-separated, with their dependencies) to insmod
#                at boot; Debian builds overlay, veth, bridge (+llc, stp),
#                nf_tables, ip_tables, … as modules. None by default.
#   -minidocker  also builds the static minidocker binary into the guest's /bin and
#                exports MINIDOCKER_BIN=/bin/minidocker (testutil.Binary uses it,
#                there is no Go toolchain in the guest to build it)
#   -add SRC:DST copies a host file or directory into the initramfs at DST
#                (a prebuilt static minidocker binary, a rootfs tarball, …): the
#                guest has busybox and nothing else, no Go toolchain, no network.
#
# Needs (apt): qemu-system-x86 linux-image-amd64 busybox-static xz-utils
# (kmod for -modules; both are on a stock Debian); and Go.
# Environment: KERNEL=/boot/vmlinuz-… to choose the kernel, BUSYBOX=path;
#   VM_CACHE=dir for the unpacked vmlinux (default /var/tmp/minidocker-vm-cache),
#   NO_PVH=1 to boot the compressed bzImage through the firmware instead; KEEP=1 keeps the work dir.
set -euo pipefail

run=""
verbose=0
timeout=300
smp=2
mem=512
envs=()
adds=()
modules=""
with_minidocker=0
pkgs=()
while [ $# -gt 0 ]; do
	case "$1" in
	-run) run="$2"; shift 2 ;;
	-run=*) run="${1#-run=}"; shift ;;
	-v) verbose=1; shift ;;
	-timeout) timeout="$2"; shift 2 ;;
	-smp) smp="$2"; shift 2 ;;
	-m) mem="$2"; shift 2 ;;
	-env) envs+=("$2"); shift 2 ;;
	-add) adds+=("$2"); shift 2 ;;
	-modules) modules="$2"; shift 2 ;;
	-minidocker) with_minidocker=1; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
	-*) echo "cgroup2-vm-test: unknown flag $1" >&2; exit 2 ;;
	*) pkgs+=("$1"); shift ;;
	esac
done
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./minidocker/cgroups)

repo=$(cd "$(dirname "$0")/.." && pwd)
here=$(pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }
cd "$repo"

die() { echo "cgroup2-vm-test: $*" >&2; exit 2; }

# --- the kernel: Debian's, from /boot --------------------------------------
kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n1 || true)
fi
[ -n "$kernel" ] && [ -r "$kernel" ] ||
	die "no readable Debian kernel in /boot (apt-get install -y linux-image-amd64; reading it needs root)"
kver=${kernel##*/vmlinuz-}

# Under TCG a third or more of the boot went into the firmware's real-mode
# path and into decompressing the xz kernel in emulated code. qemu can boot an
# uncompressed ELF vmlinux directly through its PVH entry point (Debian's
# kernel has CONFIG_PVH=y), so unpack it once natively and cache it.
# NO_PVH=1 boots the bzImage as it is.
vmlinux_for() {
	local k=$1 cache out magic off tool
	cache=${VM_CACHE:-/var/tmp/minidocker-vm-cache}
	out=$cache/vmlinux-$(basename "$k")-$(stat -c %s-%Y "$k")
	if [ -s "$out" ]; then echo "$out"; return 0; fi
	mkdir -p "$cache" || return 1
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		command -v "$tool" >/dev/null || continue
		off=$(LC_ALL=C grep -obUaP "${magic#*:}" "$k" 2>/dev/null | head -n1 | cut -d: -f1)
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$k" | "$tool" -dc >"$out.tmp" 2>/dev/null
		if [ "$(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
			mv "$out.tmp" "$out"
			echo "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}
boot_kernel=$kernel
if [ "${NO_PVH:-}" != 1 ]; then
	if v=$(vmlinux_for "$kernel"); then
		boot_kernel=$v
	else
		echo "cgroup2-vm-test: could not unpack $kernel, booting the bzImage (slower)" >&2
	fi
fi
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 missing (apt-get install -y qemu-system-x86)"
busybox=""
for b in ${BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
	# static: ldd answers "not a dynamic executable" and fails
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "no static busybox (apt-get install -y busybox-static)"

work=$(mktemp -d /tmp/cgroup2-vm.XXXXXX)
if [ "${KEEP:-}" = 1 ]; then
	echo "cgroup2-vm-test: work dir $work"
else
	trap 'rm -rf "$work"' EXIT
fi
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,tests,pkg,lib/modules,etc,root}

# --- test binaries -----------------------------------------------------------
t0=$(date +%s%N)
for p in "${pkgs[@]}"; do
	[ "$p" = ./minidocker/cgroups ] || p=$(abs "$p")
	if [ -f "$p" ]; then
		name=$(basename "$p" .test)
		cp "$p" "$root/tests/$name.test"
		mkdir -p "$root/pkg/$name"
		continue
	fi
	[ -d "$p" ] || die "$p: no such package directory"
	rel=$(cd "$p" && pwd -P); rel=${rel#"$(pwd -P)"/}
	case "$rel" in /*) die "$p is not inside the repository $repo" ;; esac
	name=$(echo "$rel" | tr '/' '_')
	echo "cgroup2-vm-test: building $rel"
	CGO_ENABLED=0 go test -c -o "$root/tests/$name.test" "./$rel"
	[ -f "$root/tests/$name.test" ] || { echo "cgroup2-vm-test: $rel has no tests"; continue; }
	mkdir -p "$root/pkg/$name"
	[ -d "$rel/testdata" ] && cp -a "$rel/testdata" "$root/pkg/$name/"
done
if [ "$with_minidocker" = 1 ]; then
	echo "cgroup2-vm-test: building the minidocker binary"
	CGO_ENABLED=0 go build -o "$root/bin/minidocker" ./minidocker
	envs+=("MINIDOCKER_BIN=/bin/minidocker")
fi
t1=$(date +%s%N)

# --- busybox, modules, init --------------------------------------------------
cp "$busybox" "$root/bin/busybox"
# Kernel modules to insmod at boot, dependencies first (modinfo from kmod
# resolves names and dependencies). Loading costs ~1 s per few modules under
# TCG (signature checks run emulated), so only on request.
declare -A modseen=()
add_module() {
	local m=$1 f d
	[ -n "${modseen[$m]:-}" ] && return 0
	modseen[$m]=1
	f=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || die "kernel module $m not found for $kver"
	case "$f" in
	builtin | "(builtin)") return 0 ;;
	*.ko) ;;
	*) die "module $m is $f: busybox insmod needs an uncompressed .ko" ;;
	esac
	for d in $(modinfo -k "$kver" -F depends "$m" | tr ',' ' '); do add_module "$d"; done
	cp "$f" "$root/lib/modules/$m.ko"
	echo "$m" >>"$root/modules.list"
}
for m in $(echo "$modules" | tr ',' ' '); do add_module "$m"; done
touch "$root/modules.list"
for a in "${adds[@]+"${adds[@]}"}"; do
	src=${a%%:*} dst=${a#*:}
	[ "$src" != "$a" ] && [ -n "$dst" ] || die "-add wants SRC:DST, got $a"
	src=$(abs "$src")
	[ -e "$src" ] || die "-add: $src does not exist"
	mkdir -p "$root/$(dirname "$dst")"
	cp -a "$src" "$root/$dst"
done
printf '%s' "$run" >"$root/run.pattern"
{
	echo "export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp MINIDOCKER_IN_VM=1"
	[ -n "${CI:-}" ] && echo "export CI='$CI'"
	for e in "${envs[@]+"${envs[@]}"}"; do printf "export '%s'\n" "$e"; done
	echo "VERBOSE=$verbose"
	echo "TESTTIMEOUT=$((timeout > 30 ? timeout - 20 : timeout))s"
} >"$root/env"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo "127.0.0.1 localhost" >"$root/etc/hosts"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
echo
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
# The initramfs root ("rootfs") cannot be pivot_root'ed away from, which
# container runtimes need; so move everything onto a tmpfs and switch_root.
if [ ! -e /.stage2 ]; then
	mkdir -p /newroot
	mount -t tmpfs -o mode=755 root /newroot
	for f in /* /.[!.]*; do
		case "$f" in
		/newroot | "/.[!.]*") ;;
		/proc | /sys | /dev | /tmp | /run) mkdir -p "/newroot$f" ;;
		*) cp -a "$f" /newroot/ ;;
		esac
	done
	touch /newroot/.stage2
	exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup || echo "MINIDOCKER-VM: mounting cgroup2 failed"
hostname minidocker-vm
ip link set lo up 2>/dev/null
for m in $(cat /modules.list); do
	insmod /lib/modules/$m.ko && echo "MINIDOCKER-VM: insmod $m" || echo "MINIDOCKER-VM: insmod $m failed"
done
. /env
RUN=$(cat /run.pattern)
echo "MINIDOCKER-VM: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
rc=0
for t in /tests/*.test; do
	name=$(basename $t .test)
	cd /pkg/$name
	set -- -test.timeout "$TESTTIMEOUT"
	[ "$VERBOSE" = 1 ] && set -- "$@" -test.v
	[ -n "$RUN" ] && set -- "$@" -test.run "$RUN"
	echo "MINIDOCKER-VM: running $name $*"
	$t "$@"
	r=$?
	echo "MINIDOCKER-VM-RESULT $name rc=$r"
	[ $r -ne 0 ] && rc=$r
done
echo "MINIDOCKER-VM-DONE rc=$rc"
sync
poweroff -f
INIT
chmod 755 "$root/init"

# busybox's own cpio writes the newc archive: one package less to install.
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$work/initramfs.cpio"
t2=$(date +%s%N)

# --- boot ----------------------------------------------------------------------
echo "cgroup2-vm-test: booting $kernel ($(du -h "$work/initramfs.cpio" | cut -f1) initramfs, ${mem}M, $smp cpus, timeout ${timeout}s)"
log=$work/console.log
set +e
timeout --foreground -k 5 "$timeout" "$qemu" \
	-accel tcg -cpu max -smp "$smp" -m "$mem" \
	-nographic -no-reboot -nic none \
	-kernel "$boot_kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all panic=-1 quiet loglevel=3" \
	</dev/null 2>&1 | tee "$log" |
	sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//; /^[[:space:]]*$/d'
qrc=${PIPESTATUS[0]}
set -e
t3=$(date +%s%N)

rc=$(sed -n 's/^MINIDOCKER-VM-DONE rc=\([0-9]*\).*/\1/p' "$log" | tr -d '\r' | tail -n1)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
	printf "cgroup2-vm-test: build %.1fs, initramfs %.1fs, boot+tests %.1fs\n", (b-a)/1e9, (c-b)/1e9, (d-c)/1e9 }'
if [ -z "$rc" ]; then
	[ "$qrc" = 124 ] && die "the VM timed out after ${timeout}s without reporting a result"
	die "the VM ended (qemu exit $qrc) without reporting a result"
fi
grep -a '^MINIDOCKER-VM-RESULT' "$log" | tr -d '\r' | sed 's/^/cgroup2-vm-test: /'
exit "$rc"

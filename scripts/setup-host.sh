#!/usr/bin/env bash
# setup-host.sh — prepare a Debian 12 or EL8/EL9 machine to build, run and test minidocker.
#
#   sudo scripts/setup-host.sh                 # packages + sysctls + Go check
#   sudo scripts/setup-host.sh --with-vagrant  # also Debian's vagrant + vagrant-libvirt (or SETUP_VAGRANT=1)
#
# Idempotent: a second run installs nothing, rewrites nothing and finishes in about a second.
# What it does (chapters/02-install explains why):
#   1. installs the packages minidocker and its tests need (apt or dnf), only those missing;
#   2. writes /etc/sysctl.d/90-minidocker.conf (ip_forward, bridge-nf-call-iptables/ip6tables)
#      and applies it, loading br_netfilter first where it is a module;
#   3. checks that Go is at least the version go.mod asks for, and says how to get it if not.
# It exits non-zero when something it needs could not be done.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
SYSCTL_FILE=/etc/sysctl.d/90-minidocker.conf
MODULES_FILE=/etc/modules-load.d/minidocker.conf
WITH_VAGRANT=${SETUP_VAGRANT:-0}
WITH_VM=${SETUP_VM:-1} # qemu + a kernel for the cgroup-v2 VM test (Debian only)

log()  { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'setup-host: warning: %s\n' "$*" >&2; }
die()  { printf 'setup-host: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<EOF
usage: $0 [--with-vagrant] [--no-vm]

  --with-vagrant  also install vagrant and vagrant-libvirt (Debian; same as SETUP_VAGRANT=1)
  --no-vm         skip qemu and the kernel package used by the cgroup-v2 VM test (SETUP_VM=0)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--with-vagrant) WITH_VAGRANT=1 ;;
	--no-vm) WITH_VM=0 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0)"
OS_RELEASE=${SETUP_OS_RELEASE:-/etc/os-release} # overridable for testing the dnf path
[ -r "$OS_RELEASE" ] || die "$OS_RELEASE is missing: cannot tell which distribution this is"
# shellcheck disable=SC1090
. "$OS_RELEASE"
OS_ID=${ID:-unknown}
OS_LIKE=" ${ID:-} ${ID_LIKE:-} "
OS_MAJOR=${VERSION_ID%%.*}

# ---------------------------------------------------------------- Debian / Ubuntu (apt)

apt_missing() { # prints the packages of "$@" that are not installed
	local p
	for p in "$@"; do
		if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
			printf '%s\n' "$p"
		fi
	done
}

apt_lists_fresh() { # true when some Release file was fetched less than an hour ago
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Release' -mmin -60 2>/dev/null | head -n1)" ]
}

setup_apt() {
	local arch kernel pkgs missing
	arch=$(dpkg --print-architecture)
	pkgs=(iptables iproute2 busybox-static make curl util-linux tar gzip ca-certificates kmod procps cpio)
	pkgs+=(hyperfine runc) # make bench: hyperfine times the CLI, runc is the reference runtime
	pkgs+=(gcc libc6-dev)  # make test: the race detector (the stress test's -race daemon) needs cgo
	# The Engine API is proven against clients nobody here wrote: Compose v1 and docker-py.
	pkgs+=(docker-compose python3-docker)
	if [ "$WITH_VM" = 1 ]; then
		case "$OS_ID" in
		ubuntu) kernel=linux-image-generic ;;
		*) kernel=linux-image-$arch ;; # Debian's meta package, e.g. linux-image-amd64
		esac
		case "$arch" in
		amd64) pkgs+=(qemu-system-x86 "$kernel") ;;
		arm64) pkgs+=(qemu-system-arm "$kernel") ;;
		*) warn "no qemu package chosen for $arch: the cgroup-v2 VM test will skip" ;;
		esac
	fi
	# vagrant-libvirt lets `vagrant validate` check the libvirt provider block too.
	[ "$WITH_VAGRANT" = 1 ] && pkgs+=(vagrant vagrant-libvirt)

	mapfile -t missing < <(apt_missing "${pkgs[@]}")
	if [ ${#missing[@]} -eq 0 ]; then
		log "apt: all ${#pkgs[@]} packages already installed"
		return
	fi
	export DEBIAN_FRONTEND=noninteractive
	if apt_lists_fresh; then
		log "apt: package lists are less than an hour old, not updating"
	else
		log "apt-get update"
		apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed"
	fi
	log "apt: installing ${missing[*]}"
	# The lock timeout lets this wait for another apt run instead of failing at once.
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------- EL8 / EL9 (dnf)

rpm_missing() {
	local p
	for p in "$@"; do
		rpm -q --whatprovides "$p" >/dev/null 2>&1 || printf '%s\n' "$p"
	done
}

dnf_install() { dnf install -y -q --setopt=install_weak_deps=False "$@"; }

BUSYBOX_FALLBACK_VERSION=1.35.0
BUSYBOX_FALLBACK_URL=https://busybox.net/downloads/binaries/${BUSYBOX_FALLBACK_VERSION}-x86_64-linux-musl/busybox

setup_busybox_el() {
	local p
	for p in /usr/sbin/busybox /usr/bin/busybox /sbin/busybox /bin/busybox /usr/local/bin/busybox; do
		if [ -x "$p" ]; then
			log "busybox: $p is present"
			return
		fi
	done
	log "dnf: installing busybox"
	if dnf_install busybox 2>/dev/null; then return; fi
	# EL does not ship busybox; EPEL may.
	if ! rpm -q epel-release >/dev/null 2>&1; then
		log "dnf: busybox is not in the base repositories; enabling EPEL"
		dnf_install epel-release || warn "could not install epel-release"
		# CentOS Stream builds against EPEL Next as well.
		[ "$OS_ID" = centos ] && { dnf_install epel-next-release || true; }
	fi
	if dnf_install busybox 2>/dev/null; then return; fi
	# Last resort: the static build published by the busybox project. It is only used to
	# build the offline test image (scripts/mkbusybox checks that it is static and runs).
	[ "$(uname -m)" = x86_64 ] || die "no busybox package for $(uname -m); install a static busybox by hand"
	warn "no busybox package in the enabled repositories (EPEL included);"
	warn "downloading the static busybox $BUSYBOX_FALLBACK_VERSION binary to /usr/local/bin/busybox instead"
	warn "(not checksum-verified: there is no published digest; on a machine with Docker Hub access"
	warn " 'minidocker pull busybox' is the alternative the labs accept)"
	curl -fsSL --retry 3 -o /usr/local/bin/busybox.tmp "$BUSYBOX_FALLBACK_URL" ||
		die "could not download $BUSYBOX_FALLBACK_URL"
	chmod 0755 /usr/local/bin/busybox.tmp
	/usr/local/bin/busybox.tmp --list-full >/dev/null || die "the downloaded busybox does not run"
	mv /usr/local/bin/busybox.tmp /usr/local/bin/busybox
}

setup_dnf() {
	local pkgs missing iptables_pkg=iptables
	command -v dnf >/dev/null || die "neither apt-get nor dnf found"
	# EL9 splits iptables; iptables-nft provides /usr/sbin/iptables (the nft backend).
	[ "${OS_MAJOR:-0}" -ge 9 ] && iptables_pkg=iptables-nft
	pkgs=("$iptables_pkg" iproute make util-linux tar gzip ca-certificates kmod procps-ng cpio rsync which findutils)
	pkgs+=(gcc glibc-devel) # make test: the race detector needs cgo
	# EL9 minimal images ship curl-minimal, which conflicts with the curl package: only add
	# curl when there is no curl command at all.
	command -v curl >/dev/null || pkgs+=(curl)
	[ "$WITH_VAGRANT" = 1 ] && warn "--with-vagrant is for Debian hosts; skipped on $OS_ID"
	mapfile -t missing < <(rpm_missing "${pkgs[@]}")
	if [ ${#missing[@]} -eq 0 ]; then
		log "dnf: all ${#pkgs[@]} packages already installed"
	else
		log "dnf: installing ${missing[*]}"
		dnf_install "${missing[@]}" || die "dnf install ${missing[*]} failed"
	fi
	setup_busybox_el
}

# ---------------------------------------------------------------- sysctls

write_if_changed() { # write_if_changed FILE CONTENT
	if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then
		info "$1 is up to date"
		return
	fi
	mkdir -p "$(dirname "$1")"
	printf '%s\n' "$2" >"$1.tmp.$$"
	mv "$1.tmp.$$" "$1"
	info "wrote $1"
}

setup_sysctls() {
	log "kernel settings"
	# bridge-nf-call-* only exist once bridge netfilter is loaded. On most distributions it
	# is the br_netfilter module; some kernels have it built in.
	if [ ! -d /proc/sys/net/bridge ]; then
		if modprobe br_netfilter 2>/dev/null; then
			info "loaded br_netfilter"
		else
			die "net.bridge.* sysctls are missing and 'modprobe br_netfilter' failed (is the kernel's module tree installed?)"
		fi
	fi
	if modinfo -F filename br_netfilter 2>/dev/null | grep -q '^/'; then
		write_if_changed "$MODULES_FILE" "# minidocker: bridge netfilter must be loaded before its sysctls apply at boot
br_netfilter"
	else
		info "br_netfilter is built into this kernel: no module to load at boot"
	fi
	write_if_changed "$SYSCTL_FILE" "# Written by minidocker's scripts/setup-host.sh; see chapters/02-install.
# Route packets between the container bridge and the host's other interfaces
# (without it containers cannot reach anything beyond the host).
net.ipv4.ip_forward = 1
# Let iptables/ip6tables see traffic that crosses the bridge, so port mapping (DNAT)
# and masquerading also work between containers on the same bridge.
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1"
	local out
	if ! out=$(sysctl -p "$SYSCTL_FILE" 2>&1); then
		printf '%s\n' "$out" >&2
		die "sysctl -p $SYSCTL_FILE failed"
	fi
	local k v bad=0
	for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables; do
		v=$(sysctl -n "$k")
		info "$k = $v"
		[ "$v" = 1 ] || bad=1
	done
	[ "$bad" = 0 ] || die "a sysctl did not take the value 1 (is /proc/sys read-only here?)"
}

# ---------------------------------------------------------------- Go

check_go() {
	log "Go toolchain"
	local want have gobin=""
	want=$(awk '$1 == "go" { print $2; exit }' "$REPO_DIR/go.mod" 2>/dev/null || true)
	[ -n "$want" ] || { warn "cannot read the go version from $REPO_DIR/go.mod"; return; }
	if command -v go >/dev/null; then
		gobin=$(command -v go)
	elif [ -x /usr/local/go/bin/go ]; then
		gobin=/usr/local/go/bin/go
	fi
	if [ -n "$gobin" ]; then
		have=$(GOTOOLCHAIN=local "$gobin" env GOVERSION 2>/dev/null || true)
		have=${have#go}
		if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]; then
			info "$gobin is go$have (go.mod asks for $want or newer)"
			return
		fi
		warn "$gobin is go${have:-?}, but go.mod asks for go$want or newer"
	else
		warn "Go is not installed (go.mod asks for go$want or newer)"
	fi
	local goarch
	case "$(uname -m)" in x86_64) goarch=amd64 ;; aarch64) goarch=arm64 ;; *) goarch=$(uname -m) ;; esac
	cat >&2 <<EOF
    To install it, as root:
      curl -fsSLO https://go.dev/dl/go$want.linux-$goarch.tar.gz
      rm -rf /usr/local/go && tar -C /usr/local -xzf go$want.linux-$goarch.tar.gz
      export PATH=/usr/local/go/bin:\$PATH     # and add this line to ~/.profile
    (The Vagrant VM's provisioning does exactly this; see vagrant/README.md.)
EOF
}

# ---------------------------------------------------------------- main

log "minidocker host setup on ${PRETTY_NAME:-$OS_ID}"
case "$OS_LIKE" in
*" debian "* | *" ubuntu "*) setup_apt ;;
*" rhel "* | *" centos "* | *" fedora "* | *" almalinux "* | *" rocky "*) setup_dnf ;;
*)
	if command -v apt-get >/dev/null; then setup_apt
	elif command -v dnf >/dev/null; then setup_dnf
	else die "unsupported distribution '$OS_ID': need apt-get (Debian 12) or dnf (EL8/EL9)"
	fi
	;;
esac
for c in iptables ip nsenter make tar; do
	command -v "$c" >/dev/null || die "'$c' is still missing after installing packages"
done
setup_sysctls
check_go
log "host ready"

#!/usr/bin/env bash
# check-vagrant.sh — validate vagrant/Vagrantfile for every box the course uses.
#
#   sudo scripts/check-vagrant.sh
#
# No box can be downloaded here, so this is what CI can check: the Vagrantfile parses and
# its settings (including the libvirt provider's) are valid. On Debian it installs vagrant
# and the vagrant-libvirt plugin when they are missing (about 20 s from the mirror); with the
# plugin `vagrant validate` checks the libvirt block too. Without any usable provider it falls
# back to `vagrant validate --ignore-provider` and says so.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOXES=${BOXES:-"centos/stream9 almalinux/9 almalinux/8"}

log() { printf '==> %s\n' "$*"; }
die() { printf 'check-vagrant: error: %s\n' "$*" >&2; exit 1; }

need=()
command -v vagrant >/dev/null || need+=(vagrant)
if command -v dpkg-query >/dev/null &&
	! dpkg-query -W -f='${db:Status-Abbrev}' vagrant-libvirt 2>/dev/null | grep -q '^ii'; then
	need+=(vagrant-libvirt)
fi
if [ ${#need[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || die "vagrant is not installed and this is not an apt system; install Vagrant by hand"
	[ "$(id -u)" -eq 0 ] || die "installing ${need[*]} needs root (try: sudo $0)"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Release' -mmin -60 2>/dev/null | head -n1)" ]; then
		log "apt-get update"
		apt-get -o DPkg::Lock::Timeout=600 update -q
	fi
	log "installing ${need[*]}"
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
		die "apt-get install ${need[*]} failed"
fi
log "$(vagrant --version)"

cd "$REPO_DIR/vagrant"
# Keep vagrant's machine state out of the work tree (it is created even by validate).
if [ -z "${VAGRANT_DOTFILE_PATH:-}" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	export VAGRANT_DOTFILE_PATH=$tmp/.vagrant
fi
export VAGRANT_CHECKPOINT_DISABLE=1
args=()
if vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt'; then
	export VAGRANT_DEFAULT_PROVIDER=${VAGRANT_DEFAULT_PROVIDER:-libvirt}
else
	log "no vagrant-libvirt plugin: validating without provider settings"
	args+=(--ignore-provider)
fi
for box in $BOXES; do
	log "BOX=$box vagrant validate ${args[*]}"
	BOX=$box vagrant validate "${args[@]}" || die "vagrant validate failed for BOX=$box"
done
log "Vagrantfile valid for: $BOXES"

#!/bin/sh
# Installs the Debian packages the build, tests and benchmarks need, when any is missing.
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -eu

PACKAGES="gcc make gcc-multilib clang libclang-rt-14-dev libcriterion-dev libcapstone-dev \
libseccomp-dev pkg-config qemu-system-x86 gnuplot-nox"

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd

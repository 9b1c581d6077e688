#!/bin/sh
# Installs the Debian packages the build, tests and benchmarks need, when any is missing, and
# adds the i386 architecture `make linux` downloads busybox-static:i386 from. As root it runs
# dpkg and apt-get; otherwise it prints the exact commands to run and fails.
set -eu

# The last line is `make linux`'s: the kernel source (a tarball in /usr/src) and its build.
PACKAGES="gcc make gcc-multilib clang libclang-rt-14-dev libcriterion-dev libcapstone-dev \
libseccomp-dev pkg-config qemu-system-x86 gnuplot-nox \
linux-source-6.1 bc flex bison xz-utils"

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done
add_i386=""
dpkg --print-foreign-architectures | grep -qx i386 || add_i386="dpkg --add-architecture i386"
[ -z "$missing" ] && [ -z "$add_i386" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	[ -n "$missing" ] && echo "deps: missing packages:$missing" >&2
	[ -n "$add_i386" ] && echo "deps: the i386 architecture is not added (make linux needs busybox-static:i386)" >&2
	echo "deps: run as root: ${add_i386:+$add_i386 && }apt-get update${missing:+ && $cmd}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$add_i386" ]; then
	echo "deps: adding the i386 architecture (for busybox-static:i386)"
	$add_i386
fi
[ -n "$missing" ] && echo "deps: installing$missing"
apt-get update -qq
[ -z "$missing" ] || $cmd

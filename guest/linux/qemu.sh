#!/bin/bash
# Boots OpenVMI's Linux guest (make linux) under qemu-system-i386 with TCG and checks that
# its init reached the shell and left through the exit port with status 0. `make linux-qemu`
# runs it; so do the linux_qemu integration tests.
# Usage: guest/linux/qemu.sh LINUX_DIR [KERNEL_ARG...]   (LINUX_DIR: build/linux)
set -uo pipefail

dir=${1:?usage: guest/linux/qemu.sh LINUX_DIR [KERNEL_ARG...]}
shift
for file in bzImage initramfs.cpio; do
	[ -r "$dir/$file" ] || { echo "linux-qemu: $dir/$file is missing: run make linux" >&2; exit 2; }
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s.%N)
# isa-debug-exit: the guest's byte v ends QEMU with (v << 1) | 1; a panic reboots, and
# -no-reboot makes that QEMU's exit 0.
timeout -k 5 120 qemu-system-i386 -accel tcg -m 128 \
	-kernel "$dir/bzImage" -initrd "$dir/initramfs.cpio" \
	-append "console=ttyS0 earlyprintk=serial,ttyS0 rdinit=/init panic=-1 $*" \
	-display none -monitor none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 < /dev/null | tr -d '\r' | tee "$log"
status=${PIPESTATUS[0]}
seconds=$(echo "$(date +%s.%N) - $start" | bc)

if [ "$status" -eq 1 ] && grep -qx 'openvmi-linux: done, exit port 0' "$log"; then
	printf 'linux-qemu: Linux reached its shell and exited 0 through the exit port in %.1f s\n' \
		"$seconds"
	exit 0
fi
case $status in
124|137) why="QEMU ran out of time (120 s)" ;;
0) why="QEMU exited 0: the kernel panicked or init ended without the exit port" ;;
1) why="the exit port said 0 but the init's last line is missing" ;;
*) why="QEMU exited with $status, not 1 (the exit port's status 0)" ;;
esac
echo "linux-qemu: FAILED: $why" >&2
exit 1

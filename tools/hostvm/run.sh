#!/bin/bash
# Runs a command inside an x86-64 Linux VM under QEMU TCG, for hosts whose processes cannot
# run 32-bit code (vmirun --check-host fails there). The VM boots a stock Debian kernel with
# an initramfs of busybox, the given files and the shared libraries they need.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/hostvm/run.sh [OPTION]... -- COMMAND [ARG]...
Boots a stock Debian x86-64 kernel under qemu-system-x86_64 (TCG, no /dev/kvm) with an
initramfs holding busybox, every --file (at its own absolute path) and the shared libraries
the ELF files among them need, runs COMMAND there with /bin/sh, prints its output and exits
with its exit status.

Options:
  --file PATH          put PATH (a file or a folder) into the VM; repeatable
  --kernel-arg ARG     add ARG to the VM kernel's command line (e.g. ia32_emulation=0)
  --timeout SECONDS    stop the VM after SECONDS (default 1800)
  --help               this text

Exit status: the command's; 124 if the VM ran out of time; 125 if it ended without reporting
one; 2 on a usage error or when the VM kernel cannot be fetched.
Environment: HOSTVM_DIR (default build/hostvm) keeps the downloaded kernel and busybox.
EOF
}

die() {
	echo "hostvm: $*" >&2
	exit 2
}

files=()
kernel_args=()
timeout_seconds=1800
while [ $# -gt 0 ]; do
	case "$1" in
	--file) [ $# -ge 2 ] || die "--file needs a path"; files+=("$2"); shift 2 ;;
	--kernel-arg) [ $# -ge 2 ] || die "--kernel-arg needs an argument"; kernel_args+=("$2"); shift 2 ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs a number of seconds"
		[[ "$2" =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds, not '$2'"
		timeout_seconds=$2; shift 2 ;;
	--help) usage; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[ $# -gt 0 ] || die "no command given (see --help)"

here=$(cd "$(dirname "$0")" && pwd)
dir=${HOSTVM_DIR:-build/hostvm}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# --- the VM kernel and busybox, from Debian's packages (downloaded, never installed) -------
# 6.12, not the default 6.1: ia32_emulation= exists from 6.7 on.
KERNEL_META=linux-image-6.12-amd64
fetch() {
	[ -s "$dir/vmlinuz" ] && [ -x "$dir/busybox" ] && return 0
	command -v apt-get >/dev/null || die "apt-get is needed to fetch the VM kernel"
	local package
	package=$(apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	if [ -z "$package" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		package=$(apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	fi
	[ -n "$package" ] || die "cannot find Debian's $KERNEL_META (apt-get update?)"
	echo "hostvm: fetching $package and busybox-static (once; kept in $dir)" >&2
	local download="$dir/download"
	rm -rf "$download"
	mkdir -p "$download"
	# apt's _apt user may not write here; a download as root is what we want anyway.
	(cd "$download" && apt-get download -q "$package" busybox-static >/dev/null 2>&1) ||
		die "apt-get download $package busybox-static failed"
	local unpacked="$download/unpacked"
	mkdir -p "$unpacked"
	for deb in "$download"/*.deb; do
		dpkg-deb -x "$deb" "$unpacked"
	done
	cp "$unpacked"/boot/vmlinuz-* "$dir/vmlinuz.new" && mv "$dir/vmlinuz.new" "$dir/vmlinuz"
	cp "$unpacked"/bin/busybox "$dir/busybox"
	rm -rf "$download"
}
fetch

# --- the initramfs --------------------------------------------------------------------------
root=$(mktemp -d "$dir/root.XXXXXX")
initrd="$root.cpio"
output="$root.output"
# The VM's console (its kernel's messages) of the last run stays, for a look after a failure.
console="$dir/console.log"
cleanup() { rm -rf "$root" "$initrd" "$output"; }
trap cleanup EXIT

chmod 755 "$root"   # it becomes /: every user of the VM must reach it
mkdir -p "$root"/{bin,proc,sys,dev,tmp,hostvm,lib64}
cp "$dir/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"

copy_in() {   # copy_in PATH: PATH at the same absolute path inside the VM
	local path
	path=$(realpath -s "$1")
	mkdir -p "$root$(dirname "$path")"
	cp -a "$path" "$root$(dirname "$path")/"
}
for file in "${files[@]}"; do
	[ -e "$file" ] || die "no such file: $file"
	copy_in "$file"
done
# The shared libraries of every ELF executable inside, dereferenced.
find "$root" -type f -perm -u+x -print0 | while IFS= read -r -d '' elf; do
	head -c 4 "$elf" | grep -q 'ELF' || continue
	{ ldd "$elf" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\t\/[^ ]* \(/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
done

# The command runs from the same folder as here, so relative paths mean the same.
mkdir -p "$root$PWD"
{
	printf 'cd %q\n' "$PWD"
	printf '%q ' "$@"
	printf '\n'
} > "$root/hostvm/job"
(cd "$root" && find . | "$dir/busybox" cpio -o -H newc 2>/dev/null) > "$initrd"

# --- the VM ---------------------------------------------------------------------------------
# -smap: with SMAP, TCG's iretq back to a user mode that runs 32-bit code faults in the VM
# kernel. tsc=reliable: under TCG on a busy host the clocksource watchdog finds the TSC
# unstable, and the VM kernel's switch away from it once ended in an int3 oops (text
# patching) that killed the run. The job's output arrives on the second serial port; the
# first is the VM console.
# A VM kernel that dies before its /init runs (no "hostvm: VM kernel" line: seen twice on
# 2026-12-02, an int3 oops in text patching while a second vCPU came up, under TCG on a
# busy host) is booted once more; nothing of the command has run then. A failure once the
# command runs is never retried.
boot_vm() {
	set +e
	timeout -k 10 "$timeout_seconds" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max,-smap -smp 2 -m 2048 \
		-kernel "$dir/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 tsc=reliable ${kernel_args[*]:-}" \
		-display none -monitor none -no-reboot \
		-serial "file:$console" -serial stdio < /dev/null | tr -d '\r' | tee "$output"
	qemu_status=${PIPESTATUS[0]}
	set -e
}
boot_vm
if [ "$qemu_status" -ne 124 ] && ! grep -q '^hostvm: VM kernel ' "$output"; then
	echo "hostvm: the VM kernel did not reach its /init (qemu status $qemu_status); its console:" >&2
	tail -n 12 "$console" >&2 || true
	echo "hostvm: booting the VM once more" >&2
	boot_vm
fi

status=$(sed -n 's/^hostvm: exit status \([0-9]*\)$/\1/p' "$output" | tail -n 1)
if [ -n "$status" ]; then
	exit "$status"
fi
if [ "$qemu_status" -eq 124 ]; then
	echo "hostvm: the VM ran out of time after ${timeout_seconds} s" >&2
	exit 124
fi
echo "hostvm: the VM ended (qemu status $qemu_status) without reporting the command's status; its console:" >&2
tail -n 30 "$console" >&2 || true
exit 125

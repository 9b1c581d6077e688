#!/bin/bash
# make check's integration stage. Guest-hosting tests run directly where `vmirun --check-host`
# passes, else inside an x86-64 VM under QEMU TCG (tools/hostvm); either way once more in a
# VM booted with ia32_emulation=0 (a guest's int $0x80 arrives as #GP, not SIGSYS) and nofsgsbase
# (vmirun restores its thread pointer with arch_prctl, and checks a null FS by reading it).
# Usage: run_suites.sh BUILD_DIR [all|core|linux]   (vmirun, ubsan/vmirun and
#   tests/integration_tests in BUILD_DIR). all, the default: every suite; core: all but the
#   Linux guest's (linux, linux_qemu); linux: only those, which need `make linux`. make check
#   runs core and linux side by side, so the VM runs take a lock: one VM at a time.
set -uo pipefail

build=${1:?usage: run_suites.sh BUILD_DIR [all|core|linux]}
mode=${2:-all}
vmirun=$build/vmirun
vmirun_ubsan=$(realpath "$build/ubsan/vmirun")
tests=$build/tests/integration_tests
hostvm=$(dirname "$0")/../../tools/hostvm/run.sh

# The suites that host no guest under vmirun: QEMU's and vmirom's. Everything else does.
host_only='@(*qemu*|vmirom/*)'
hosting='!(*qemu*|vmirom/*)'
every='*'
linux_suites='linux/*|linux_qemu/*'
title=""
case $mode in
all) ;;
core) every="!($linux_suites)"
      host_only="!($linux_suites|!(*qemu*|vmirom/*))"; hosting="!($linux_suites|*qemu*|vmirom/*)" ;;
linux) every="@($linux_suites)"; host_only='linux_qemu/*'; hosting='linux/*'; title="Linux guest: " ;;
*) echo "usage: run_suites.sh BUILD_DIR [all|core|linux]" >&2; exit 2 ;;
esac
hostvm_one_at_a_time() { flock "$build/hostvm.lock" "$hostvm" "$@"; }
# Inside the VM one test at a time: the self-tests time alarms and periodic ticks, and two
# guests on TCG's two busy vCPUs missed their tolerances (a 1 kHz tick seen at 1.6 ms).
# Everything the guest-hosting tests open, at the same paths inside the VM; setpriv is
# util-linux's (busybox's lacks --reuid).
vm_files=(--file "$build/vmirun" --file "$build/ubsan/vmirun" --file "$build/vmirom"
          --file "$build/tests" --file "$build/guest" --file "$build/rom" --file /usr/bin/setpriv)
# The Linux guest only where its suites run: under make check core starts while it builds.
[ "$mode" = core ] || vm_files+=(--file "$build/linux")

failed=0
step() {   # step TITLE COMMAND...: runs one stage, remembering a failure
	local what="$title$1"
	shift
	echo "== $what"
	"$@" || { echo "== FAILED: $what"; failed=1; }
}

check_host=$build/check-host.txt
[ "$mode" = all ] || check_host=$build/check-host-$mode.txt   # core and linux run at once
if "$vmirun" --check-host > "$check_host" 2>&1; then
	echo "== ${title}integration: this host runs guests (vmirun --check-host passed): guest-hosting tests run directly"
	step "integration tests (vmirun and qemu-system-i386)" "$tests" --jobs 2 --filter "$every"
	step "integration tests that host guests, with vmirun built with UBSan" \
		env VMIRUN="$vmirun_ubsan" "$tests" --jobs 2 --filter "$hosting"
else
	echo "== ${title}integration: this host cannot run guests ($(sed -n 's/^verdict: //p' "$check_host" | cut -c1-160)...);"
	echo "== ${title}guest-hosting tests run inside an x86-64 VM under QEMU TCG (tools/hostvm/run.sh), none skipped"
	step "integration tests that host no guest (qemu-system-i386, vmirom), here" \
		"$tests" --jobs 2 --filter "$host_only"
	step "integration tests that host guests, in the VM: vmirun, then vmirun built with UBSan" \
		hostvm_one_at_a_time "${vm_files[@]}" --timeout 1200 -- sh -c \
		"$tests --jobs 1 --filter '$hosting' && VMIRUN=$vmirun_ubsan $tests --jobs 1 --filter '$hosting'"
fi
step "integration tests that host guests, in a VM booted with ia32_emulation=0 (int \$0x80 as #GP) and nofsgsbase (FS restored by arch_prctl)" \
	hostvm_one_at_a_time "${vm_files[@]}" --kernel-arg ia32_emulation=0 --kernel-arg nofsgsbase --timeout 1200 -- \
	"$tests" --jobs 1 --filter "$hosting"
exit $failed

/* The paging test guest turns paging on through the SDK's MMU wrappers and checks them
 * against the hardware's behaviour: on the native ROM under QEMU, and on vmirun's process
 * ROM, where the host mappings are the guest's TLB. */
#include <criterion/criterion.h>
#include <string.h>

#include "run.h"

#define TIMEOUT 60.0
#define PAGING_ELF "tests/guests/paging.elf"

TestSuite(paging, .timeout = 120);

Test(paging, under_qemu_the_native_rom_pages_as_the_hardware_does)
{
	char *argv[] = { "qemu-system-i386", "-accel", "tcg", "-kernel",
	                 (char *)build_path(PAGING_ELF), "-display", "none", "-serial", "stdio",
	                 "-monitor", "none", "-no-reboot", "-device",
	                 "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run qemu-system-i386: %s", r.err);
	cr_assert(!r.timed_out && r.exited, "did not finish:\n%s", r.out);
	cr_assert_null(strstr(r.out, "FAILED"), "%s", r.out);
	cr_assert(strstr(r.out, "paging: 28 of 28 checks passed\n"), "%s\n%s", r.out, r.err);
	cr_assert_eq(r.exit_status, 1, "status %d\n%s", r.exit_status, r.out);
	run_result_free(&r);
}

Test(paging, under_vmirun_the_process_rom_pages_as_the_hardware_does)
{
	char *argv[] = { (char *)vmirun_path(), "--stats", NULL, NULL };
	argv[2] = strdup(build_path(PAGING_ELF));
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run vmirun: %s", r.err);
	free(argv[2]);
	cr_assert(r.exited, "vmirun died of signal %d:\n%s", r.term_signal, r.err);
	cr_assert(strstr(r.out, "paging: on vmirun's ROM\n"), "%s\n%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "FAILED"), "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "paging: 28 of 28 checks passed\n"), "%s\n%s", r.out, r.err);
	cr_assert_eq(r.exit_status, 1, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	/* The guest's TLB was really filled from its tables, and its #PF came from them. */
	cr_assert(stats_count(r.err, "host_faults_filled") > 0, "%s", r.err);
	cr_assert(stats_count(r.err, "host_faults_write_upgrade") > 0, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "page_faults_delivered"), 1, "%s", r.err);
	/* FlushTLB without GLOBAL kept the guest's global identity map */
	cr_assert_gt(stats_count(r.err, "flushes_keeping_global"), 0, "%s", r.err);
	run_result_free(&r);
}

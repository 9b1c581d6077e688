/* The unmodified ("native") test guest on both platforms: under QEMU (ring 0) it behaves as
 * on a PC; under vmirun (ring 3) every privileged instruction is trapped and emulated, the
 * PIC and PIT work, and the guest sees the popf hole that VMI exists to close. */
#include <criterion/criterion.h>
#include <string.h>

#include "run.h"

#define TIMEOUT 60.0

static void expect_line(const struct run_result *r, const char *line)
{
	cr_assert(strstr(r->out, line), "missing line '%s' in:\n%s\nstderr:\n%s", line, r->out, r->err);
}

static void expect_common(const struct run_result *r)
{
	cr_assert(!r->timed_out && r->exited, "did not finish on its own:\n%s", r->out);
	cr_assert_eq(r->exit_status, 1, "status %d:\n%s\n%s", r->exit_status, r->out, r->err);
	expect_line(r, "native: descriptor tables loaded\n");
	expect_line(r, "native: lmsw, clts, debug registers, MSRs and CR4 behave as on a PC\n");
	expect_line(r, "native: 10 timer interrupts\n");
	expect_line(r, "native: sti enables interrupts\n");
	expect_line(r, "native: done\n");
}

TestSuite(native, .timeout = 120);

Test(native, under_qemu_ring0_popf_restores_the_flag)
{
	char *argv[] = { "qemu-system-i386", "-accel", "tcg", "-kernel",
	                 (char *)build_path("tests/guests/native.elf"), "-display", "none",
	                 "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device",
	                 "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run qemu-system-i386: %s", r.err);
	expect_common(&r);
	expect_line(&r, "native: pushf after cli shows IF=0\n");
	expect_line(&r, "native: popf restored the interrupt flag\n");
	run_result_free(&r);
}

static void run_under_vmirun(const char *rom_option)
{
	char *argv[] = { (char *)vmirun_path(), "--stats", (char *)rom_option, NULL, NULL };
	argv[rom_option ? 3 : 2] = strdup(build_path("tests/guests/native.elf"));
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run vmirun: %s", r.err);
	free(argv[rom_option ? 3 : 2]);
	expect_common(&r);
	/* The hole, detected rather than passed over: */
	expect_line(&r, "native: pushf after cli shows IF=1\n");
	expect_line(&r, "native: popf did not restore the interrupt flag (the popf hole)\n");
	/* ...and it ran by trap-and-emulate, PIT interrupts included. */
	cr_assert(strstr(r.err, "lgdt "), "%s", r.err);
	cr_assert(strstr(r.err, "iret "), "%s", r.err);
	cr_assert(strstr(r.err, "vector 32 "), "%s", r.err);
	run_result_free(&r);
}

Test(native, under_vmirun_without_rom_everything_traps_and_popf_has_the_hole)
{
	run_under_vmirun("--no-rom");
}

Test(native, under_vmirun_with_the_rom_an_unmodified_kernel_still_traps)
{
	run_under_vmirun(NULL);
}

/* Integration tests of the guest SDK: boot the "sdk" test guest, which links itself with
 * vmi_guest_init in each vmi.link= mode, under QEMU (the native ROM, ring 0) and vmirun (the
 * process ROM), and check its report, its patched sites and its self-checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define QEMU              "qemu-system-i386"
#define SDK_ELF           "tests/guests/sdk.elf"
#define BOOT_TIMEOUT      60.0
#define EXIT_STATUS(code) (((code) << 1) | 1)   /* isa-debug-exit, and vmirun likewise */

static void boot_qemu(const char *arguments, struct run_result *result)
{
	const char *kernel = build_path(SDK_ELF);
	cr_assert_eq(access(kernel, R_OK), 0, "%s is missing: run `make` first", kernel);
	char *argv[] = {
		QEMU, "-accel", "tcg", "-kernel", (char *)kernel, "-append", (char *)arguments,
		"-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "64", NULL,
	};
	cr_assert_eq(run_command(argv, BOOT_TIMEOUT, result), 0, "cannot run " QEMU ": %s",
	             result->err);
	cr_assert(!result->timed_out, QEMU " did not finish; stdout so far:\n%s", result->out);
	cr_assert(result->exited, QEMU " was killed by signal %d; stdout:\n%s", result->term_signal,
	          result->out);
}

static void boot_vmirun(const char *arguments, struct run_result *result)
{
	char kernel[512];
	snprintf(kernel, sizeof(kernel), "%s", build_path(SDK_ELF));
	cr_assert_eq(access(kernel, R_OK), 0, "%s is missing: run `make` first", kernel);
	char *argv[] = { (char *)vmirun_path(), kernel, "--", (char *)arguments, NULL };
	cr_assert_eq(run_command(argv, BOOT_TIMEOUT, result), 0, "cannot run vmirun: %s",
	             result->err);
	cr_assert(!result->timed_out, "vmirun did not finish; stdout so far:\n%s", result->out);
	cr_assert(result->exited, "vmirun was killed by signal %d; stderr:\n%s", result->term_signal,
	          result->err);
}

/* Where `line` stands as a whole line of stdout, or NULL. */
static const char *find_line(const struct run_result *result, const char *line)
{
	size_t length = strlen(line);
	for (const char *p = strstr(result->out, line); p; p = strstr(p + 1, line))
		if ((p == result->out || p[-1] == '\n') && p[length] == '\n')
			return p;
	return NULL;
}

static void expect_line(const struct run_result *result, const char *line)
{
	cr_assert(find_line(result, line), "line \"%s\" missing in stdout:\n%s\nstderr:\n%s", line,
	          result->out, result->err);
}

/* The IRET site ran a kernel-to-kernel return (both ROMs report a ring-0 kernel selector). */
static void expect_iret_ok_or_skipped(const struct run_result *result)
{
	cr_assert(find_line(result, "sdk: iret ok"), "no IRET result in stdout:\n%s", result->out);
}

static void expect_self_check_and_exit(const struct run_result *result)
{
	expect_line(result, "sdk: irq nesting ok");
	expect_line(result, "sdk: rdtsc monotonic");
	expect_line(result, "sdk: self-check ok");
	cr_assert(!strstr(result->out, "FAILED"), "a self-check failed:\n%s", result->out);
	cr_assert_eq(result->exit_status, EXIT_STATUS(0), "exit status %d; stdout:\n%s\nstderr:\n%s",
	             result->exit_status, result->out, result->err);
}

struct sdk_report {
	char rom[16], link[16];
	unsigned inlined, called, nop, table, refused, sites;
	unsigned flags_on, flags_off;
};

static struct sdk_report parse_report(const struct run_result *result)
{
	struct sdk_report r;
	memset(&r, 0, sizeof(r));
	const char *line = strstr(result->out, "sdk: rom=");
	cr_assert(line, "no report in stdout:\n%s", result->out);
	cr_assert_eq(sscanf(line, "sdk: rom=%15s link=%15s inlined=%u called=%u nop=%u table=%u "
	                          "refused=%u", r.rom, r.link, &r.inlined, &r.called, &r.nop,
	                    &r.table, &r.refused), 7, "malformed report:\n%s", result->out);
	line = strstr(result->out, "sdk: sites=");
	cr_assert(line && sscanf(line, "sdk: sites=%u", &r.sites) == 1, "no site count:\n%s",
	          result->out);
	line = strstr(result->out, "sdk: flags on=");
	cr_assert(line && sscanf(line, "sdk: flags on=%x off=%x", &r.flags_on, &r.flags_off) == 2,
	          "no flags line:\n%s", result->out);
	cr_assert_eq(r.inlined + r.called + r.nop + r.table + r.refused, r.sites,
	             "the counts do not add up to the sites:\n%s", result->out);
	cr_assert_eq(r.refused, 0, "sites refused:\n%s", result->out);
	cr_assert(r.sites > 20, "too few sites recorded (%u)", r.sites);
	cr_assert(r.flags_on & 0x200, "IF not set after EnableInterrupts (%#x)", r.flags_on);
	cr_assert(!(r.flags_off & 0x200), "IF set after DisableInterrupts (%#x)", r.flags_off);
	return r;
}

/* --- QEMU: no ROM, so the native ROM, in ring 0 -------------------------------------------- */

TestSuite(sdk, .timeout = 2 * BOOT_TIMEOUT);

Test(sdk, qemu_inline_copies_the_native_instructions_into_sites)
{
	struct run_result result;
	boot_qemu("vmi.link=inline", &result);
	cr_assert(strstr(result.out, "\nvmi: no ROM found; using the native ROM: API "),
	          "no probe line:\n%s", result.out);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.rom, "native");
	cr_assert_str_eq(r.link, "inline");
	cr_assert_gt(r.inlined, r.sites / 2, "most sites inline natively:\n%s", result.out);
	cr_assert_geq(r.called, 1, "IRET is a jump into the ROM");
	cr_assert_eq(r.table, 0);
	expect_line(&result, "sdk: site DisableInterrupts length=32 bytes=0xfa 0x66");   /* cli */
	expect_line(&result, "sdk: site OUTB length=8 bytes=0xee 0x0f");                  /* out */
	cr_assert(strstr(result.out, "sdk: site IRET length=8 bytes=0xe9 "),   /* jmp rel32 */
	          "IRET is not a direct jump:\n%s", result.out);
	expect_line(&result, "sdk: iret ok");
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, qemu_call_makes_every_site_a_direct_call)
{
	struct run_result result;
	boot_qemu("vmi.link=call", &result);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.link, "call");
	cr_assert_eq(r.called, r.sites, "every site called:\n%s", result.out);
	cr_assert_eq(r.inlined + r.nop + r.table, 0);
	cr_assert(strstr(result.out, "sdk: site DisableInterrupts length=32 bytes=0xe8 "),
	          "no direct call at the site:\n%s", result.out);
	cr_assert(strstr(result.out, "sdk: site IRET length=8 bytes=0xe9 "), "%s", result.out);
	expect_line(&result, "sdk: iret ok");
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, qemu_indirect_leaves_the_table_calls)
{
	struct run_result result;
	boot_qemu("vmi.link=indirect", &result);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.link, "indirect");
	cr_assert_eq(r.table, r.sites, "every site left:\n%s", result.out);
	expect_line(&result, "sdk: site DisableInterrupts length=32 bytes=0xff 0x15");
	expect_line(&result, "sdk: site IRET length=8 bytes=0xff 0x25");
	expect_line(&result, "sdk: iret ok");
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, qemu_unknown_mode_warns_and_inlines)
{
	struct run_result result;
	boot_qemu("vmi.link=fastest", &result);
	expect_line(&result, "vmi: unknown vmi.link=fastest; using inline (known: inline, call, "
	                     "indirect)");
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.link, "inline");
	cr_assert_gt(r.inlined, 0);
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, qemu_no_option_means_inline)
{
	struct run_result result;
	boot_qemu("", &result);
	cr_assert(!strstr(result.out, "unknown vmi.link"), "%s", result.out);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.link, "inline");
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

/* --- vmirun: the process ROM at 0xC0000, ring 3 ---------------------------------------------- */

Test(sdk, vmirun_inline_inlines_the_process_rom_hot_templates)
{
	struct run_result result;
	boot_vmirun("vmi.link=inline", &result);
	cr_assert(strstr(result.out, "\nvmi: ROM at 0xc0000: API "), "no probe line:\n%s",
	          result.out);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.rom, "process");
	cr_assert_str_eq(r.link, "inline");
	cr_assert_geq(r.inlined, 4, "the interrupt-flag sites at least:\n%s", result.out);
	cr_assert_gt(r.called, 0);
	/* movl $0, VCPU_FLAGS: the virtual IF cleared in the shared page, no hypercall. */
	expect_line(&result, "sdk: site DisableInterrupts length=32 bytes=0xc7 0x05");
	expect_iret_ok_or_skipped(&result);
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, vmirun_call_makes_every_site_a_direct_call)
{
	struct run_result result;
	boot_vmirun("vmi.link=call", &result);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.rom, "process");
	cr_assert_eq(r.inlined + r.nop + r.table, 0, "%s", result.out);
	cr_assert_eq(r.called, r.sites);
	expect_iret_ok_or_skipped(&result);
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

Test(sdk, vmirun_indirect_fills_the_table_with_the_process_rom)
{
	struct run_result result;
	boot_vmirun("vmi.link=indirect", &result);
	struct sdk_report r = parse_report(&result);
	cr_assert_str_eq(r.rom, "process");
	cr_assert_eq(r.table, r.sites, "%s", result.out);
	expect_line(&result, "sdk: site DisableInterrupts length=32 bytes=0xff 0x15");
	expect_iret_ok_or_skipped(&result);
	expect_self_check_and_exit(&result);
	run_result_free(&result);
}

/* Integration tests on the native peer: boot the hello guest under qemu-system-i386 (TCG)
 * and check its serial output and isa-debug-exit status, so vmirun's results have a reference. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define QEMU                 "qemu-system-i386"
#define BOOT_TIMEOUT_SECONDS 60.0
#define HELLO_ELF            "tests/guests/hello.elf"

/* isa-debug-exit turns the guest's byte v into QEMU's exit status (v << 1) | 1. */
#define QEMU_STATUS(guest_code) (((guest_code) << 1) | 1)

/* Boots hello.elf with `arguments` and insists that QEMU ran and exited on its own. */
static void boot_hello(const char *arguments, struct run_result *result)
{
	const char *kernel = build_path(HELLO_ELF);
	cr_assert_eq(access(kernel, R_OK), 0, "%s is missing: run `make %s` first", kernel,
	             "build/" HELLO_ELF);
	char *argv[] = {
		QEMU, "-accel", "tcg", "-kernel", (char *)kernel, "-append", (char *)arguments,
		"-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "64", NULL,
	};
	int started = run_command(argv, BOOT_TIMEOUT_SECONDS, result);
	cr_assert_eq(started, 0, "cannot run " QEMU " (install qemu-system-x86): %s", result->err);
	cr_assert(!result->timed_out, QEMU " did not finish in %.0f s; stdout so far:\n%s",
	          BOOT_TIMEOUT_SECONDS, result->out);
	cr_assert(result->exited, QEMU " was killed by signal %d; stdout:\n%s\nstderr:\n%s",
	          result->term_signal, result->out, result->err);
}

/* Where `line` (without its "\n") stands as a whole line of `text` at or after `from`. */
static const char *find_line(const char *text, const char *from, const char *line)
{
	size_t length = strlen(line);
	for (const char *p = strstr(from, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[length] == '\n')
			return p;
	return NULL;
}

/* Checks that `lines` appear in stdout as whole lines, in this order. */
static void expect_lines(const struct run_result *result, const char *const lines[])
{
	const char *from = result->out;
	for (size_t i = 0; lines[i]; i++) {
		const char *found = find_line(result->out, from, lines[i]);
		cr_assert(found, "line \"%s\" missing (or out of order) in stdout:\n%s\nstderr:\n%s",
		          lines[i], result->out, result->err);
		from = found + strlen(lines[i]);
	}
}

static void expect_status(const struct run_result *result, int status)
{
	cr_assert_eq(result->exit_status, status,
	             QEMU " exited with %d, expected %d; stdout:\n%s\nstderr:\n%s",
	             result->exit_status, status, result->out, result->err);
}

TestSuite(qemu, .timeout = 2 * BOOT_TIMEOUT_SECONDS);

Test(qemu, default_run_prints_console_lines_and_exits_zero)
{
	struct run_result result;
	boot_hello("", &result);
	expect_lines(&result, (const char *const[]){
		"hello: multiboot ok",
		"hello: console line through the hypercall",
		"hello: console line through out",
		"hello: done",
		NULL,
	});
	expect_status(&result, QEMU_STATUS(0));
	run_result_free(&result);
}

Test(qemu, exit_code_argument)
{
	struct run_result result;
	boot_hello("exit=5", &result);
	expect_lines(&result, (const char *const[]){ "hello: multiboot ok", "hello: done", NULL });
	expect_status(&result, QEMU_STATUS(5));
	run_result_free(&result);
}

Test(qemu, echo_shows_the_arguments_that_arrived)
{
	struct run_result result;
	boot_hello("echo x y", &result);
	expect_lines(&result, (const char *const[]){ "hello: args: echo x y", "hello: done", NULL });
	expect_status(&result, QEMU_STATUS(0));
	run_result_free(&result);
}

Test(qemu, shutdown_needs_vmirun)
{
	struct run_result result;
	boot_hello("shutdown", &result);
	expect_lines(&result, (const char *const[]){ "hello: shutdown needs vmirun", NULL });
	expect_status(&result, QEMU_STATUS(4));
	run_result_free(&result);
}

Test(qemu, unknown_argument_exits_two)
{
	struct run_result result;
	boot_hello("bogus", &result);
	expect_lines(&result, (const char *const[]){ "hello: unknown argument bogus", NULL });
	expect_status(&result, QEMU_STATUS(2));
	run_result_free(&result);
}

Test(qemu, memory_map_shows_ram_above_one_mib)
{
	struct run_result result;
	boot_hello("mem", &result);
	/* Low memory is always 0-0x9fc00; the end of RAM from 1 MiB depends on what the
	 * firmware reserves below the top, so only that entry's start is fixed. */
	expect_lines(&result, (const char *const[]){ "hello: mmap 0x00000000 0x0009fc00 type 1",
	                                             "hello: done", NULL });
	cr_assert(strstr(result.out, "\nhello: mmap 0x00100000 0x"), "no RAM at 1 MiB in:\n%s",
	          result.out);
	expect_status(&result, QEMU_STATUS(0));
	run_result_free(&result);
}

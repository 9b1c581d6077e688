/* Linux under vmirun (docs/linux.md): the guest `make linux` builds, as a bzImage and as a
 * vmlinux, pages (trap-and-emulate: its own page tables, host mappings as its TLB), boots to
 * its serial console, and then meets the hole no trap closes: its `pushf` reads the real
 * IF, which is always 1 in ring 3, so its first "interrupts must be off here" check fails,
 * it panics, and with panic=-1 reboots through the keyboard controller's reset line, which
 * vmirun reports (status 10). These fail if Linux gets less far; when it gets further,
 * update them and docs/linux.md. Bad Linux images are one-line errors. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define TIMEOUT 90.0
#define STATUS_REBOOT 10   /* vmm/exit_status.h */
#define CMDLINE "console=ttyS0", "earlyprintk=serial,ttyS0", "rdinit=/init", "panic=-1"

static struct run_result vmirun(const char *const *args)
{
	struct run_result r;
	cr_assert_eq(run_program(vmirun_path(), args, TIMEOUT, &r), 0, "cannot start vmirun: %s", r.err);
	cr_assert(!r.timed_out, "vmirun did not finish within %.0f s; stdout:\n%s", TIMEOUT, r.out);
	cr_assert(r.exited, "vmirun was killed by signal %d; stderr: %s", r.term_signal, r.err);
	return r;
}

#define VMIRUN(...) vmirun((const char *const[]){ __VA_ARGS__, NULL })

/* A file of build/linux, in a buffer of its own per name. */
static const char *linux_file(const char *name)
{
	static char paths[4][512];
	static unsigned next;
	char relative[64];
	snprintf(relative, sizeof relative, "linux/%s", name);
	char *path = paths[next++ % 4];
	snprintf(path, sizeof paths[0], "%s", build_path(relative));
	cr_assert_eq(access(path, R_OK), 0, "%s is missing: run `make linux` first", path);
	return path;
}

/* The serial console talks to a terminal: a form feed first (the decompressor clears the
 * screen), "\r\n" line ends. Compare without them. */
static void drop_terminal_controls(struct run_result *r)
{
	size_t kept = 0;
	for (size_t i = 0; i < r->out_len; i++)
		if (r->out[i] != '\r' && r->out[i] != '\f')
			r->out[kept++] = r->out[i];
	r->out[kept] = '\0';
	r->out_len = kept;
}

/* How far Linux gets, in the order it says so; then the panic and the reboot. */
static void expect_console_then_the_interrupt_flag_hole(const struct run_result *r)
{
	static const char *const milestones[] = {
		"Linux version 6.1",                                  /* its own printk, paged */
		"\nMemory: ",                                         /* the page allocator */
		"\nprintk: console [ttyS0] enabled\n",                /* its serial driver */
		"\nKernel panic - not syncing: ",                      /* the pushf hole */
	};
	const char *at = r->out;
	for (size_t i = 0; i < sizeof milestones / sizeof milestones[0]; i++) {
		const char *found = strstr(at, milestones[i]);
		cr_assert_not_null(found, "no '%s' (after the previous milestone); stdout:\n%s\n"
		                   "stderr:\n%s", milestones[i], r->out, r->err);
		at = found;
	}
	cr_assert_eq(r->exit_status, STATUS_REBOOT, "status %d\nstdout:\n%s\nstderr:\n%s",
	             r->exit_status, r->out, r->err);
	cr_assert(strstr(r->err, "the guest asked to reboot"), "%s", r->err);
}

TestSuite(linux, .timeout = 3 * TIMEOUT);

Test(linux, bzimage_decompresses_itself_pages_and_boots_to_its_console)
{
	struct run_result r = VMIRUN("--timeout", "80", "--initrd", linux_file("initramfs.cpio"),
	                             linux_file("bzImage"), "--", CMDLINE);
	/* The decompressor's early console (earlyprintk=serial) comes first. */
	drop_terminal_controls(&r);
	cr_assert(strncmp(r.out, "early console in extract_kernel\n", 32) == 0, "stdout:\n%s\n%s",
	          r.out, r.err);
	cr_assert(strstr(r.out, "\nDecompressing Linux... Parsing ELF... done.\n"
	                        "Booting the kernel (entry_offset: 0x00000000).\n"),
	          "stdout:\n%s", r.out);
	expect_console_then_the_interrupt_flag_hole(&r);
	run_result_free(&r);
}

Test(linux, vmlinux_starts_at_startup_32_pages_and_boots_to_its_console)
{
	struct run_result r = VMIRUN("--timeout", "80", "--initrd", linux_file("initramfs.cpio"),
	                             linux_file("vmlinux"), "--", CMDLINE);
	drop_terminal_controls(&r);
	cr_assert(strncmp(r.out, "Linux version 6.1", 17) == 0, "stdout:\n%s", r.out);
	expect_console_then_the_interrupt_flag_hole(&r);
	run_result_free(&r);
}

/* A bzImage cut after its setup sectors, an initrd for a multiboot kernel, an initrd that
 * does not fit: one line each, status 2, before any guest runs. */
static void expect_one_line_error(const struct run_result *r, const char *needle)
{
	cr_assert_eq(r->exit_status, 2, "status %d: %s", r->exit_status, r->err);
	cr_assert(strstr(r->err, needle), "stderr lacks '%s': %s", needle, r->err);
	cr_assert_eq(strchr(r->err, '\n'), r->err + r->err_len - 1, "not one line: %s", r->err);
	cr_assert_eq(r->out_len, 0, "stdout: %s", r->out);
}

Test(linux, bad_images_and_initrds_are_one_line_errors)
{
	char cut[] = "/tmp/openvmi-cut-bzImage-XXXXXX";
	int fd = mkstemp(cut);
	cr_assert_geq(fd, 0);
	FILE *whole = fopen(linux_file("bzImage"), "rb");
	cr_assert_not_null(whole);
	char sectors[4096];
	size_t got = fread(sectors, 1, sizeof sectors, whole);
	fclose(whole);
	cr_assert_eq(write(fd, sectors, got), (ssize_t)got);
	close(fd);
	struct run_result r = VMIRUN(cut);
	expect_one_line_error(&r, "takes the whole 4096-byte file: no protected-mode kernel follows");
	run_result_free(&r);
	unlink(cut);

	char hello[512];
	snprintf(hello, sizeof hello, "%s", build_path("tests/guests/hello.elf"));
	r = VMIRUN("--initrd", linux_file("initramfs.cpio"), hello);
	expect_one_line_error(&r, "--initrd is for Linux kernels");
	run_result_free(&r);

	r = VMIRUN("--mem", "20M", "--initrd", linux_file("initramfs.cpio"), linux_file("bzImage"));
	expect_one_line_error(&r, "does not fit in guest RAM between the kernel's end");
	run_result_free(&r);

	r = VMIRUN("--mem", "8M", linux_file("vmlinux"));
	expect_one_line_error(&r, "is outside guest RAM");
	run_result_free(&r);
}

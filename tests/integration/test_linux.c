/* Linux under vmirun (docs/linux.md): the guest `make linux` builds, as a bzImage and as a
 * vmlinux, runs until it turns paging on, which vmirun does not implement yet, and vmirun
 * says so in one line naming the instruction. These fail if Linux gets less far; when it
 * gets further, update them and docs/linux.md. Bad Linux images are one-line errors. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define TIMEOUT 60.0
#define STATUS_NOT_IMPLEMENTED 20   /* vmm/exit_status.h */
#define CMDLINE "console=ttyS0", "earlyprintk=serial,ttyS0", "rdinit=/init"
/* Where head_32.S turns paging on: the `movl %eax,%cr0` after .Lenable_paging. */
#define PAGING_ON_SYMBOL "startup_32_smp"
#define PAGING_ON_REASON \
	": mov %eax,%cr0 sets CR0.PG (value 0x80050033): guest paging is not implemented yet\n"

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

/* The symbol of System.map whose code holds physical address `eip` (the kernel runs at its
 * physical addresses until paging is on; System.map has the virtual ones). */
static void symbol_at(uint32_t eip, char *name, size_t size)
{
	FILE *map = fopen(linux_file("System.map"), "r");
	cr_assert_not_null(map);
	unsigned long address, physical_start = 0, virtual_start = 0;
	char type, symbol[256];
	while (fscanf(map, "%lx %c %255s", &address, &type, symbol) == 3) {
		if (strcmp(symbol, "phys_startup_32") == 0)
			physical_start = address;
		else if (strcmp(symbol, "startup_32") == 0)
			virtual_start = address;
	}
	cr_assert(physical_start && virtual_start, "System.map lacks startup_32");
	unsigned long wanted = eip - physical_start + virtual_start, best = 0;
	rewind(map);
	name[0] = '\0';
	while (fscanf(map, "%lx %c %255s", &address, &type, symbol) == 3)
		if ((type == 'T' || type == 't') && address <= wanted && address >= best) {
			best = address;
			snprintf(name, size, "%s", symbol);
		}
	fclose(map);
}

/* The stop line is the first line of stderr; the registers follow it. */
static void expect_stop_where_paging_starts(const struct run_result *r)
{
	cr_assert_eq(r->exit_status, STATUS_NOT_IMPLEMENTED, "status %d\nstdout:\n%s\nstderr:\n%s",
	             r->exit_status, r->out, r->err);
	unsigned eip;
	cr_assert_eq(sscanf(r->err, "vmirun: guest stopped at eip 0x%8x", &eip), 1, "%s", r->err);
	char line[256];
	snprintf(line, sizeof line, "vmirun: guest stopped at eip 0x%08x%s", eip, PAGING_ON_REASON);
	cr_assert(strncmp(r->err, line, strlen(line)) == 0, "stderr: %s", r->err);
	char symbol[256];
	symbol_at(eip, symbol, sizeof symbol);
	cr_assert_str_eq(symbol, PAGING_ON_SYMBOL, "stopped at 0x%08x in %s, not in %s:\n%s", eip,
	                 symbol, PAGING_ON_SYMBOL, r->err);
	cr_assert(strstr(r->err, "\nvmirun: guest registers: eip="), "%s", r->err);
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

TestSuite(linux, .timeout = 3 * TIMEOUT);

Test(linux, bzimage_decompresses_itself_and_stops_where_paging_starts)
{
	struct run_result r = VMIRUN("--initrd", linux_file("initramfs.cpio"),
	                             linux_file("bzImage"), "--", CMDLINE);
	/* The decompressor's early console (earlyprintk=serial) is all of the output: the
	 * kernel's own starts after paging. */
	drop_terminal_controls(&r);
	cr_assert(strncmp(r.out, "early console in extract_kernel\n", 32) == 0, "stdout:\n%s\n%s",
	          r.out, r.err);
	cr_assert(strstr(r.out, "\nDecompressing Linux... Parsing ELF... done.\n"
	                        "Booting the kernel (entry_offset: 0x00000000).\n"),
	          "stdout:\n%s", r.out);
	expect_stop_where_paging_starts(&r);
	run_result_free(&r);
}

Test(linux, vmlinux_starts_at_startup_32_and_stops_where_paging_starts)
{
	struct run_result r = VMIRUN("--initrd", linux_file("initramfs.cpio"),
	                             linux_file("vmlinux"), "--", CMDLINE);
	cr_assert_eq(r.out_len, 0, "stdout:\n%s", r.out);
	expect_stop_where_paging_starts(&r);
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

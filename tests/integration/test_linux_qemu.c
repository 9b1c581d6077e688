/* The native peer for Linux on OpenVMI: the guest `make linux` builds boots under
 * qemu-system-i386 (TCG) through guest/linux/qemu.sh, reaches its shell and leaves through
 * the exit port with status 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define BOOT_TIMEOUT_SECONDS 150.0

/* Where a line of `text` at or after `from` starts with `prefix`. */
static const char *find_line(const char *text, const char *from, const char *prefix)
{
	for (const char *p = strstr(from, prefix); p; p = strstr(p + 1, prefix))
		if (p == text || p[-1] == '\n')
			return p;
	return NULL;
}

TestSuite(linux_qemu, .timeout = 2 * BOOT_TIMEOUT_SECONDS);

Test(linux_qemu, boots_to_its_shell_and_exits_zero)
{
	char linux_dir[512];
	snprintf(linux_dir, sizeof linux_dir, "%s", build_path("linux"));
	cr_assert_eq(access(build_path("linux/bzImage"), R_OK), 0,
	             "%s/bzImage is missing: run `make linux` first", linux_dir);
	char *argv[] = { "guest/linux/qemu.sh", linux_dir, NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, BOOT_TIMEOUT_SECONDS, &r), 0, "cannot run %s: %s", argv[0],
	             r.err);
	cr_assert(!r.timed_out, "no end in %.0f s; console so far:\n%s", BOOT_TIMEOUT_SECONDS, r.out);
	cr_assert(r.exited && r.exit_status == 0, "status %d (signal %d):\n%s\n%s", r.exit_status,
	          r.term_signal, r.out, r.err);

	/* In order: the decompressor's early console, the kernel's, the init's shell (line
	 * starts: the sublevel follows Debian's security updates). */
	const char *const lines[] = {
		"early console in extract_kernel",
		"Decompressing Linux... Parsing ELF... done.",
		"Linux version 6.1.",
		"Run /init as init process",
		"openvmi-linux: init: Linux 6.1.",
		"openvmi-linux: 1 cpu, ",
		"openvmi-linux: a pipeline: PIPES WORK",
		"openvmi-linux: done, exit port 0",
		NULL,
	};
	const char *from = r.out;
	for (size_t i = 0; lines[i]; i++) {
		const char *found = find_line(r.out, from, lines[i]);
		cr_assert(found, "line \"%s\" missing or out of order in the console:\n%s", lines[i],
		          r.out);
		from = found + strlen(lines[i]);
	}
	cr_assert(find_line(r.out, from, "linux-qemu: Linux reached its shell and exited 0"),
	          "%s", r.out);
	run_result_free(&r);
}

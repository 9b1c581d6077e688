/* Runs build/vmirom on the built ROM images and on broken copies written to temporary
 * files: exit status (0 fine, 1 invalid, 2 usage) and one-line messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmi/call_names.h>
#include <vmi/calls.h>
#include <vmi/rom.h>
#include "run.h"

#define VMIROM_TIMEOUT 30.0

static struct run_result vmirom_run(const char *const *args)
{
	struct run_result r;
	cr_assert_eq(run_program(build_path("vmirom"), args, VMIROM_TIMEOUT, &r), 0,
	             "cannot start vmirom: %s", r.err);
	cr_assert(!r.timed_out, "vmirom did not finish");
	cr_assert(r.exited, "vmirom killed by signal %d; stderr: %s", r.term_signal, r.err);
	return r;
}

#define VMIROM(...) vmirom_run((const char *const[]){ __VA_ARGS__, NULL })

static const char *vmirom_image(const char *name)
{
	static char paths[2][512];
	static unsigned next;
	char *path = paths[next++ % 2];
	snprintf(path, sizeof(paths[0]), "%s/rom/%s", build_path(""), name);
	return path;
}

static void vmirom_expect_one_line(const char *text, size_t length, const char *needle)
{
	cr_assert_gt(length, 0, "no message");
	cr_assert_eq(strchr(text, '\n'), text + length - 1, "not one line: %s", text);
	cr_assert(strstr(text, needle), "'%s' lacks '%s'", text, needle);
}

/* exit 1, one line on stderr naming the file and the reason, nothing on stdout */
static void vmirom_expect_invalid(const struct run_result *r, const char *path,
                                  const char *needle)
{
	cr_assert_eq(r->exit_status, 1, "status %d; stderr: %s", r->exit_status, r->err);
	vmirom_expect_one_line(r->err, r->err_len, needle);
	cr_assert(strncmp(r->err, path, strlen(path)) == 0, "does not name the file: %s", r->err);
	cr_assert_eq(r->out_len, 0, "stdout: %s", r->out);
}

static void vmirom_expect_usage_error(const struct run_result *r, const char *needle)
{
	cr_assert_eq(r->exit_status, 2, "status %d; stderr: %s", r->exit_status, r->err);
	vmirom_expect_one_line(r->err, r->err_len, needle);
	cr_assert_eq(r->out_len, 0, "stdout: %s", r->out);
}

/* A copy of a built image with `mutate` applied, in a mkstemp file (path into `path`). */
struct vmirom_copy {
	unsigned char bytes[VMI_ROM_MAX_SIZE];
	size_t size;
};

static void vmirom_load(const char *name, struct vmirom_copy *copy)
{
	FILE *f = fopen(vmirom_image(name), "rb");
	cr_assert_not_null(f, "cannot open %s (run make first)", vmirom_image(name));
	copy->size = fread(copy->bytes, 1, sizeof(copy->bytes), f);
	fclose(f);
	cr_assert_gt(copy->size, VMI_ROM_CALL_TABLE_END);
}

static void vmirom_reseal(struct vmirom_copy *copy)
{
	unsigned char sum = 0;
	for (size_t i = 0; i + 1 < copy->size; i++)
		sum = (unsigned char)(sum + copy->bytes[i]);
	copy->bytes[copy->size - 1] = (unsigned char)-sum;
}

static void vmirom_write(const struct vmirom_copy *copy, size_t size, char *path)
{
	strcpy(path, "/tmp/vmirom-test-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, copy->bytes, size), (ssize_t)size);
	close(fd);
}

static struct vmirom_copy vmirom_buffer;

TestSuite(vmirom, .timeout = 60);

Test(vmirom, verify_accepts_both_built_images)
{
	const char *names[] = { "process_rom.bin", "native_rom.bin" };
	for (int i = 0; i < 2; i++) {
		const char *path = vmirom_image(names[i]);
		struct run_result r = VMIROM("verify", path);
		cr_assert_eq(r.exit_status, 0, "%s: %s", path, r.err);
		vmirom_expect_one_line(r.out, r.out_len, ": valid VMI ROM: API 13.");
		cr_assert(strncmp(r.out, path, strlen(path)) == 0, "%s", r.out);
		cr_assert_eq(r.err_len, 0, "stderr: %s", r.err);
		run_result_free(&r);
	}
}

Test(vmirom, verify_refuses_a_bad_checksum_saying_the_sum)
{
	char path[64];
	vmirom_load("process_rom.bin", &vmirom_buffer);
	vmirom_buffer.bytes[200] += 5;
	vmirom_write(&vmirom_buffer, vmirom_buffer.size, path);
	struct run_result r = VMIROM("verify", path);
	char needle[128];
	snprintf(needle, sizeof(needle), "bad checksum: the %zu bytes sum to 0x05 mod 256",
	         vmirom_buffer.size);
	vmirom_expect_invalid(&r, path, needle);
	run_result_free(&r);
	unlink(path);
}

Test(vmirom, verify_refuses_a_stub_that_overflows_its_slot)
{
	char path[64];
	vmirom_load("native_rom.bin", &vmirom_buffer);
	memset(vmirom_buffer.bytes + VMI_ROM_CALL_OFFSET(VMI_CALL_SetGDT), 0x90,
	       VMI_ROM_SLOT_SIZE);
	vmirom_reseal(&vmirom_buffer);
	vmirom_write(&vmirom_buffer, vmirom_buffer.size, path);
	struct run_result r = VMIROM("verify", path);
	vmirom_expect_invalid(&r, path, "call 8 (SetGDT): stub runs past its 32-byte slot");
	run_result_free(&r);
	unlink(path);
}

Test(vmirom, verify_refuses_a_truncated_file)
{
	char path[64];
	vmirom_load("process_rom.bin", &vmirom_buffer);
	vmirom_write(&vmirom_buffer, 4096, path);
	struct run_result r = VMIROM("verify", path);
	vmirom_expect_invalid(&r, path, "truncated file");
	run_result_free(&r);
	unlink(path);
}

Test(vmirom, verify_refuses_a_file_that_is_no_rom)
{
	char path[64];
	memset(vmirom_buffer.bytes, 'x', 100);
	vmirom_write(&vmirom_buffer, 100, path);
	struct run_result r = VMIROM("verify", path);
	vmirom_expect_invalid(&r, path, "bad option-ROM signature");
	run_result_free(&r);
	unlink(path);
}

Test(vmirom, calls_and_disasm_refuse_a_broken_structure)
{
	char path[64];
	vmirom_load("process_rom.bin", &vmirom_buffer);
	vmirom_buffer.bytes[VMI_ROM_HDR_API_MAJOR] = 99;
	vmirom_reseal(&vmirom_buffer);
	vmirom_write(&vmirom_buffer, vmirom_buffer.size, path);
	struct run_result r = VMIROM("calls", path);
	vmirom_expect_invalid(&r, path, "unknown API major version 99");
	run_result_free(&r);
	r = VMIROM("disasm", path);
	vmirom_expect_invalid(&r, path, "unknown API major version 99");
	run_result_free(&r);
	/* info still shows the header, and says what is wrong */
	r = VMIROM("info", path);
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	char needle[64];
	snprintf(needle, sizeof(needle), "API version:      99.%d (unknown major)", VMI_API_MINOR);
	cr_assert(strstr(r.out, needle), "%s", r.out);
	cr_assert(strstr(r.out, "structure:        unknown API major version 99"), "%s", r.out);
	run_result_free(&r);
	unlink(path);
}

Test(vmirom, info_shows_the_header)
{
	struct run_result r = VMIROM("info", vmirom_image("process_rom.bin"));
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "signature 0xaa55 (ok)"), "%s", r.out);
	cr_assert(strstr(r.out, "\"cVmi\" (ok)"), "%s", r.out);
	cr_assert(strstr(r.out, "checksum:         ok"), "%s", r.out);
	cr_assert(strstr(r.out, "entry 0x000c0080"), "%s", r.out);
	cr_assert(strstr(r.out, "vaddr 0x000c0000"), "%s", r.out);
	cr_assert(strstr(r.out, "structure:        valid"), "%s", r.out);
	cr_assert_eq(r.err_len, 0);
	run_result_free(&r);
}

Test(vmirom, calls_lists_every_call_once)
{
	struct run_result r = VMIROM("calls", vmirom_image("process_rom.bin"));
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	unsigned lines = 0;
	for (const char *p = r.out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 1 + VMI_CALL_COUNT - VMI_CALL_FIRST, "%u lines", lines);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++)
		cr_assert(strstr(r.out, vmi_call_name(call)), "no %s", vmi_call_name(call));
	cr_assert(strstr(r.out, "  35 EnableInterrupts         inline    0x000c0460  flags"),
	          "%s", r.out);
	cr_assert(strstr(r.out, "26 bytes, internal branch"), "%s", r.out);
	run_result_free(&r);
}

Test(vmirom, disasm_one_call_by_name_or_number)
{
	struct run_result r = VMIROM("disasm", vmirom_image("process_rom.bin"), "enableinterrupts");
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "call 35 EnableInterrupts: inline"), "%s", r.out);
	cr_assert(strstr(r.out, "lcall"), "%s", r.out);
	cr_assert(strstr(r.out, "template (26 bytes"), "%s", r.out);
	run_result_free(&r);

	r = VMIROM("disasm", vmirom_image("native_rom.bin"), "4");
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "call 4 Init: call_rel"), "%s", r.out);
	cr_assert(strstr(r.out, "body at 0x"), "%s", r.out);
	run_result_free(&r);

	r = VMIROM("disasm", vmirom_image("native_rom.bin"), "NoSuchCall");
	vmirom_expect_usage_error(&r, "unknown call");
	run_result_free(&r);
}

Test(vmirom, disasm_shows_every_call)
{
	struct run_result r = VMIROM("disasm", vmirom_image("native_rom.bin"));
	cr_assert_eq(r.exit_status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "header: 16-bit entry"), "%s", r.out);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		char heading[64];
		snprintf(heading, sizeof(heading), "call %u %s:", call, vmi_call_name(call));
		cr_assert(strstr(r.out, heading), "no '%s'", heading);
	}
	cr_assert(strstr(r.out, "cli"), "the native template for DisableInterrupts");
	run_result_free(&r);
}

Test(vmirom, help_and_version)
{
	struct run_result r = VMIROM("--help");
	cr_assert_eq(r.exit_status, 0);
	cr_assert(strstr(r.out, "usage: vmirom COMMAND IMAGE"), "%s", r.out);
	cr_assert(strstr(r.out, "verify IMAGE"), "%s", r.out);
	cr_assert_eq(r.err_len, 0);
	run_result_free(&r);
	r = VMIROM("--version");
	cr_assert_eq(r.exit_status, 0);
	vmirom_expect_one_line(r.out, r.out_len, "vmirom (OpenVMI)");
	run_result_free(&r);
}

Test(vmirom, usage_errors_exit_2_with_one_line)
{
	struct run_result r = VMIROM("verify", "/nonexistent/rom.bin");
	vmirom_expect_usage_error(&r, "/nonexistent/rom.bin: No such file or directory");
	run_result_free(&r);

	r = VMIROM("frobnicate", vmirom_image("process_rom.bin"));
	vmirom_expect_usage_error(&r, "unknown command: frobnicate");
	run_result_free(&r);

	r = VMIROM("verify");
	vmirom_expect_usage_error(&r, "missing image file");
	run_result_free(&r);

	r = VMIROM("--bogus");
	vmirom_expect_usage_error(&r, "unknown option: --bogus");
	run_result_free(&r);

	r = VMIROM("verify", "/");
	vmirom_expect_usage_error(&r, "/: Is a directory");
	run_result_free(&r);

	r = VMIROM("verify", vmirom_image("process_rom.bin"), "extra");
	vmirom_expect_usage_error(&r, "too many arguments");
	run_result_free(&r);
}

Test(vmirom, no_arguments_is_a_usage_error)
{
	char *argv[] = { (char *)build_path("vmirom"), NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, VMIROM_TIMEOUT, &r), 0);
	vmirom_expect_usage_error(&r, "missing command");
	run_result_free(&r);
}

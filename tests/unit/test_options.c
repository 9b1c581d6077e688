/* Unit tests for vmirun's command-line parsing: sizes, defaults, refusals, the kernel's
 * command line. */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"

static int parse_words(struct vmirun_options *options, char *error, const char *const *words)
{
	static char *argv[32];
	int argc = 0;
	argv[argc++] = "vmirun";
	for (; words[argc - 1]; argc++)
		argv[argc] = (char *)words[argc - 1];
	argv[argc] = NULL;
	return options_parse(argc, argv, options, error);
}

#define PARSE(options, error, ...) parse_words(options, error, (const char *const[]){ __VA_ARGS__, NULL })

Test(options, defaults)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "k.elf"), 0, "%s", error);
	cr_assert_str_eq(o.kernel_path, "k.elf");
	cr_assert_eq(o.mem_bytes, 128ull << 20);
	cr_assert_eq(o.timeout_seconds, 0);
	cr_assert_eq(o.stats, STATS_NONE);
	cr_assert_eq(o.guest_arg_count, 0);
}

Test(options, sizes)
{
	uint64_t bytes;
	cr_assert_eq(options_parse_size("128", &bytes), 0);
	cr_assert_eq(bytes, 128ull << 20);
	cr_assert_eq(options_parse_size("2G", &bytes), 0);
	cr_assert_eq(bytes, 2ull << 30);
	cr_assert_eq(options_parse_size("512MiB", &bytes), 0);
	cr_assert_eq(bytes, 512ull << 20);
	cr_assert_eq(options_parse_size("4096K", &bytes), 0);
	cr_assert_eq(bytes, 4ull << 20);
	cr_assert_eq(options_parse_size("", &bytes), -1);
	cr_assert_eq(options_parse_size("-1", &bytes), -1);
	cr_assert_eq(options_parse_size("12T", &bytes), -1);
	cr_assert_eq(options_parse_size("99999999999999999999", &bytes), -1);
	cr_assert_eq(options_parse_size("18446744073709551615G", &bytes), -1);
}

Test(options, every_option)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "--mem", "1G", "--timeout", "2.5", "--stats=json",
	                   "--cmdline", "a b", "k.elf"), 0, "%s", error);
	cr_assert_eq(o.mem_bytes, 1ull << 30);
	cr_assert_float_eq(o.timeout_seconds, 2.5, 1e-9);
	cr_assert_eq(o.stats, STATS_JSON);
	cr_assert_str_eq(o.cmdline, "a b");
	char *line = options_kernel_cmdline(&o, 1);
	cr_assert_str_eq(line, "k.elf a b");
	free(line);
}

Test(options, initrd_and_the_linux_command_line_without_the_kernel_path)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "--initrd", "root.cpio", "bzImage", "--", "console=ttyS0",
	                   "quiet"), 0, "%s", error);
	cr_assert_str_eq(o.initrd_path, "root.cpio");
	char *line = options_kernel_cmdline(&o, 0);
	cr_assert_str_eq(line, "console=ttyS0 quiet");
	free(line);
	cr_assert_eq(PARSE(&o, error, "--cmdline", "a b", "bzImage"), 0, "%s", error);
	line = options_kernel_cmdline(&o, 0);
	cr_assert_str_eq(line, "a b");
	free(line);
	cr_assert_eq(PARSE(&o, error, "bzImage"), 0, "%s", error);
	cr_assert_null(o.initrd_path);
	line = options_kernel_cmdline(&o, 0);
	cr_assert_str_eq(line, "");
	free(line);
	cr_assert_eq(PARSE(&o, error, "bzImage", "--initrd"), -1);
	cr_assert_eq(PARSE(&o, error, "--initrd"), -1);
	cr_assert_str_eq(error, "--initrd needs a value");
}

Test(options, guest_arguments_after_double_dash)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "--stats", "k.elf", "--", "x", "--mem", "y"), 0, "%s", error);
	cr_assert_eq(o.stats, STATS_TEXT);
	cr_assert_eq(o.guest_arg_count, 3);
	char *line = options_kernel_cmdline(&o, 1);
	cr_assert_str_eq(line, "k.elf x --mem y");
	free(line);
}

Test(options, help_and_version_win)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "--help"), 0);
	cr_assert(o.show_help);
	cr_assert_eq(PARSE(&o, error, "-h"), 0);
	cr_assert(o.show_help);
	cr_assert_eq(PARSE(&o, error, "--version"), 0);
	cr_assert(o.show_version);
}

static void expect_refusal(const char *needle, const char *const *words)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX] = "";
	cr_assert_eq(parse_words(&o, error, words), -1, "accepted; expected '%s'", needle);
	cr_assert(strstr(error, needle), "'%s' lacks '%s'", error, needle);
	cr_assert_null(strchr(error, '\n'));
}

#define REFUSED(needle, ...) expect_refusal(needle, (const char *const[]){ __VA_ARGS__, NULL })

Test(options, refusals)
{
	REFUSED("no kernel given", "--stats");
	REFUSED("unknown option '--nope'", "--nope", "k");
	REFUSED("unknown option '-x'", "-x", "k");
	REFUSED("--mem needs a value", "--mem");
	REFUSED("is not a size", "--mem", "abc", "k");
	REFUSED("does not fit", "--mem", "0", "k");
	REFUSED("does not fit", "--mem", "4095", "k");
	REFUSED("does not fit", "--mem", "1025K", "k");
	REFUSED("--timeout", "--timeout", "0", "k");
	REFUSED("--timeout", "--timeout", "nan", "k");
	REFUSED("--timeout", "--timeout", "1x", "k");
	REFUSED("unknown format", "--stats=yaml", "k");
	REFUSED("unexpected 'x' after the kernel", "k", "x");
	REFUSED("not both", "--cmdline", "a", "k", "--", "b");
}

Test(options, largest_ram_that_fits)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	/* RAM runs from 1 MiB up to vmirun's window at 0xFFFF0000 */
	cr_assert_eq(PARSE(&o, error, "--mem", "4193216K", "k"), 0, "%s", error);
	REFUSED("does not fit", "--mem", "4193220K", "k");
}

Test(options, rom_choices)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "k"), 0, "%s", error);
	cr_assert_null(o.rom_path);
	cr_assert(!o.no_rom);
	cr_assert_eq(PARSE(&o, error, "--rom", "r.bin", "k"), 0, "%s", error);
	cr_assert_str_eq(o.rom_path, "r.bin");
	cr_assert_eq(PARSE(&o, error, "--no-rom", "k"), 0, "%s", error);
	cr_assert(o.no_rom);
	REFUSED("contradict", "--rom", "r.bin", "--no-rom", "k");
	REFUSED("--rom needs a value", "--rom");
}

Test(options, address_spaces_from_1_to_8)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "k.elf"), 0, "%s", error);
	cr_assert_eq(o.address_spaces, OPTIONS_DEFAULT_ADDRESS_SPACES);
	cr_assert_eq(PARSE(&o, error, "--address-spaces", "3", "k.elf"), 0, "%s", error);
	cr_assert_eq(o.address_spaces, 3);
	cr_assert_eq(PARSE(&o, error, "--address-spaces", "8", "--no-rom", "k.elf"), 0, "%s", error);
	cr_assert_eq(o.address_spaces, 8);
	static const char *const bad[] = { "0", "9", "-1", "2x", "", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(PARSE(&o, error, "--address-spaces", bad[i], "k.elf"), -1, "%s", bad[i]);
		cr_assert(strstr(error, "--address-spaces") && strstr(error, "from 1 to 8"), "%s", error);
	}
}

Test(options, isolation_strict_by_default_or_shared)
{
	struct vmirun_options o;
	char error[OPTIONS_ERROR_MAX];
	cr_assert_eq(PARSE(&o, error, "k.elf"), 0, "%s", error);
	cr_assert_eq(o.shared_isolation, 0, "strict is the default");
	cr_assert_eq(PARSE(&o, error, "--isolation=shared", "k.elf"), 0, "%s", error);
	cr_assert_eq(o.shared_isolation, 1);
	cr_assert_eq(PARSE(&o, error, "--isolation", "strict", "k.elf"), 0, "%s", error);
	cr_assert_eq(o.shared_isolation, 0);
	static const char *const bad[] = { "", "Strict", "none", "shared2" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(PARSE(&o, error, "--isolation", bad[i], "k.elf"), -1, "%s", bad[i]);
		cr_assert(strstr(error, "--isolation") && strstr(error, "neither strict nor shared"),
		          "%s", error);
	}
}

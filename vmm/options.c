/* Parses vmirun's command line into struct vmirun_options, with one-line reasons for
 * everything it refuses. Options come before the kernel; guest arguments after `--`. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/process/address_space.h"
#include "options.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)
#define MIN_MEM_BYTES (1 * MIB)
#define MAX_TIMEOUT_SECONDS 1e6

void options_print_help(void)
{
	printf(
	"Usage: vmirun [OPTIONS] KERNEL [-- ARGS...]\n"
	"Runs an i386 kernel natively inside this process, in 32-bit compatibility mode, with\n"
	"no hardware virtualization: a Multiboot (v1) ELF kernel, or Linux (a bzImage or a\n"
	"vmlinux, through its 32-bit boot protocol). A multiboot kernel's command line is the\n"
	"KERNEL path followed by ARGS (or by --cmdline); Linux gets ARGS alone, as from\n"
	"QEMU's -append.\n"
	"\n"
	"Options:\n"
	"  --mem SIZE         guest RAM from 1 MiB: MiB, or with a K, M or G suffix\n"
	"                     (default %d MiB, at most %llu MiB)\n"
	"  --cmdline STRING   the kernel's arguments, instead of ARGS after --\n"
	"  --timeout SECONDS  stop the guest after SECONDS (decimals allowed); a guest that\n"
	"                     escaped and turned that off is killed (SIGKILL) 2 s later\n"
	"  --stats[=FORMAT]   print run statistics to stderr at exit; FORMAT is text\n"
	"                     (the default) or json\n"
	"  --rom FILE         map the VMI ROM image FILE at 0xC0000 instead of the\n"
	"                     embedded one (checked as guests check it)\n"
	"  --no-rom           map no ROM: guests fall back to their native ROM, and their\n"
	"                     privileged instructions are trapped and emulated\n"
	"  --address-spaces N keep up to N guest address spaces (page directories) as host\n"
	"                     processes of their own, 1 to %u (default %u): a CR3 load\n"
	"                     then switches processes instead of dropping mappings; under\n"
	"                     strict isolation each has a second one for its user mode\n"
	"  --isolation MODE   guest user mode against its kernel: strict (the default)\n"
	"                     runs it, once the guest pages, in a host process of each\n"
	"                     address space's own that holds only the pages user mode may\n"
	"                     reach and a stub of vmirun's (a user access to kernel memory\n"
	"                     is a #PF, a host call from code that left 32-bit mode ends\n"
	"                     that guest process alone, as on a PC); shared runs both in\n"
	"                     one process: faster system calls, no protection\n"
	"  --initrd FILE      Linux kernels: load FILE as the initial ramdisk (at the top\n"
	"                     of guest RAM)\n"
	"  --check-host       probe what this host gives the process platform (a 32-bit\n"
	"                     code segment, the low 4 GiB, memfd, seccomp traps, signals,\n"
	"                     timers), print a table and exit: 0 if guests can run, else 14\n"
	"  --help             show this help and exit\n"
	"  --version          show the version and exit\n"
	"\n"
	"Exit status:\n"
	"  0                  the guest called Shutdown\n"
	"  odd: (v<<1)|1      the guest wrote v to the exit port 0xf4 (as QEMU's isa-debug-exit)\n"
	"  2                  vmirun's own error: bad option, unreadable or invalid kernel,\n"
	"                     a file-size limit (ulimit -f) below guest RAM\n"
	"  4                  the guest faulted and had no handler (a one-line reason and its\n"
	"                     registers go to stderr)\n"
	"  6                  --timeout ran out\n"
	"  8                  the guest halted with nothing that could wake it\n"
	"  10                 the guest called Reboot, or pulsed the reset line (port 0x64)\n"
	"  12                 code that left compatibility mode made a system call the\n"
	"                     sandbox refuses\n"
	"  14                 this host cannot run guests: the host check (run before every\n"
	"                     guest; see --check-host) names what is missing and the remedy\n"
	"  16                 internal error: a fault in vmirun's own code (a bug; the\n"
	"                     signal, address and nearest symbol go to stderr), or one of\n"
	"                     its address-space processes ended\n"
	"  18                 stdout refused the guest's console output (closed: the reader\n"
	"                     went away, as in `vmirun K | head -1`; disk full; ulimit -f):\n"
	"                     the guest was stopped\n"
	"  20                 the guest needs what vmirun does not implement yet (PAE, real\n"
	"                     mode, a page with no guest memory behind it): the\n"
	"                     instruction and the reason go to stderr\n",
	OPTIONS_DEFAULT_MEM_MIB, (unsigned long long)(address_space_max_ram() / MIB),
	OPTIONS_MAX_ADDRESS_SPACES, OPTIONS_DEFAULT_ADDRESS_SPACES);
}

int options_parse_size(const char *text, uint64_t *bytes)
{
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return -1;
	uint64_t unit = MIB;
	if (*end) {
		static const struct { const char *suffix; uint64_t unit; } units[] = {
			{ "K", KIB }, { "KiB", KIB }, { "M", MIB }, { "MiB", MIB },
			{ "G", GIB }, { "GiB", GIB },
		};
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].suffix) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		unit = units[i].unit;
	}
	if (value > UINT64_MAX / unit)
		return -1;
	*bytes = value * unit;
	return 0;
}

static int parse_seconds(const char *text, double *seconds)
{
	char *end;
	errno = 0;
	double value = strtod(text, &end);
	if (end == text || *end || errno || !isfinite(value) || value <= 0 ||
	    value > MAX_TIMEOUT_SECONDS)
		return -1;
	*seconds = value;
	return 0;
}

enum { OPT_ADDRESS_SPACES = 1, OPT_MEM, OPT_CMDLINE, OPT_TIMEOUT, OPT_STATS, OPT_ROM, OPT_NO_ROM, OPT_HELP,
       OPT_VERSION, OPT_CHECK_HOST, OPT_INITRD, OPT_ISOLATION };

int options_parse(int argc, char **argv, struct vmirun_options *options,
                  char error[OPTIONS_ERROR_MAX])
{
	static const struct option long_options[] = {
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "stats", optional_argument, NULL, OPT_STATS },
		{ "rom", required_argument, NULL, OPT_ROM },
		{ "no-rom", no_argument, NULL, OPT_NO_ROM },
		{ "address-spaces", required_argument, NULL, OPT_ADDRESS_SPACES },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "isolation", required_argument, NULL, OPT_ISOLATION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "check-host", no_argument, NULL, OPT_CHECK_HOST },
		{ NULL, 0, NULL, 0 },
	};

	memset(options, 0, sizeof(*options));
	options->mem_bytes = OPTIONS_DEFAULT_MEM_MIB * MIB;
	options->address_spaces = OPTIONS_DEFAULT_ADDRESS_SPACES;
	optind = 0; /* glibc: start afresh, so parsing can run more than once (tests) */
	opterr = 0;
	for (;;) {
		int option = getopt_long(argc, argv, "+:h", long_options, NULL);
		if (option == -1)
			break;
		switch (option) {
		case OPT_MEM:
			if (options_parse_size(optarg, &options->mem_bytes) != 0) {
				snprintf(error, OPTIONS_ERROR_MAX,
				         "--mem: '%s' is not a size (try 128, 512M or 1G)", optarg);
				return -1;
			}
			if (options->mem_bytes < MIN_MEM_BYTES ||
			    options->mem_bytes > address_space_max_ram() ||
			    options->mem_bytes % 4096) {
				snprintf(error, OPTIONS_ERROR_MAX,
				         "--mem: %s does not fit: guest RAM must be whole 4 KiB pages "
				         "from 1 MiB to %llu MiB", optarg,
				         (unsigned long long)(address_space_max_ram() / MIB));
				return -1;
			}
			break;
		case OPT_CMDLINE:
			options->cmdline = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &options->timeout_seconds) != 0) {
				snprintf(error, OPTIONS_ERROR_MAX,
				         "--timeout: '%s' is not a number of seconds above 0", optarg);
				return -1;
			}
			break;
		case OPT_STATS:
			if (!optarg || strcmp(optarg, "text") == 0)
				options->stats = STATS_TEXT;
			else if (strcmp(optarg, "json") == 0)
				options->stats = STATS_JSON;
			else {
				snprintf(error, OPTIONS_ERROR_MAX,
				         "--stats: unknown format '%s' (text or json)", optarg);
				return -1;
			}
			break;
		case OPT_ROM:
			options->rom_path = optarg;
			break;
		case OPT_NO_ROM:
			options->no_rom = 1;
			break;
		case OPT_ADDRESS_SPACES: {
			char *end;
			errno = 0;
			unsigned long count = strtoul(optarg, &end, 10);
			if (end == optarg || *end || errno || optarg[0] == '-' || count < 1 ||
			    count > OPTIONS_MAX_ADDRESS_SPACES) {
				snprintf(error, OPTIONS_ERROR_MAX, "--address-spaces: '%s' is not a "
				         "number from 1 to %u", optarg, OPTIONS_MAX_ADDRESS_SPACES);
				return -1;
			}
			options->address_spaces = (unsigned)count;
			break;
		}
		case OPT_INITRD:
			options->initrd_path = optarg;
			break;
		case OPT_ISOLATION:
			if (strcmp(optarg, "strict") == 0) {
				options->shared_isolation = 0;
			} else if (strcmp(optarg, "shared") == 0) {
				options->shared_isolation = 1;
			} else {
				snprintf(error, OPTIONS_ERROR_MAX, "--isolation: '%s' is neither strict "
				         "nor shared", optarg);
				return -1;
			}
			break;
		case 'h':
		case OPT_HELP:
			options->show_help = 1;
			return 0;
		case OPT_VERSION:
			options->show_version = 1;
			return 0;
		case OPT_CHECK_HOST:
			options->check_host = 1;
			return 0;
		case ':':
			snprintf(error, OPTIONS_ERROR_MAX, "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				snprintf(error, OPTIONS_ERROR_MAX, "unknown option '-%c' (see --help)", optopt);
			else
				snprintf(error, OPTIONS_ERROR_MAX, "unknown option '%s' (see --help)",
				         argv[optind - 1]);
			return -1;
		}
	}

	if (options->rom_path && options->no_rom) {
		snprintf(error, OPTIONS_ERROR_MAX, "--rom and --no-rom contradict each other");
		return -1;
	}
	if (optind >= argc) {
		snprintf(error, OPTIONS_ERROR_MAX, "no kernel given (usage: vmirun [OPTIONS] KERNEL [-- ARGS...])");
		return -1;
	}
	options->kernel_path = argv[optind++];
	if (optind < argc) {
		if (strcmp(argv[optind], "--") != 0) {
			snprintf(error, OPTIONS_ERROR_MAX,
			         "unexpected '%s' after the kernel: options go before it, guest "
			         "arguments after --", argv[optind]);
			return -1;
		}
		optind++;
		options->guest_args = argv + optind;
		options->guest_arg_count = argc - optind;
		if (options->cmdline && options->guest_arg_count > 0) {
			snprintf(error, OPTIONS_ERROR_MAX,
			         "give the kernel's arguments with --cmdline or after --, not both");
			return -1;
		}
	}
	return 0;
}

char *options_kernel_cmdline(const struct vmirun_options *options, int with_path)
{
	const char *first = with_path ? options->kernel_path : "";
	size_t length = strlen(first) + 1;
	if (options->cmdline)
		length += strlen(options->cmdline) + 1;
	for (int i = 0; i < options->guest_arg_count; i++)
		length += strlen(options->guest_args[i]) + 1;

	char *line = malloc(length);
	if (!line)
		return NULL;
	strcpy(line, first);
	if (options->cmdline && options->cmdline[0]) {
		if (line[0])
			strcat(line, " ");
		strcat(line, options->cmdline);
	}
	for (int i = 0; i < options->guest_arg_count; i++) {
		if (line[0])
			strcat(line, " ");
		strcat(line, options->guest_args[i]);
	}
	return line;
}

/* vmirun's command line. */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define OPTIONS_ERROR_MAX 200
#define OPTIONS_DEFAULT_MEM_MIB 128
#define OPTIONS_DEFAULT_ADDRESS_SPACES 8
#define OPTIONS_MAX_ADDRESS_SPACES 8  /* platform/process/address_space_processes.h */

enum stats_format { STATS_NONE, STATS_TEXT, STATS_JSON };

struct vmirun_options {
	const char *kernel_path;
	uint64_t mem_bytes;
	const char *cmdline;          /* --cmdline, or NULL */
	char **guest_args;            /* the words after --, or NULL */
	int guest_arg_count;
	double timeout_seconds;       /* 0: none */
	enum stats_format stats;
	const char *rom_path;         /* --rom FILE, or NULL for the embedded ROM */
	int no_rom;                   /* --no-rom */
	unsigned address_spaces;      /* --address-spaces N: kept as host processes */
	int shared_isolation;         /* --isolation=shared (0: strict, the default) */
	const char *initrd_path;      /* --initrd FILE (Linux kernels), or NULL */
	int show_help;
	int show_version;
	int check_host;               /* --check-host: probe the host, print the table, exit */
};

/* Parses argv. Returns 0, or -1 with a one-line reason in `error`. */
int options_parse(int argc, char **argv, struct vmirun_options *options,
                  char error[OPTIONS_ERROR_MAX]);

/* Parses a memory size: a number of MiB, or a number with a K, M or G suffix (KiB, MiB and
 * GiB spelled out are accepted too). Returns 0, or -1 if it is not one. */
int options_parse_size(const char *text, uint64_t *bytes);

/* The kernel's command line as QEMU's -kernel gives it: for multiboot kernels the kernel
 * path, then the arguments; for Linux kernels (`with_path` 0) the arguments alone. The
 * caller frees it. NULL if out of memory. */
char *options_kernel_cmdline(const struct vmirun_options *options, int with_path);

void options_print_help(void);

#endif

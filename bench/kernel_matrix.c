/* The kernel benchmark matrix: boots the reference kernel's benchmarks under vmirun with
 * vmi.link=inline (strict isolation, the default, and --isolation=shared), call and
 * indirect, under vmirun --no-rom (trap-and-emulate), and under qemu-system-i386 (TCG), all
 * in one run; collects the kernel's "bench: NAME CYCLES" lines
 * (each already a median inside the guest), takes the median over repeated boots, and
 * writes a table with ratios to inline, plus a data file for gnuplot. Then, for the paging
 * benchmarks, what vmirun did on the host per guest operation: each alone in a boot with
 * --stats, less a boot that runs none, divided by the operations the kernel counted. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

extern char **environ;

#define MAX_BENCHES 32
#define MAX_RUNS    101
#define OUTPUT_MAX  (1 << 20)

enum mode { INLINE, SHARED, CALL, INDIRECT, TRAP, QEMU, MODES };
static const char *const mode_names[MODES] = { "inline", "inline, shared", "call", "indirect",
                                               "trap (--no-rom)", "QEMU TCG" };
static const char *const mode_keys[MODES] = { "inline", "shared", "call", "indirect", "trap",
                                              "qemu" };

static char bench_names[MAX_BENCHES][64];
static int bench_count;
static double samples[MODES][MAX_BENCHES][MAX_RUNS];
static int sample_count[MODES][MAX_BENCHES];

static int bench_index(const char *name)
{
	for (int i = 0; i < bench_count; i++)
		if (strcmp(bench_names[i], name) == 0)
			return i;
	if (bench_count == MAX_BENCHES)
		return -1;
	snprintf(bench_names[bench_count], sizeof(bench_names[0]), "%s", name);
	return bench_count++;
}

/* Runs argv, returns its stdout (static buffer) and exit status; its stderr goes to
 * `stderr_path` (or nowhere). */
static const char *run_logging(char *const argv[], int *status, const char *stderr_path)
{
	static char output[OUTPUT_MAX];
	int out[2];
	if (pipe(out) != 0)
		return NULL;
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&actions, out[0]);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", 0, 0);
	posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
	                                 stderr_path ? stderr_path : "/dev/null",
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	if (posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ) != 0) {
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
		exit(1);
	}
	posix_spawn_file_actions_destroy(&actions);
	close(out[1]);
	size_t used = 0;
	ssize_t n;
	while ((n = read(out[0], output + used, OUTPUT_MAX - 1 - used)) > 0)
		used += (size_t)n;
	output[used] = 0;
	close(out[0]);
	int raw;
	waitpid(pid, &raw, 0);
	*status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
	return output;
}

static const char *run(char *const argv[], int *status)
{
	return run_logging(argv, status, NULL);
}

static void collect(enum mode mode, const char *output)
{
	for (const char *line = output; line && *line; ) {
		char name[64];
		double value;
		if (sscanf(line, "bench: %63s %lf", name, &value) == 2) {
			int i = bench_index(name);
			if (i >= 0 && sample_count[mode][i] < MAX_RUNS)
				samples[mode][i][sample_count[mode][i]++] = value;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static double median_of(enum mode mode, int bench)
{
	int n = sample_count[mode][bench];
	return n == 0 ? -1 : median_of_runs(samples[mode][bench], n);
}

/* --- host operations per guest operation ------------------------------------------------- */

#define OPERATION_RUNS_MAX 3
#define STATS_MAX          8192

enum count { HYPERCALLS, TRAPS, FILLED, UPGRADES, DELIVERED, MAPS, UNMAPS, SPUN, SLEPT,
             COUNTS };
static const char *const count_titles[COUNTS] = {
	"hypercalls", "traps", "host faults filled", "write upgrades", "#PF to the guest",
	"map calls", "unmap calls", "switches spinning", "switches futex",
};
/* Each count's JSON key in vmirun's --stats=json, and the object it is in (NULL: the top). */
static const struct { const char *object, *key; } count_keys[COUNTS] = {
	[HYPERCALLS] = { NULL, "hypercalls_total" }, [TRAPS] = { "traps", NULL },
	[FILLED] = { "paging", "host_faults_filled" },
	[UPGRADES] = { "paging", "host_faults_write_upgrade" },
	[DELIVERED] = { "paging", "page_faults_delivered" },
	[MAPS] = { "paging", "host_map_calls" }, [UNMAPS] = { "paging", "host_unmap_calls" },
	[SPUN] = { "paging", "handoffs_spinning" }, [SLEPT] = { "paging", "handoffs_futex" },
};

/* The number after "key": in `json` from `from` on, or -1. */
static double json_number(const char *from, const char *key)
{
	char quoted[80];
	snprintf(quoted, sizeof quoted, "\"%s\":", key);
	const char *at = strstr(from, quoted);
	if (!at)
		return -1;
	char *end;
	double value = strtod(at + strlen(quoted), &end);
	return end == at + strlen(quoted) ? -1 : value;
}

/* Every count from one --stats=json line: 0, or -1 if a key is missing. A whole object's
 * count (key NULL) is the sum of its numbers. */
static int parse_counts(const char *json, double counts[COUNTS])
{
	for (int c = 0; c < COUNTS; c++) {
		const char *from = json;
		if (count_keys[c].object) {
			char opening[80];
			snprintf(opening, sizeof opening, "\"%s\":{", count_keys[c].object);
			from = strstr(json, opening);
			if (!from)
				return -1;
			from += strlen(opening);
		}
		if (count_keys[c].key) {
			counts[c] = json_number(from, count_keys[c].key);
			if (counts[c] < 0)
				return -1;
			continue;
		}
		counts[c] = 0;
		for (const char *p = from; *p && *p != '}'; p++)
			if (*p == ':')
				counts[c] += strtod(p + 1, NULL);
	}
	return 0;
}

/* The kernel's "bench-operations: NAME N" for `name`, or -1. */
static double guest_operations(const char *output, const char *name)
{
	char prefix[96];
	snprintf(prefix, sizeof prefix, "bench-operations: %s ", name);
	const char *at = strstr(output, prefix);
	return at ? strtod(at + strlen(prefix), NULL) : -1;
}

/* One boot of `base` with the kernel words "noselftest WORD": its counts, and, for a
 * benchmark, the guest operations it counted. 0, or -1 (said). */
static int boot_counting(char *const base[], const char *word, const char *name,
                         const char *stats_path, double counts[COUNTS], double *operations)
{
	char *argv[24];
	int n = 0;
	for (; base[n]; n++)
		argv[n] = base[n];
	argv[n++] = "noselftest";
	argv[n++] = (char *)word;
	argv[n] = NULL;
	int status = -1;
	const char *output = run_logging(argv, &status, stats_path);
	char json[STATS_MAX] = "";
	FILE *stats = fopen(stats_path, "r");
	if (stats) {
		size_t used = fread(json, 1, sizeof json - 1, stats);
		json[used] = 0;
		fclose(stats);
	}
	if (!output || status != 1 || parse_counts(json, counts) != 0 ||
	    (name && (*operations = guest_operations(output, name)) <= 0)) {
		fprintf(stderr, "bench: %s with %s failed (status %d):\n%s\n%s\n", base[0], word,
		        status, output ? output : "", json);
		return -1;
	}
	return 0;
}

/* The table of host operations per guest operation, per configuration and paging
 * benchmark: medians over `runs` boot pairs (benchmark, and none). */
static int host_operations(char *vmirun, char *kernel, int runs, const char *directory)
{
	static const char *const benches[] = { "syscall_fast", "address_space_switch", "page_fault",
	                                       "process_create_exit", "mixed_workload",
	                                       "mixed_workload_address_spaces" };
	enum { BENCHES = sizeof benches / sizeof benches[0] };
	struct { const char *name; char *argv[12]; } configs[] = {
		{ "inline", { vmirun, "--stats=json", kernel, "--", "vmi.link=inline", NULL } },
		{ "inline, --isolation=shared", { vmirun, "--stats=json", "--isolation=shared", kernel,
		                                  "--", "vmi.link=inline", NULL } },
		{ "inline, --address-spaces 1", { vmirun, "--stats=json", "--address-spaces", "1",
		                                  kernel, "--", "vmi.link=inline", NULL } },
		{ "trap (--no-rom)", { vmirun, "--stats=json", "--no-rom", kernel, "--", NULL } },
	};
	char stats_path[4096], path[4096];
	snprintf(stats_path, sizeof stats_path, "%s/host_operations.stats.json", directory);
	snprintf(path, sizeof path, "%s/host_operations.md", directory);
	FILE *table = fopen(path, "w");
	if (!table) {
		fprintf(stderr, "bench: cannot write %s\n", path);
		return -1;
	}
	if (runs > OPERATION_RUNS_MAX)
		runs = OPERATION_RUNS_MAX;
	fprintf(table, "Host operations per guest operation (vmirun --stats: a boot running one "
	        "benchmark less one running none, divided by the operations the kernel counted; "
	        "medians of %d boot pairs). A guest operation is what the benchmark's cycles are "
	        "per: a system call, a switch, a demand fault, a fork+exit+wait, a whole mixed "
	        "workload. vmirun's isolation is strict (the default) unless the row says "
	        "shared.\n\n", runs);
	fprintf(table, "| benchmark | vmirun |");
	for (int c = 0; c < COUNTS; c++)
		fprintf(table, " %s |", count_titles[c]);
	fprintf(table, "\n|---|---|");
	for (int c = 0; c < COUNTS; c++)
		fprintf(table, "---:|");
	fprintf(table, "\n");
	for (int b = 0; b < BENCHES; b++) {
		char word[96];
		snprintf(word, sizeof word, "bench=%s", benches[b]);
		for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
			double per[COUNTS][OPERATION_RUNS_MAX];
			for (int r = 0; r < runs; r++) {
				double none[COUNTS], with[COUNTS], operations = 0;
				if (boot_counting(configs[k].argv, "bench=none", NULL, stats_path, none,
				                  NULL) != 0 ||
				    boot_counting(configs[k].argv, word, benches[b], stats_path, with,
				                  &operations) != 0) {
					fclose(table);
					return -1;
				}
				for (int c = 0; c < COUNTS; c++)
					per[c][r] = (with[c] - none[c]) / operations;
			}
			fprintf(table, "| %s | %s |", benches[b], configs[k].name);
			for (int c = 0; c < COUNTS; c++) {
				double v = median_of_runs(per[c], runs);
				fprintf(table, v >= 100 ? " %.0f |" : " %.2f |", v);
			}
			fprintf(table, "\n");
		}
	}
	fclose(table);
	remove(stats_path);
	return 0;
}

int main(int argc, char **argv)
{
	/* The counts alone need no timing: they mean as much on a host whose timings don't. */
	int counts_only = argc > 1 && strcmp(argv[1], "--host-operations-only") == 0;
	if (counts_only) {
		argv++;
		argc--;
	}
	if (argc != 5) {
		fprintf(stderr, "Usage: bench-kernel_matrix [--host-operations-only] VMIRUN KERNEL_ELF "
		        "RUNS OUTPUT_DIR\n"
		        "Runs the kernel's benchmarks in every link mode under VMIRUN (inline also with\n"
		        "--isolation=shared), with --no-rom, and under qemu-system-i386 (TCG); writes OUTPUT_DIR/kernel.md and kernel.dat,\n"
		        "and OUTPUT_DIR/host_operations.md (vmirun's host operations per guest operation\n"
		        "in the paging benchmarks).\n");
		return 1;
	}
	int runs = atoi(argv[3]);
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench: RUNS must be 1 to %d\n", MAX_RUNS);
		return 1;
	}
	char *vmirun = argv[1], *kernel = argv[2];
	if (counts_only)
		return host_operations(vmirun, kernel, runs, argv[4]) == 0 ? 0 : 1;
	char *const commands[MODES][20] = {
		[INLINE] = { vmirun, kernel, "--", "vmi.link=inline", "bench", NULL },
		[SHARED] = { vmirun, "--isolation=shared", kernel, "--", "vmi.link=inline", "bench",
		             NULL },
		[CALL] = { vmirun, kernel, "--", "vmi.link=call", "bench", NULL },
		[INDIRECT] = { vmirun, kernel, "--", "vmi.link=indirect", "bench", NULL },
		[TRAP] = { vmirun, "--no-rom", kernel, "--", "bench", NULL },
		[QEMU] = { "qemu-system-i386", "-accel", "tcg", "-kernel", kernel, "-append", "bench",
		           "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
		           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "128", NULL },
	};
	double wall[MODES][MAX_RUNS];

	/* Interleave the modes run by run, so a slow moment of the machine hits all of them. */
	for (int r = 0; r < runs; r++) {
		for (int m = 0; m < MODES; m++) {
			struct timespec start, end;
			int status = -1;
			clock_gettime(CLOCK_MONOTONIC, &start);
			const char *output = run(commands[m], &status);
			clock_gettime(CLOCK_MONOTONIC, &end);
			if (!output || status != 1 || !strstr(output, "bench: ")) {
				fprintf(stderr, "bench: %s run %d failed (status %d):\n%s\n", mode_names[m], r,
				        status, output ? output : "");
				return 1;
			}
			wall[m][r] = (double)(end.tv_sec - start.tv_sec) * 1e3 +
			             (double)(end.tv_nsec - start.tv_nsec) / 1e6;
			collect((enum mode)m, output);
		}
	}

	char path[4096];
	snprintf(path, sizeof(path), "%s/kernel.md", argv[4]);
	FILE *table = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/kernel.dat", argv[4]);
	FILE *data = fopen(path, "w");
	if (!table || !data) {
		fprintf(stderr, "bench: cannot write to %s\n", argv[4]);
		return 1;
	}
	fprintf(table, "Cycles (rdtsc inside the guest), medians of %d boots per mode, each boot "
	        "itself reporting medians; ratios are to inline.\n\n", runs);
	fprintf(table, "| benchmark |");
	for (int m = 0; m < MODES; m++)
		fprintf(table, " %s |", mode_names[m]);
	for (int m = SHARED; m < MODES; m++)
		fprintf(table, " %s / inline |", mode_keys[m]);
	fprintf(table, "\n|---|");
	for (int m = 0; m < MODES + MODES - 1; m++)
		fprintf(table, "---:|");
	fprintf(table, "\n");
	fprintf(data, "benchmark");
	for (int m = 0; m < MODES; m++)
		fprintf(data, " %s", mode_keys[m]);
	fprintf(data, "\n");
	for (int b = 0; b < bench_count; b++) {
		double inline_cycles = median_of(INLINE, b);
		fprintf(table, "| %s |", bench_names[b]);
		fprintf(data, "%s", bench_names[b]);
		for (int m = 0; m < MODES; m++) {
			double v = median_of((enum mode)m, b);
			fprintf(table, v < 0 ? " - |" : v < 100 ? " %.1f |" : " %.0f |", v);
			fprintf(data, " %.1f", v < 0 ? 0 : v);
		}
		for (int m = SHARED; m < MODES; m++) {
			double v = median_of((enum mode)m, b);
			if (v < 0 || inline_cycles <= 0)
				fprintf(table, " - |");
			else
				fprintf(table, v / inline_cycles < 0.95 ? " %.2f |" : " %.1f |", v / inline_cycles);
		}
		fprintf(table, "\n");
		fprintf(data, "\n");
	}
	fprintf(table, "\nWall time per boot, from spawn to exit (ms, median):");
	for (int m = 0; m < MODES; m++) {
		qsort(wall[m], (size_t)runs, sizeof(double), median_by_value);
		fprintf(table, " %s %.1f;", mode_keys[m], wall[m][runs / 2]);
	}
	fprintf(table, "\n");
	fclose(table);
	fclose(data);
	return host_operations(vmirun, kernel, runs, argv[4]) == 0 ? 0 : 1;
}

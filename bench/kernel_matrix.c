/* The kernel benchmark matrix: boots the reference kernel's benchmarks under vmirun with
 * vmi.link=inline, call and indirect, under vmirun --no-rom (trap-and-emulate), and under
 * qemu-system-i386 (TCG), all in one run; collects the kernel's "bench: NAME CYCLES" lines
 * (each already a median inside the guest), takes the median over repeated boots, and
 * writes a table with ratios to inline, plus a data file for gnuplot. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_BENCHES 32
#define MAX_RUNS    101
#define OUTPUT_MAX  (1 << 20)

enum mode { INLINE, CALL, INDIRECT, TRAP, QEMU, MODES };
static const char *const mode_names[MODES] = { "inline", "call", "indirect", "trap (--no-rom)",
                                               "QEMU TCG" };
static const char *const mode_keys[MODES] = { "inline", "call", "indirect", "trap", "qemu" };

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

/* Runs argv, returns its stdout (static buffer) and exit status. */
static const char *run(char *const argv[], int *status)
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
	posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", 1, 0);
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

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(enum mode mode, int bench)
{
	int n = sample_count[mode][bench];
	if (n == 0)
		return -1;
	qsort(samples[mode][bench], (size_t)n, sizeof(double), compare);
	return n % 2 ? samples[mode][bench][n / 2]
	             : (samples[mode][bench][n / 2 - 1] + samples[mode][bench][n / 2]) / 2;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "Usage: bench-kernel_matrix VMIRUN KERNEL_ELF RUNS OUTPUT_DIR\n"
		        "Runs the kernel's benchmarks in every link mode under VMIRUN, with --no-rom,\n"
		        "and under qemu-system-i386 (TCG); writes OUTPUT_DIR/kernel.md and kernel.dat.\n");
		return 1;
	}
	int runs = atoi(argv[3]);
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench: RUNS must be 1 to %d\n", MAX_RUNS);
		return 1;
	}
	char *vmirun = argv[1], *kernel = argv[2];
	char *const commands[MODES][20] = {
		[INLINE] = { vmirun, kernel, "--", "vmi.link=inline", "bench", NULL },
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
	for (int m = CALL; m < MODES; m++)
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
		for (int m = CALL; m < MODES; m++) {
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
		qsort(wall[m], (size_t)runs, sizeof(double), compare);
		fprintf(table, " %s %.1f;", mode_keys[m], wall[m][runs / 2]);
	}
	fprintf(table, "\n");
	fclose(table);
	fclose(data);
	return 0;
}

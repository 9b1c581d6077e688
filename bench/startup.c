/* Startup benchmark: how fast vmirun gets a guest going and how little host memory it
 * costs, beside the same guest under qemu-system-i386 (TCG), measured in the same run.
 * Reports medians over repeated runs and the ratios between the two. */
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

extern char **environ;

struct sample {
	double first_instruction_ms;  /* vmirun only: from spawn to the guest's first rdtsc */
	double first_output_ms;       /* from spawn to the first console byte on stdout */
	double exit_ms;               /* from spawn to the process's end */
	long max_rss_kib;             /* peak resident set of the whole process */
	long beyond_guest_kib;        /* vmirun only: resident memory that is not guest RAM */
};

static double tsc_per_ms;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The TSC is invariant here (constant_tsc, nonstop_tsc), so host and guest read one clock. */
static void calibrate_tsc(void)
{
	double start_ms = now_ms();
	uint64_t start = __rdtsc();
	while (now_ms() - start_ms < 100)
		;
	tsc_per_ms = (double)(__rdtsc() - start) / (now_ms() - start_ms);
}

static int run_once(char *const argv[], struct sample *sample, char *out, size_t out_size,
                    char *err, size_t err_size)
{
	int out_pipe[2], err_pipe[2];
	if (pipe(out_pipe) || pipe(err_pipe))
		return -1;
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
	posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
	posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", 0, 0);

	pid_t pid;
	uint64_t start_tsc = __rdtsc();
	if (posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ) != 0) {
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
		exit(1);
	}
	posix_spawn_file_actions_destroy(&actions);
	close(out_pipe[1]);
	close(err_pipe[1]);

	size_t used = 0;
	sample->first_output_ms = -1;
	for (;;) {
		ssize_t n = read(out_pipe[0], out + used, out_size - 1 - used);
		if (n <= 0)
			break;
		if (sample->first_output_ms < 0)
			sample->first_output_ms = (double)(__rdtsc() - start_tsc) / tsc_per_ms;
		used += (size_t)n;
		if (used == out_size - 1)
			used = 0; /* keep reading; the guest's output here is short */
	}
	out[used] = 0;
	ssize_t e = read(err_pipe[0], err, err_size - 1);
	err[e > 0 ? e : 0] = 0;
	close(out_pipe[0]);
	close(err_pipe[0]);

	int status;
	struct rusage usage;
	if (wait4(pid, &status, 0, &usage) < 0)
		return -1;
	sample->exit_ms = (double)(__rdtsc() - start_tsc) / tsc_per_ms;
	sample->max_rss_kib = usage.ru_maxrss;

	const char *tsc = strstr(out, "first-tsc=0x");
	sample->first_instruction_ms = -1;
	if (tsc) {
		uint64_t first = strtoull(tsc + 12, NULL, 16);
		sample->first_instruction_ms = (double)(int64_t)(first - start_tsc) / tsc_per_ms;
	}
	const char *beyond = strstr(err, "\"host_memory_beyond_guest_kib\":");
	sample->beyond_guest_kib = beyond ? strtol(beyond + 31, NULL, 10) : -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *values, int count)
{
	qsort(values, (size_t)count, sizeof(values[0]), compare_doubles);
	return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

#define MAX_RUNS 1000
enum { FIRST_INSTRUCTION, FIRST_OUTPUT, EXIT_TIME, MAX_RSS, BEYOND_GUEST, METRICS };

static void measure(char *const argv[], int runs, int expected_status, double medians[METRICS])
{
	static double values[METRICS][MAX_RUNS];
	static char out[1 << 16], err[1 << 16];
	for (int i = 0; i < runs; i++) {
		struct sample s;
		int status = run_once(argv, &s, out, sizeof(out), err, sizeof(err));
		if (status != expected_status) {
			fprintf(stderr, "bench: %s exited %d, expected %d\n%s%s", argv[0], status,
			        expected_status, out, err);
			exit(1);
		}
		values[FIRST_INSTRUCTION][i] = s.first_instruction_ms;
		values[FIRST_OUTPUT][i] = s.first_output_ms;
		values[EXIT_TIME][i] = s.exit_ms;
		values[MAX_RSS][i] = (double)s.max_rss_kib;
		values[BEYOND_GUEST][i] = (double)s.beyond_guest_kib;
	}
	for (int m = 0; m < METRICS; m++)
		medians[m] = median(values[m], runs);
}

/* 1,000 guests one after another: every one must exit as the guest asked, and neither the
 * time per guest nor vmirun's own memory may creep up from the first hundred to the last. */
#define BACK_TO_BACK 1000
static void back_to_back(char *vmirun_path, char *guest)
{
	char *argv[] = { vmirun_path, "--stats=json", guest, NULL };
	static char out[1 << 16], err[1 << 16];
	double first_ms = 0, last_ms = 0;
	long first_kib = 0, last_kib = 0;
	for (int i = 0; i < BACK_TO_BACK; i++) {
		struct sample s;
		int status = run_once(argv, &s, out, sizeof(out), err, sizeof(err));
		if (status != 1) {
			fprintf(stderr, "bench: guest %d of %d exited %d\n%s", i, BACK_TO_BACK, status, err);
			exit(1);
		}
		if (i < 100) {
			first_ms += s.exit_ms;
			first_kib += s.beyond_guest_kib;
		} else if (i >= BACK_TO_BACK - 100) {
			last_ms += s.exit_ms;
			last_kib += s.beyond_guest_kib;
		}
	}
	printf("back to back: %d guests, all exited as asked; mean ms per guest first 100 %.3f, "
	       "last 100 %.3f; mean KiB beyond guest RAM first 100 %ld, last 100 %ld\n",
	       BACK_TO_BACK, first_ms / 100, last_ms / 100, first_kib / 100, last_kib / 100);
}

int main(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
		        "Usage: bench-startup VMIRUN GUEST_ELF RUNS\n"
		        "Boots GUEST_ELF RUNS times under VMIRUN and under qemu-system-i386 (TCG) and\n"
		        "prints medians of start-up time and memory, with QEMU/vmirun ratios.\n");
		return argc == 2 ? 0 : 1;
	}
	int runs = atoi(argv[3]);
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench: RUNS must be 1 to %d\n", MAX_RUNS);
		return 1;
	}
	calibrate_tsc();

	char *vmirun[] = { argv[1], "--stats=json", argv[2], "--", "tsc", NULL };
	char *qemu[] = { "qemu-system-i386", "-accel", "tcg", "-kernel", argv[2], "-append", "tsc",
	                 "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
	                 "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "128", NULL };
	double v[METRICS], q[METRICS];
	measure(vmirun, runs, 1, v);
	measure(qemu, runs, 1, q);

	printf("startup benchmark: %s, medians of %d runs each, TSC %.0f MHz\n", argv[2], runs,
	       tsc_per_ms / 1e3);
	printf("| metric | vmirun | qemu-system-i386 (TCG) | QEMU / vmirun |\n");
	printf("|---|---:|---:|---:|\n");
	printf("| start to guest's first instruction (ms) | %.3f | n/a | n/a |\n", v[FIRST_INSTRUCTION]);
	printf("| start to first console byte (ms) | %.3f | %.3f | %.1f |\n", v[FIRST_OUTPUT],
	       q[FIRST_OUTPUT], q[FIRST_OUTPUT] / v[FIRST_OUTPUT]);
	printf("| start to exit (ms) | %.3f | %.3f | %.1f |\n", v[EXIT_TIME], q[EXIT_TIME],
	       q[EXIT_TIME] / v[EXIT_TIME]);
	printf("| peak resident memory (KiB) | %.0f | %.0f | %.1f |\n", v[MAX_RSS], q[MAX_RSS],
	       q[MAX_RSS] / v[MAX_RSS]);
	printf("| host memory beyond guest RAM (KiB) | %.0f | n/a | n/a |\n", v[BEYOND_GUEST]);
	printf("targets: first instruction within 5 ms: %s; under 2 MiB beyond guest RAM: %s\n",
	       v[FIRST_INSTRUCTION] >= 0 && v[FIRST_INSTRUCTION] < 5 ? "met" : "MISSED",
	       v[BEYOND_GUEST] >= 0 && v[BEYOND_GUEST] < 2048 ? "met" : "MISSED");
	back_to_back(argv[1], argv[2]);
	return 0;
}

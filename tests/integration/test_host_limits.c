/* Integration tests of vmirun under host limits that used to kill it with a signal (ulimit -f,
 * a closed or full stdout): each must end in one `vmirun: ...` line and a documented status. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* What is tested: guest RAM over the file-size limit (SIGXFSZ from sizing its memfd), and a
 * stdout that refuses the guest's console output (SIGPIPE from a closed pipe, ENOSPC from a
 * full device, EFBIG/SIGXFSZ from a file at the limit). */

#define RUN_TIMEOUT_S        120      /* generous: the VM runner's TCG on a loaded machine */
#define STATUS_VMIRUN_ERROR  2        /* vmm/exit_status.h */
#define STATUS_HOST_CHECK    14
#define STATUS_OUTPUT_FAILED 18
#define NO_LIMIT             RLIM_INFINITY
#define SMALL_MEM            "4"      /* MiB: its memfd is 5 MiB */
#define FILE_LIMIT_ABOVE_RAM (8u << 20)

struct outcome {
	int exited, status, signal, timed_out;
	char err[4096];
};

static double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts argv with stdout `out_fd`, stdin /dev/null, stderr a pipe (returned in *err_fd),
 * RLIMIT_FSIZE `file_limit`, and SIGPIPE and SIGXFSZ at their defaults, as a shell would
 * start it: whatever vmirun does about them, it must do itself. */
static pid_t start(char *const argv[], int out_fd, rlim_t file_limit, int *err_fd)
{
	int err_pipe[2];
	cr_assert_eq(pipe2(err_pipe, O_CLOEXEC), 0, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit limit = { file_limit, file_limit };
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		int in = open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
		    dup2(err_pipe[1], STDERR_FILENO) < 0 ||
		    (file_limit != NO_LIMIT && setrlimit(RLIMIT_FSIZE, &limit) != 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(err_pipe[1]);
	*err_fd = err_pipe[0];
	return pid;
}

/* Reads stderr to its end and reaps the child, killing it after RUN_TIMEOUT_S. */
static void finish(pid_t pid, int err_fd, double started, struct outcome *outcome)
{
	size_t used = 0;
	for (;;) {
		int left_ms = (int)((started + RUN_TIMEOUT_S - now_seconds()) * 1000);
		struct pollfd p = { err_fd, POLLIN, 0 };
		if (left_ms <= 0 || poll(&p, 1, left_ms) == 0) {
			outcome->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		char chunk[512];
		ssize_t n = read(err_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t keep = (size_t)n < sizeof(outcome->err) - 1 - used ? (size_t)n
		                                                        : sizeof(outcome->err) - 1 - used;
		memcpy(outcome->err + used, chunk, keep);
		used += keep;
	}
	outcome->err[used] = 0;
	close(err_fd);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR, "waitpid: %s", strerror(errno));
	outcome->exited = WIFEXITED(status);
	outcome->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	outcome->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void run_vmirun(char *const argv[], int out_fd, rlim_t file_limit, struct outcome *outcome)
{
	memset(outcome, 0, sizeof(*outcome));
	int err_fd;
	double started = now_seconds();
	pid_t pid = start(argv, out_fd, file_limit, &err_fd);
	finish(pid, err_fd, started, outcome);
}

static char *guest(const char *relative)
{
	static char path[2][512];
	static int next;
	char *p = path[next++ % 2];
	snprintf(p, sizeof(path[0]), "%s", build_path(relative));
	cr_assert_eq(access(p, R_OK), 0, "%s is missing: run `make` first", p);
	return p;
}

static char *vmirun(void)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s", vmirun_path());
	return path;
}

/* Ended by itself with `status`, having said why in one line that contains `words`. */
static void expect_one_line(const struct outcome *outcome, int status, const char *words)
{
	cr_assert(!outcome->timed_out, "vmirun did not end in %d s; stderr:\n%s", RUN_TIMEOUT_S,
	          outcome->err);
	cr_assert(outcome->exited, "vmirun was killed by signal %d (%s); stderr:\n%s",
	          outcome->signal, strsignal(outcome->signal), outcome->err);
	cr_assert_eq(outcome->status, status, "exit status %d, expected %d; stderr:\n%s",
	             outcome->status, status, outcome->err);
	const char *newline = strchr(outcome->err, '\n');
	cr_assert(strncmp(outcome->err, "vmirun: ", 8) == 0 && newline && newline[1] == 0,
	          "not one \"vmirun: ...\" line on stderr:\n%s", outcome->err);
	cr_assert(strstr(outcome->err, words), "\"%s\" not in: %s", words, outcome->err);
}

TestSuite(host_limits, .timeout = 2 * RUN_TIMEOUT_S);

/* --- the file-size limit and guest RAM (SIGXFSZ) ------------------------------------------ */

Test(host_limits, a_file_size_limit_below_guest_ram_is_a_one_line_error)
{
	/* 64 KiB: the host check's one-page memfd fits, the 129 MiB of guest RAM does not. */
	char *argv[] = { vmirun(), guest("tests/guests/hello.elf"), NULL };
	int out = open("/dev/null", O_WRONLY);
	struct outcome outcome;
	run_vmirun(argv, out, 64 << 10, &outcome);
	close(out);
	expect_one_line(&outcome, STATUS_VMIRUN_ERROR, "file-size limit of 65536 bytes (ulimit -f)");
	cr_assert(strstr(outcome.err, "memfd of 135266304 bytes"), "%s", outcome.err);
}

Test(host_limits, a_file_size_limit_below_one_page_blames_the_limit_not_the_host)
{
	char *argv[] = { vmirun(), guest("tests/guests/hello.elf"), NULL };
	int out = open("/dev/null", O_WRONLY);
	struct outcome outcome;
	run_vmirun(argv, out, 1000, &outcome);
	close(out);
	expect_one_line(&outcome, STATUS_VMIRUN_ERROR, "file-size limit of 1000 bytes (ulimit -f)");
}

Test(host_limits, check_host_under_a_tiny_file_size_limit_names_the_limit)
{
	char *argv[] = { vmirun(), "--check-host", NULL };
	char table[] = "/tmp/vmirun-check-host-XXXXXX";
	int out = mkstemp(table);
	cr_assert_geq(out, 0, "mkstemp: %s", strerror(errno));
	struct outcome outcome;
	/* The table itself is written under the limit too: keep it above the table's size. */
	run_vmirun(argv, out, 3000, &outcome);
	char text[8192] = "";
	ssize_t n = pread(out, text, sizeof(text) - 1, 0);
	close(out);
	unlink(table);
	text[n > 0 ? n : 0] = 0;
	cr_assert(outcome.exited, "vmirun --check-host was killed by signal %d", outcome.signal);
	cr_assert_eq(outcome.status, STATUS_HOST_CHECK, "status %d:\n%s", outcome.status, text);
	cr_assert(strstr(text, "File too large (the file-size limit, ulimit -f, is below one page)"),
	          "the memfd row does not name the limit:\n%s", text);
}

/* --- stdout that refuses the console output (SIGPIPE, ENOSPC, EFBIG) ----------------------- */

Test(host_limits, a_stdout_nobody_reads_stops_the_guest_with_status_18)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	close(p[0]);   /* the reader is gone before the guest writes a byte */
	char *argv[] = { vmirun(), guest("tests/guests/hello.elf"), NULL };
	struct outcome outcome;
	run_vmirun(argv, p[1], NO_LIMIT, &outcome);
	close(p[1]);
	expect_one_line(&outcome, STATUS_OUTPUT_FAILED,
	                "cannot write the guest's console output to stdout: Broken pipe (stdout was "
	                "closed: nothing reads the output any more); the guest was stopped");
}

/* `vmirun kernel | head -1`: the reader takes one line and goes; the kernel, still in its
 * self-tests, is stopped at its next line instead of running on unseen. */
Test(host_limits, a_reader_that_takes_one_line_and_goes_stops_the_guest)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	char *argv[] = { vmirun(), guest("guest/kernel.elf"), NULL };
	int err_fd;
	double started = now_seconds();
	pid_t pid = start(argv, p[1], NO_LIMIT, &err_fd);
	close(p[1]);
	char line[256];
	size_t length = 0;
	while (length < sizeof(line) - 1) {
		struct pollfd wait = { p[0], POLLIN, 0 };
		if (poll(&wait, 1, RUN_TIMEOUT_S * 1000) <= 0 || read(p[0], line + length, 1) != 1)
			break;
		if (line[length++] == '\n')
			break;
	}
	line[length] = 0;
	close(p[0]);
	struct outcome outcome;
	memset(&outcome, 0, sizeof(outcome));
	finish(pid, err_fd, started, &outcome);
	cr_assert(strncmp(line, "vmi: ", 5) == 0, "first line: \"%s\"", line);
	expect_one_line(&outcome, STATUS_OUTPUT_FAILED, "Broken pipe");
}

Test(host_limits, a_full_device_stops_the_guest_with_status_18)
{
	int out = open("/dev/full", O_WRONLY);
	cr_assert_geq(out, 0, "/dev/full: %s", strerror(errno));
	char *argv[] = { vmirun(), guest("tests/guests/hello.elf"), NULL };
	struct outcome outcome;
	run_vmirun(argv, out, NO_LIMIT, &outcome);
	close(out);
	expect_one_line(&outcome, STATUS_OUTPUT_FAILED, "No space left on device");
}

/* Guest RAM fits under the limit, but stdout is a file already at it: the first console
 * line is over it (EFBIG, and SIGXFSZ where it is not ignored). */
Test(host_limits, console_output_over_the_file_size_limit_stops_the_guest_with_status_18)
{
	char name[] = "/tmp/vmirun-console-XXXXXX";
	int fd = mkstemp(name);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, FILE_LIMIT_ABOVE_RAM), 0, "ftruncate: %s", strerror(errno));
	close(fd);
	int out = open(name, O_WRONLY | O_APPEND);
	unlink(name);
	cr_assert_geq(out, 0);
	char *argv[] = { vmirun(), "--mem", SMALL_MEM, guest("tests/guests/hello.elf"), NULL };
	struct outcome outcome;
	run_vmirun(argv, out, FILE_LIMIT_ABOVE_RAM, &outcome);
	close(out);
	expect_one_line(&outcome, STATUS_OUTPUT_FAILED,
	                "File too large (the file-size limit, ulimit -f); the guest was stopped");
}

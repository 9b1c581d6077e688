/* Integration-test helper: runs a command with a timeout, capturing stdout and stderr
 * through pipes read with poll() so a chatty child can never deadlock against us. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BUILD_DIR
#error "BUILD_DIR must be defined (the Makefile passes the absolute build directory)"
#endif

/* Past this much output we keep reading (so the child never blocks) but stop storing. */
#define CAPTURE_LIMIT (16u << 20)
/* How often to look for the exit of a child that has closed both pipes. */
#define REAP_POLL_MS  10

struct capture {
	int fd;              /* -1 once at end of file */
	char *data;
	size_t length;
	size_t capacity;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int capture_reserve(struct capture *capture, size_t extra)
{
	if (capture->length + extra + 1 <= capture->capacity)
		return 0;
	size_t capacity = capture->capacity ? capture->capacity : 4096;
	while (capacity < capture->length + extra + 1)
		capacity *= 2;
	char *data = realloc(capture->data, capacity);
	if (!data)
		return -1;
	capture->data = data;
	capture->capacity = capacity;
	return 0;
}

/* Reads what is there now; closes the descriptor at end of file or on a hard error. */
static void capture_read(struct capture *capture)
{
	char chunk[65536];
	for (;;) {
		ssize_t got = read(capture->fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (got <= 0) {
			close(capture->fd);
			capture->fd = -1;
			return;
		}
		size_t keep = (size_t)got;
		if (capture->length + keep > CAPTURE_LIMIT)
			keep = CAPTURE_LIMIT - capture->length;
		if (keep > 0 && capture_reserve(capture, keep) == 0) {
			memcpy(capture->data + capture->length, chunk, keep);
			capture->length += keep;
		}
	}
}

static char *capture_finish(struct capture *capture, size_t *length)
{
	if (capture->fd >= 0) {
		close(capture->fd);
		capture->fd = -1;
	}
	/* Out of memory for the NUL: give up the last byte rather than the text. */
	if (capture_reserve(capture, 0) != 0 && capture->length > 0)
		capture->length--;
	if (!capture->data) {
		capture->data = strdup("");
		capture->length = 0;
	}
	if (capture->data)
		capture->data[capture->length] = '\0';
	*length = capture->length;
	return capture->data;
}

static void kill_child(pid_t pid)
{
	kill(-pid, SIGKILL);   /* its process group: anything it started goes too */
	kill(pid, SIGKILL);
}

static int fail_to_start(struct run_result *result, const char *what, int error_number,
                         const char *program)
{
	char message[512];
	snprintf(message, sizeof(message), "run_command: %s %s: %s\n", what,
	         program ? program : "(null)", strerror(error_number));
	free(result->out);
	free(result->err);
	memset(result, 0, sizeof(*result));
	result->out = strdup("");
	result->err = strdup(message);
	result->err_len = result->err ? strlen(result->err) : 0;
	return -1;
}

/* In the child: wire up stdio and exec; on failure report errno through `report_fd`. */
static void __attribute__((noreturn)) exec_child(char *const argv[], int out_fd, int err_fd,
                                                 int report_fd)
{
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	int stdin_fd = open("/dev/null", O_RDONLY);
	if (stdin_fd < 0 || dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		goto failed;
	execvp(argv[0], argv);
failed:;
	int error_number = errno;
	ssize_t ignored = write(report_fd, &error_number, sizeof(error_number));
	(void)ignored;
	_exit(127);
}

int run_command(char *const argv[], double timeout_seconds, struct run_result *result)
{
	memset(result, 0, sizeof(*result));
	if (!argv || !argv[0])
		return fail_to_start(result, "no command", EINVAL, NULL);

	/* Close-on-exec everywhere, so commands run at the same time by other threads never
	 * inherit our pipe ends (and hold them open). */
	int out_pipe[2], err_pipe[2], report_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) != 0)
		return fail_to_start(result, "pipe for", errno, argv[0]);
	if (pipe2(err_pipe, O_CLOEXEC) != 0) {
		int error_number = errno;
		close(out_pipe[0]);
		close(out_pipe[1]);
		return fail_to_start(result, "pipe for", error_number, argv[0]);
	}
	if (pipe2(report_pipe, O_CLOEXEC) != 0) {
		int error_number = errno;
		close(out_pipe[0]);
		close(out_pipe[1]);
		close(err_pipe[0]);
		close(err_pipe[1]);
		return fail_to_start(result, "pipe for", error_number, argv[0]);
	}

	double start = now_seconds();
	pid_t pid = fork();
	if (pid == 0)
		exec_child(argv, out_pipe[1], err_pipe[1], report_pipe[1]);
	int fork_error = errno;
	close(out_pipe[1]);
	close(err_pipe[1]);
	close(report_pipe[1]);
	if (pid < 0) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		close(report_pipe[0]);
		return fail_to_start(result, "fork for", fork_error, argv[0]);
	}
	setpgid(pid, pid);   /* also here, so a kill at the timeout cannot race the child's own */

	/* The report pipe closes on a successful exec, or carries errno if it failed. */
	int exec_error = 0;
	ssize_t reported;
	do
		reported = read(report_pipe[0], &exec_error, sizeof(exec_error));
	while (reported < 0 && errno == EINTR);
	close(report_pipe[0]);
	if (reported == (ssize_t)sizeof(exec_error)) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return fail_to_start(result, "cannot execute", exec_error, argv[0]);
	}

	struct capture captures[2] = {
		{ .fd = out_pipe[0] },
		{ .fd = err_pipe[0] },
	};
	for (int i = 0; i < 2; i++)
		fcntl(captures[i].fd, F_SETFL, fcntl(captures[i].fd, F_GETFL) | O_NONBLOCK);

	double deadline = start + timeout_seconds;
	int status = 0;
	int reaped = 0;
	while (!reaped) {
		double remaining = deadline - now_seconds();
		if (remaining <= 0) {
			result->timed_out = 1;
			kill_child(pid);
			break;
		}
		int remaining_ms = remaining * 1000 > INT_MAX ? INT_MAX : (int)(remaining * 1000) + 1;

		struct pollfd fds[2];
		nfds_t count = 0;
		for (int i = 0; i < 2; i++)
			if (captures[i].fd >= 0)
				fds[count++] = (struct pollfd){ .fd = captures[i].fd, .events = POLLIN };

		if (count == 0) {
			/* Both pipes closed: the child is exiting (or has detached its output). */
			pid_t waited = waitpid(pid, &status, WNOHANG);
			if (waited == pid) {
				reaped = 1;
				break;
			}
			poll(NULL, 0, remaining_ms < REAP_POLL_MS ? remaining_ms : REAP_POLL_MS);
			continue;
		}
		if (poll(fds, count, remaining_ms) < 0 && errno != EINTR) {
			kill_child(pid);
			break;
		}
		for (int i = 0; i < 2; i++)
			if (captures[i].fd >= 0)
				capture_read(&captures[i]);
	}
	if (!reaped)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	result->seconds = now_seconds() - start;

	/* Whatever was written before the end is still in the pipes. */
	for (int i = 0; i < 2; i++)
		if (captures[i].fd >= 0)
			capture_read(&captures[i]);
	result->out = capture_finish(&captures[0], &result->out_len);
	result->err = capture_finish(&captures[1], &result->err_len);

	if (WIFEXITED(status)) {
		result->exited = 1;
		result->exit_status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		result->term_signal = WTERMSIG(status);
	}
	return 0;
}

int run_program(const char *program, const char *const *args, double timeout_seconds,
                struct run_result *result)
{
	enum { MOST_ARGS = 63 };
	char *argv[MOST_ARGS + 2];
	int n = 0;
	argv[n++] = (char *)program;
	for (; args && *args; args++) {
		if (n > MOST_ARGS) {
			memset(result, 0, sizeof(*result));
			return fail_to_start(result, "too many arguments for", E2BIG, program);
		}
		argv[n++] = (char *)*args;
	}
	argv[n] = NULL;
	return run_command(argv, timeout_seconds, result);
}

void run_result_free(struct run_result *result)
{
	if (!result)
		return;
	free(result->out);
	free(result->err);
	memset(result, 0, sizeof(*result));
}

const char *build_path(const char *relative)
{
	enum { SLOTS = 8 };
	static _Thread_local char paths[SLOTS][PATH_MAX];
	static _Thread_local unsigned next_slot;
	char *path = paths[next_slot++ % SLOTS];
	snprintf(path, PATH_MAX, "%s/%s", BUILD_DIR, relative);
	return path;
}

const char *vmirun_path(void)
{
	const char *override = getenv("VMIRUN");
	return override && *override ? override : build_path("vmirun");
}

long stats_count(const char *report, const char *name)
{
	size_t length = strlen(name);
	for (const char *at = strstr(report, name); at; at = strstr(at + 1, name)) {
		if (at == report || at[-1] != ' ' || at[length] != ' ')
			continue;
		return strtol(at + length, NULL, 10);
	}
	return -1;
}

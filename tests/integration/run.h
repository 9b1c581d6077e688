/* Integration-test helper: run a command with a timeout and capture its stdout, stderr,
 * exit status and run time. */
#ifndef TESTS_INTEGRATION_RUN_H
#define TESTS_INTEGRATION_RUN_H

#include <stddef.h>

struct run_result {
	int exited;          /* exited normally; exit_status is valid */
	int exit_status;
	int term_signal;     /* the signal that ended it, or 0 */
	int timed_out;       /* killed by us at the timeout */
	char *out;           /* NUL-terminated; out_len excludes the NUL */
	size_t out_len;
	char *err;
	size_t err_len;
	double seconds;      /* wall time from start to exit */
};

/* Runs argv[0] (looked up in PATH) with stdin from /dev/null, waits at most
 * timeout_seconds, then kills it with SIGKILL. Returns 0 once the command has run, whatever
 * its status, or -1 if it could not be started (result->err then says why). */
int run_command(char *const argv[], double timeout_seconds, struct run_result *result);

/* run_command for `program` followed by the NULL-terminated `args` (at most 63). */
int run_program(const char *program, const char *const *args, double timeout_seconds,
                struct run_result *result);

void run_result_free(struct run_result *result);

/* BUILD_DIR "/" relative, in a static buffer reused after a few calls. */
const char *build_path(const char *relative);

/* The vmirun under test: $VMIRUN if set (make check runs the guest-hosting suites a second
 * time with a UBSan build), else BUILD_DIR/vmirun. */
const char *vmirun_path(void);

/* A counter from vmirun's --stats text report ("  NAME   VALUE"), or -1 if absent. */
long stats_count(const char *report, const char *name);

#endif

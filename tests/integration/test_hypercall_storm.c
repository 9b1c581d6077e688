/* Boots the hypercall_storm guest: a million random calls, every call of the ROM's table
 * with random registers, after which vmirun must still be running the guest to its last
 * line and exit with exactly the status of its last act; then the calls that stop a guest,
 * each as the storm's last act, with the status each must give. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* The guest's default count, kept: under QEMU TCG, in the x86-64 VM make check uses on hosts
 * that cannot run 32-bit code, the million took 23 s with vmirun and 26 s with its UBSan
 * build, up to 39 s with the host busy besides (the VM's boot aside). */
#define STORM_CALLS       "1000000"
#define SHORT_CALLS       "20000"
#define VMIRUN_TIMEOUT    "110"        /* a hang ends as vmirun's own timeout (status 6) */
#define TIMEOUT           150.0

static struct run_result storm(const char *const *guest_args)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)vmirun_path();
	argv[n++] = "--timeout";
	argv[n++] = VMIRUN_TIMEOUT;
	argv[n++] = strdup(build_path("tests/guests/hypercall_storm.elf"));
	argv[n++] = "--";
	for (; guest_args && *guest_args && n < 15; guest_args++)
		argv[n++] = (char *)*guest_args;
	argv[n] = NULL;
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot start vmirun: %s", r.err);
	free(argv[3]);
	cr_assert(!r.timed_out, "vmirun did not finish in %.0f s; stdout:\n%s", TIMEOUT, r.out);
	cr_assert(r.exited, "vmirun died of signal %d; stdout:\n%s\nstderr:\n%s", r.term_signal,
	          r.out, r.err);
	return r;
}

/* The seed the guest printed on its first line, so a failure names how to replay it. */
static const char *printed_seed(const struct run_result *r)
{
	static char seed[16];
	unsigned long value;
	int length = 0;
	cr_assert(sscanf(r->out, "storm: seed %lu\n%n", &value, &length) == 1 && length > 0,
	          "the first line is not the seed:\n%s", r->out);
	snprintf(seed, sizeof seed, "%lu", value);
	return seed;
}

static const char *last_line(const struct run_result *r)
{
	cr_assert(r->out_len > 0 && r->out[r->out_len - 1] == '\n', "no complete last line:\n%s",
	          r->out);
	const char *start = r->out + r->out_len - 1;
	while (start > r->out && start[-1] != '\n')
		start--;
	return start;
}

/* `end` is the guest's end= argument (NULL: the exit port), `ending` how its last line
 * names it, `reason` what vmirun must say on stderr (NULL: anything). */
static void expect_end(const char *end, const char *calls, const char *ending, int status,
                       const char *reason)
{
	char calls_arg[32];
	snprintf(calls_arg, sizeof calls_arg, "calls=%s", calls);
	const char *args[] = { calls_arg, end, NULL };
	struct run_result r = storm(args);
	const char *seed = printed_seed(&r);
	char expected[128];
	snprintf(expected, sizeof expected, "storm: %s calls made, ending with %s\n", calls, ending);
	cr_assert_null(strstr(r.out, "FAIL"), "a check failed (replay: seed=%s %s):\n%s", seed,
	               calls_arg, r.out);
	cr_assert_str_eq(last_line(&r), expected, "(replay: seed=%s %s)\n%s\nstderr:\n%s", seed,
	                 calls_arg, r.out, r.err);
	cr_assert_eq(r.exit_status, status, "status %d, not %d (replay: seed=%s %s)\n%s\nstderr:\n%s",
	             r.exit_status, status, seed, calls_arg, r.out, r.err);
	if (reason)
		cr_assert(strstr(r.err, reason), "no '%s' on stderr:\n%s", reason, r.err);
	run_result_free(&r);
}

TestSuite(storm, .timeout = 200);

Test(storm, a_million_random_calls_leave_vmirun_running_the_guest_to_its_end)
{
	expect_end(NULL, STORM_CALLS, "the exit port", 1, NULL);
}

Test(storm, shutdown_as_the_last_call_ends_the_run_with_status_0)
{
	expect_end("end=shutdown", SHORT_CALLS, "Shutdown", 0, NULL);
}

Test(storm, reboot_as_the_last_call_ends_the_run_with_status_10)
{
	expect_end("end=reboot", SHORT_CALLS, "Reboot", 10, NULL);
}

Test(storm, halt_with_interrupts_disabled_as_the_last_call_stops_the_guest_with_status_8)
{
	expect_end("end=halt", SHORT_CALLS, "Halt with interrupts disabled", 8,
	           "guest halted with interrupts disabled");
}

/* The wall-clock bound on a run with --timeout that no guest can lift: a child process,
 * forked before the sandbox, that kills vmirun if it outlives its timeout by two seconds.
 * Guest code that escaped into 64-bit mode may turn vmirun's own timer off, block every
 * signal and sleep in an allowed call; only something outside the process still acts. */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "watchdog.h"

#define GRACE_SECONDS 2.0

int watchdog_start(double timeout_seconds)
{
	if (timeout_seconds <= 0)
		return 0;
	pid_t vmirun = getpid();
	pid_t child = fork();
	if (child < 0)
		return -1;
	if (child > 0)
		return 0;
	/* The child: dies with vmirun (and checks it did not miss that), holds none of its
	 * files (a reader of vmirun's stdout must see the end when vmirun ends). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != vmirun)
		_exit(0);
	close_range(0, ~0u, 0);
	double wait = timeout_seconds + GRACE_SECONDS;
	struct timespec left = { .tv_sec = (time_t)wait,
	                         .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) };
	while (nanosleep(&left, &left) != 0)
		;
	kill(vmirun, SIGKILL);
	_exit(0);
}

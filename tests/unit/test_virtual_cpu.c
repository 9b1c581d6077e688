/* Unit tests for the virtual CPU's pending interrupts: the summary the ROM reads in the
 * shared page must never say "none" while a vector is pending, even with raises arriving
 * from a signal handler at any instruction of the monitor's own bookkeeping. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <vmi/alarm.h>
#include <vmi/calls.h>
#include "monitor/virtual_cpu.h"

static volatile sig_atomic_t raises;

static void raise_alarm(int sig)
{
	(void)sig;
	virtual_cpu_raise(VMI_ALARM_IRQ0_VECTOR);
	raises++;
}

Test(virtual_cpu, the_pending_summary_survives_raises_from_a_signal_handler)
{
	/* the shared page stays the unattached one: no guest window in a unit test */
	memset(&virtual_cpu, 0, sizeof(virtual_cpu));
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = raise_alarm;
	cr_assert_eq(sigaction(SIGRTMIN, &action, NULL), 0);
	struct sigevent event;
	memset(&event, 0, sizeof(event));
	event.sigev_notify = SIGEV_SIGNAL;
	event.sigev_signo = SIGRTMIN;
	timer_t timer;
	cr_assert_eq(timer_create(CLOCK_MONOTONIC, &event, &timer), 0);
	struct itimerspec every = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } };
	cr_assert_eq(timer_settime(timer, 0, &every, NULL), 0);

	/* 2 s: the window is a few instructions wide, and a loaded host delivers a raise in
	 * it only about once a second without the fix */
	unsigned long stale = 0, taken = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (int i = 0; i < 1000; i++) {
			if (virtual_cpu_take_highest_pending() >= 0)
				taken++;
			/* the bitmap first: a raise after that look sets the summary too, all at
			 * once as far as this loop can see, so a 0 then is a lost raise */
			if (virtual_cpu_highest_pending() >= 0 && !virtual_cpu_shared()->pending)
				stale++;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
	         2000000000L);
	timer_delete(timer);
	signal(SIGRTMIN, SIG_IGN);
	cr_assert_gt(raises, 1000, "only %d raises: the test proved nothing", (int)raises);
	cr_assert_gt(taken, 100);
	cr_assert_eq(stale, 0, "%lu times the summary said none with a vector pending (%d raises)",
	             stale, (int)raises);
}

/* Halt: sleep on the host, not spin, until an interrupt can be taken. A guest halted with
 * its interrupts disabled, or with nothing armed that could ever raise one, would sleep
 * forever: stop it and say why instead. */
#include <signal.h>

#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

static volatile sig_atomic_t halting;

int monitor_is_halting(void)
{
	return halting;
}

/* The wake-up signals stay blocked from the first look to sigsuspend, which unblocks them
 * atomically: an alarm in between would otherwise be consumed and the sleep never end. A
 * stop longjmps out, restoring the mask vcpu_run saved. */
void monitor_halt(struct vcpu_regs *regs)
{
	sigset_t wake, old_mask, wait_mask;

	stats_count_trap(STATS_TRAP_HALT);
	sigemptyset(&wake);
	sigaddset(&wake, timer_signal());
	sigaddset(&wake, SIGALRM);
	sigprocmask(SIG_BLOCK, &wake, &old_mask);
	wait_mask = old_mask;
	sigdelset(&wait_mask, timer_signal());
	sigdelset(&wait_mask, SIGALRM);
	halting = 1;
	for (;;) {
		if (!virtual_cpu_interrupts_enabled())
			vcpu_stop_guest_with_regs(VCPU_STOP_HALTED, regs,
			                          "guest halted with interrupts disabled: nothing can wake it");
		if (virtual_cpu_highest_pending() >= 0) {
			halting = 0;
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
			return; /* the caller delivers it on the way back to the guest */
		}
		if (!timer_alarm_armed())
			vcpu_stop_guest_with_regs(VCPU_STOP_HALTED, regs,
			                          "guest halted with no alarm armed: nothing can wake it");
		sigsuspend(&wait_mask);
		monitor_check_timeout();
	}
}

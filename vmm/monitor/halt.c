/* Halt: sleep on the host, not spin, until an interrupt can be taken. A guest halted with
 * its interrupts disabled, or with nothing armed that could ever raise one, would sleep
 * forever: stop it and say why instead. */
#include <signal.h>

#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

void monitor_halt(struct vcpu_regs *regs)
{
	sigset_t wait_mask;

	stats_count_trap(STATS_TRAP_HALT);
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	sigdelset(&wait_mask, timer_signal());
	sigdelset(&wait_mask, SIGALRM);
	for (;;) {
		if (!virtual_cpu_interrupts_enabled())
			vcpu_stop_guest_with_regs(VCPU_STOP_HALTED, regs,
			                          "guest halted with interrupts disabled: nothing can wake it");
		if (virtual_cpu_highest_pending() >= 0)
			return; /* the caller delivers it on the way back to the guest */
		if (!timer_alarm_armed())
			vcpu_stop_guest_with_regs(VCPU_STOP_HALTED, regs,
			                          "guest halted with no alarm armed: nothing can wake it");
		sigsuspend(&wait_mask);
		monitor_check_timeout();
	}
}

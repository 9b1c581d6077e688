/* Halt: sleep on the host, not spin, until an interrupt can be taken. A guest halted with
 * its interrupts disabled, or with nothing armed that could ever raise one, would sleep
 * forever: stop it and say why instead. */
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

static volatile int halting;

int monitor_is_halting(void)
{
	return halting;
}

/* The platform's events stay held from the first look to the wait, which lets them in
 * atomically: one arriving in between would otherwise be missed and the sleep never end. */
void monitor_halt(struct guest_regs *regs)
{
	stats_count_trap(STATS_TRAP_HALT);
	platform_hold_events();
	halting = 1;
	for (;;) {
		if (!virtual_cpu_interrupts_enabled()) {
			platform_request_stop(GUEST_STOP_HALTED, regs,
			                      "guest halted with interrupts disabled: nothing can wake it");
			break;
		}
		if (virtual_cpu_highest_pending() >= 0)
			break; /* the caller delivers it on the way back to the guest */
		if (!timer_alarm_armed()) {
			platform_request_stop(GUEST_STOP_HALTED, regs,
			                      "guest halted with no alarm armed: nothing can wake it");
			break;
		}
		platform_wait_for_event();
		if (monitor_stop_if_timed_out(0))
			break;
	}
	halting = 0;
	platform_release_events();
}

/* Halt. There is no interrupt source yet (alarms and input arrive with the monitor's
 * interrupt delivery), so a halted guest could never wake: stop it and say why rather
 * than let it hang until --timeout. */
#include "monitor/monitor.h"
#include "stats.h"

void monitor_halt(struct vcpu_regs *regs)
{
	stats_count_trap(STATS_TRAP_HALT);
	vcpu_stop_guest_with_regs(VCPU_STOP_HALTED, regs,
	                          "guest halted with no interrupt source that could wake it");
}

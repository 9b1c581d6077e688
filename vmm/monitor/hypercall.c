/* The monitor's hypercall dispatch: vcpu_switch.S calls vcpu_hypercall with the VMI call
 * number after saving the guest's registers; arguments and results follow regparm(3). */
#include <stdint.h>

#include <vmi/calls.h>
#include "devices/io_bus.h"
#include "monitor/monitor.h"
#include "stats.h"
#include "vcpu/vcpu.h"

void vcpu_hypercall(uint32_t call);

/* IN/OUT take the port in edx and the value in eax, exactly like the native instructions. */
static void port_out(struct vcpu_regs *regs, unsigned size)
{
	io_bus_write((uint16_t)regs->edx, size, regs->eax);
}

static void port_in(struct vcpu_regs *regs, unsigned size)
{
	uint32_t value = io_bus_read((uint16_t)regs->edx, size);
	uint32_t keep = size == 4 ? 0 : ~((1u << (size * 8)) - 1);
	regs->eax = (regs->eax & keep) | value;
}

void vcpu_hypercall(uint32_t call)
{
	struct vcpu_regs *regs = &vcpu_guest_regs;

	stats_count_hypercall(call);
	switch (call) {
	case VMI_CALL_OUTB: port_out(regs, 1); break;
	case VMI_CALL_OUTW: port_out(regs, 2); break;
	case VMI_CALL_OUT: port_out(regs, 4); break;
	case VMI_CALL_INB: port_in(regs, 1); break;
	case VMI_CALL_INW: port_in(regs, 2); break;
	case VMI_CALL_IN: port_in(regs, 4); break;
	case VMI_CALL_Shutdown:
		vcpu_stop_guest(VCPU_STOP_SHUTDOWN, NULL);
	case VMI_CALL_Reboot:
		vcpu_stop_guest(VCPU_STOP_REBOOT, NULL);
	case VMI_CALL_Halt:
		monitor_halt(regs);
		break;
	default:
		regs->eax = VMI_ERROR_NOT_IMPLEMENTED;
		break;
	}
	monitor_check_timeout();
}

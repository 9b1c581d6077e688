/* The ROM's own ring switches seen from vmirun: interrupts wait for their end (by
 * single-stepping the few ROM instructions left), faults inside them are resolved. */
#include <stdio.h>

#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>
#include <vmi/vcpu_page.h>
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "platform/process/transition.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

static int stepping_out;

int transition_under_way(void)
{
	return virtual_cpu_shared()->transition != VMI_TRANSITION_NONE;
}

void transition_step_out(struct guest_regs *regs)
{
	stepping_out = 1;
	regs->eflags |= VMI_EFLAGS_TF;
	stats_count_trap(STATS_TRAP_TRANSITION_STEP);
}

int transition_on_step(struct guest_regs *regs)
{
	if (transition_under_way()) {
		/* ours, or the guest's own TF carried into the ROM: either way the ROM's inside
		 * is not the guest's to single-step */
		stepping_out = 1;
		stats_count_trap(STATS_TRAP_TRANSITION_STEP);
		regs->eflags |= VMI_EFLAGS_TF; /* one more instruction (a popfl may have cleared it) */
		return 1;
	}
	if (!stepping_out)
		return 0;
	stepping_out = 0;
	/* No transition leaves TF set: IRET takes the slow path for a frame with TF, and the
	 * system-call entry clears it for the handler as the CPU would. */
	regs->eflags &= ~(uint32_t)VMI_EFLAGS_TF;
	virtual_cpu_deliver_pending(regs);
	return 1;
}

/* Where the guest reaches the ROM that `eip` (inside it) runs: the kernel may map the ROM's
 * frames anywhere, so the base is what translates to VMI_ROM_BASE. */
static uint32_t rom_linear_base(uint32_t eip)
{
	uint32_t physical;
	if (mmu_translate(eip, 0, &physical) == 0 && physical >= VMI_ROM_BASE &&
	    physical < VMI_PROCESS_RAM_BASE)
		return eip - (physical - VMI_ROM_BASE);
	return VMI_ROM_BASE;
}

int transition_on_fault(struct guest_regs *regs)
{
	struct vmi_vcpu_page *shared = virtual_cpu_shared();
	uint32_t kind = shared->transition;
	if (kind == VMI_TRANSITION_NONE)
		return 0;
	shared->transition = VMI_TRANSITION_NONE;
	stepping_out = 0;
	regs->eflags &= ~(uint32_t)VMI_EFLAGS_TF;
	if (kind != VMI_TRANSITION_IRET && kind != VMI_TRANSITION_SYSCALL)
		return 0; /* SYSEXIT cannot fault: a mark the guest wrote itself; an ordinary fault */
	stats_count_trap(STATS_TRAP_TRANSITION_FAULT);
	if (kind == VMI_TRANSITION_IRET) {
		/* Nothing is committed before the user-stack writes: the frame is intact and EAX
		 * is in the scratch slot. Do the IRET as the hypercall would. */
		regs->eax = shared->scratch;
		regs->esp = shared->frame;
		regs->eip = rom_linear_base(regs->eip) + VMI_ROM_CALL_OFFSET(VMI_CALL_IRET);
		if (virtual_cpu_iret(regs, shared->frame) != 0)
			virtual_cpu_deliver(regs, 13, 0, 0);
		virtual_cpu_deliver_pending(regs);
		return 1;
	}
	/* Either the kernel stack the TSS names or the caller's own stack (read back for the
	 * flags the entry saved there before marking) was not guest memory: say which. */
	uint32_t esp0 = 0;
	int kernel_stack_ok = guest_read32(shared->esp0_address, &esp0) == 0 && esp0 >= 20 &&
	                      guest_accessible(esp0 - 20, 20, 1);
	char message[200];
	if (kernel_stack_ok)
		snprintf(message, sizeof(message),
		         "guest cannot take vector %u from user mode: the fast system-call entry could "
		         "not build its frame (the caller's stack at 0x%08x is not guest memory)",
		         VMI_SYSCALL_VECTOR, regs->esp);
	else
		snprintf(message, sizeof(message),
		         "guest cannot take vector %u from user mode: the fast system-call entry could "
		         "not build its frame (the kernel stack the TSS names, esp0 0x%08x, is not "
		         "guest memory)", VMI_SYSCALL_VECTOR, esp0);
	stats_count_trap(STATS_TRAP_FAULT);
	platform_request_stop(GUEST_STOP_FAULT, regs, message);
	return 1;
}

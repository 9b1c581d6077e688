/* The monitor's hypercall dispatch: a GUEST_EXIT_HYPERCALL with the VMI call number and the
 * guest's registers; arguments and results follow docs/abi.md. */
#include <cpuid.h>
#include <stdint.h>
#include <x86intrin.h>

#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/mmu.h>
#include <vmi/process.h>
#include "devices/io_bus.h"
#include "monitor/control_registers.h"
#include "monitor/descriptors.h"
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/mmu_calls.h"
#include "monitor/msr.h"
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"
#include "platform.h"

#define CR0_TS              0x8

static void set64(struct guest_regs *regs, uint64_t value)
{
	regs->eax = (uint32_t)value;
	regs->edx = (uint32_t)(value >> 32);
}

/* A call the guest's current ring may not make: #GP at the far call, as hardware would
 * fault on the privileged instruction. */
static enum exit_action reflect_general_protection(struct guest_regs *regs)
{
	regs->eip -= platform_call_length();
	virtual_cpu_deliver(regs, 13, 0, 0);
	return EXIT_RESUME;
}

static void port_out(struct guest_regs *regs, unsigned size)
{
	io_bus_write((uint16_t)regs->edx, size, regs->eax);
}

static void port_in(struct guest_regs *regs, unsigned size)
{
	emulate_port_in(regs, (uint16_t)regs->edx, size);
}

/* rep outs / rep ins, as the instructions: an item outside guest memory ends it early, the
 * registers showing how far it got. */
static void port_string(struct guest_regs *regs, unsigned size, int out)
{
	emulate_string_io(regs, size, out, 1);
}

/* IRET: the guest jumped to the stub, which far-called here; the iret frame lies just
 * above the far-return frame, where esp points now. */
static enum exit_action iret(struct guest_regs *regs)
{
	if (virtual_cpu_iret(regs, regs->esp) != 0) {
		regs->eip -= platform_call_length(); /* the fault is the IRET's, at the stub's call */
		virtual_cpu_deliver(regs, 13, 0, 0);
	}
	return EXIT_RESUME; /* the frame replaces the state entirely */
}

static enum exit_action sysexit(struct guest_regs *regs)
{
	regs->eip = regs->edx;
	regs->esp = regs->ecx;
	/* what sysexit loads: the flat user selectors */
	virtual_cpu_set_code_selector(VMI_PROCESS_USER_CS);
	virtual_cpu_shared()->user_ss = VMI_PROCESS_USER_DS;
	virtual_cpu_set_interrupts_enabled(1);
	return EXIT_RESUME;
}

/* The fast system-call entry: what `int $0x80` would do at the return address, without the
 * host trap. The handler sees the caller's registers unchanged and IRETs to the stub's ret. */
static enum exit_action fast_syscall(struct guest_regs *regs)
{
	virtual_cpu_deliver(regs, VMI_SYSCALL_VECTOR, -1, platform_call_length());
	return EXIT_RESUME;
}

static uint32_t stack_argument(const struct guest_regs *regs, unsigned index)
{
	return platform_call_stack_argument(regs, index);
}

static void cpuid_call(struct guest_regs *regs)
{
	uint32_t out[4];
	msr_cpuid(regs->eax, regs->ecx, out);
	regs->eax = out[0];
	regs->ebx = out[1];
	regs->ecx = out[2];
	regs->edx = out[3];
}

/* SetCR0..SetCR4: what the `mov` would do, a #GP being VMI_ERROR_INVALID (nothing changes)
 * and what vmirun lacks VMI_ERROR_NOT_IMPLEMENTED. */
static uint32_t set_control_register(unsigned number, uint32_t value)
{
	const char *what, *missing;
	switch (control_register_write(number, &value, &what, &missing)) {
	case CONTROL_REGISTER_TAKEN: return 0;
	case CONTROL_REGISTER_FAULTS: return VMI_ERROR_INVALID;
	case CONTROL_REGISTER_NOT_IMPLEMENTED: break;
	}
	return VMI_ERROR_NOT_IMPLEMENTED;
}

static enum exit_action dispatch(uint32_t call, struct guest_regs *regs)
{
	struct virtual_cpu *vc = &virtual_cpu;
	uint64_t value;

	switch (call) {
	case VMI_CALL_CPUID: cpuid_call(regs); break;
	case VMI_CALL_RDMSR:
		if (msr_read(regs->ecx, &value) != 0)
			value = 0; /* an MSR the virtual CPU lacks reads as 0 (docs/abi.md) */
		set64(regs, value);
		break;
	case VMI_CALL_WRMSR:
		regs->eax = msr_write(regs->ecx, (uint64_t)regs->edx << 32 | regs->eax) == 0
		            ? 0 : VMI_ERROR_INVALID;
		break;
	case VMI_CALL_SetGDT: regs->eax = descriptors_set_gdt(regs->eax); break;
	case VMI_CALL_SetIDT: regs->eax = descriptors_set_idt(regs->eax); break;
	case VMI_CALL_SetLDT: regs->eax = descriptors_set_ldt(regs->eax); break;
	case VMI_CALL_SetTR: regs->eax = descriptors_set_tr(regs->eax); break;
	case VMI_CALL_GetGDT: regs->eax = descriptors_get_gdt(regs->eax); break;
	case VMI_CALL_GetIDT: regs->eax = descriptors_get_idt(regs->eax); break;
	case VMI_CALL_GetLDT: regs->eax = vc->ldt_selector; break;
	case VMI_CALL_GetTR: regs->eax = vc->tr_selector; break;
	case VMI_CALL_WriteGDTEntry:
		regs->eax = descriptors_write_gdt_entry(regs->eax, regs->edx, regs->ecx,
		                                        stack_argument(regs, 0));
		break;
	case VMI_CALL_WriteLDTEntry:
		regs->eax = descriptors_write_ldt_entry(regs->eax, regs->edx, regs->ecx,
		                                        stack_argument(regs, 0));
		break;
	case VMI_CALL_WriteIDTEntry:
		regs->eax = descriptors_write_idt_entry(regs->eax, regs->edx, regs->ecx,
		                                        stack_argument(regs, 0));
		break;
	case VMI_CALL_UpdateKernelStack:
		regs->eax = descriptors_update_kernel_stack(regs->eax, regs->edx);
		break;
	case VMI_CALL_SetCR0: regs->eax = set_control_register(0, regs->eax); break;
	case VMI_CALL_SetCR2: regs->eax = set_control_register(2, regs->eax); break;
	case VMI_CALL_SetCR3: regs->eax = set_control_register(3, regs->eax); break;
	case VMI_CALL_SetCR4: regs->eax = set_control_register(4, regs->eax); break;
	case VMI_CALL_SetPxE: regs->eax = mmu_call_set_pxe(regs->eax, regs->edx, regs->ecx); break;
	case VMI_CALL_GetPxE: regs->eax = mmu_call_get_pxe(regs->eax); break;
	case VMI_CALL_SwapPxE: regs->eax = mmu_call_swap_pxe(regs->eax, regs->edx); break;
	case VMI_CALL_TestAndSetPxEBit:
	case VMI_CALL_TestAndClearPxEBit:
		regs->eax = mmu_call_test_and_change_bit(regs->eax, regs->edx,
		                                         call == VMI_CALL_TestAndSetPxEBit);
		break;
	case VMI_CALL_AllocatePage:
		regs->eax = mmu_call_allocate_page(regs->eax, regs->edx, regs->ecx,
		                                   stack_argument(regs, 0), stack_argument(regs, 1));
		break;
	case VMI_CALL_ReleasePage: regs->eax = mmu_call_release_page(regs->eax, regs->edx); break;
	case VMI_CALL_InvalPage: regs->eax = mmu_call_inval_page(regs->eax); break;
	case VMI_CALL_FlushTLB: regs->eax = mmu_call_flush_tlb(regs->eax); break;
	case VMI_CALL_FlushDeferredCalls: regs->eax = mmu_call_flush_deferred(regs->eax); break;
	case VMI_CALL_SetLinearMapping:
		regs->eax = mmu_call_set_linear_mapping(regs->eax, regs->edx, regs->ecx,
		                                        stack_argument(regs, 0));
		break;
	case VMI_CALL_GetCR0: regs->eax = vc->cr0; break;
	case VMI_CALL_GetCR2: regs->eax = virtual_cpu_shared()->cr2; break;
	case VMI_CALL_GetCR3: regs->eax = vc->cr3; break;
	case VMI_CALL_GetCR4: regs->eax = vc->cr4; break;
	case VMI_CALL_INVD:
	case VMI_CALL_WBINVD:
	case VMI_CALL_Pause:
	case VMI_CALL_IODelay:
		break;
	case VMI_CALL_SetDR:
		if (regs->eax < 8) {
			vc->dr[regs->eax] = regs->edx;
			regs->eax = 0;
		} else {
			regs->eax = VMI_ERROR_INVALID;
		}
		break;
	case VMI_CALL_GetDR: regs->eax = regs->eax < 8 ? vc->dr[regs->eax] : 0; break;
	case VMI_CALL_RDTSC: set64(regs, __rdtsc()); break;
	case VMI_CALL_CLTS: vc->cr0 &= ~CR0_TS; break;
	case VMI_CALL_EnableInterrupts: virtual_cpu_set_interrupts_enabled(1); break;
	case VMI_CALL_DisableInterrupts: virtual_cpu_set_interrupts_enabled(0); break;
	case VMI_CALL_GetInterruptMask: regs->eax = virtual_cpu_shared()->flags; break;
	case VMI_CALL_SetInterruptMask:
		virtual_cpu_set_interrupts_enabled((regs->eax & VMI_EFLAGS_IF) != 0);
		break;
	case VMI_CALL_IRET: return iret(regs);
	case VMI_CALL_SYSEXIT: return sysexit(regs);
	case VMI_CALL_Halt: monitor_halt(regs); break;
	case VMI_CALL_Reboot: platform_request_stop(GUEST_STOP_REBOOT, NULL, NULL); break;
	case VMI_CALL_Shutdown: platform_request_stop(GUEST_STOP_SHUTDOWN, NULL, NULL); break;
	case VMI_CALL_OUTB: port_out(regs, 1); break;
	case VMI_CALL_OUTW: port_out(regs, 2); break;
	case VMI_CALL_OUT: port_out(regs, 4); break;
	case VMI_CALL_INB: port_in(regs, 1); break;
	case VMI_CALL_INW: port_in(regs, 2); break;
	case VMI_CALL_IN: port_in(regs, 4); break;
	case VMI_CALL_OUTSB: port_string(regs, 1, 1); break;
	case VMI_CALL_OUTSW: port_string(regs, 2, 1); break;
	case VMI_CALL_OUTS: port_string(regs, 4, 1); break;
	case VMI_CALL_INSB: port_string(regs, 1, 0); break;
	case VMI_CALL_INSW: port_string(regs, 2, 0); break;
	case VMI_CALL_INS: port_string(regs, 4, 0); break;
	case VMI_CALL_GetCycleFrequency: set64(regs, timer_cycle_frequency()); break;
	case VMI_CALL_GetCycleCounter:
		if (timer_cycle_counter(regs->eax, &value) != 0)
			value = 0;
		set64(regs, value);
		break;
	case VMI_CALL_SetAlarm:
		regs->eax = timer_set_alarm(regs->eax, (uint64_t)regs->ecx << 32 | regs->edx,
		                            (uint64_t)stack_argument(regs, 1) << 32 |
		                                stack_argument(regs, 0));
		break;
	case VMI_CALL_CancelAlarm: regs->eax = timer_cancel_alarm(regs->eax); break;
	case VMI_CALL_GetWallclockTime: set64(regs, timer_wallclock_ns()); break;
	case VMI_CALL_WallclockUpdated: regs->eax = 0; break;
	case VMI_CALL_RDPMC:
		set64(regs, (uint64_t)VMI_ERROR_NOT_IMPLEMENTED << 32 | VMI_ERROR_NOT_IMPLEMENTED);
		break;
	default:
		regs->eax = VMI_ERROR_NOT_IMPLEMENTED;
		break;
	}
	return EXIT_CONTINUE;
}

static volatile int single_step_pending;

void monitor_single_step_after_hypercall(void)
{
	single_step_pending = 1;
}

enum exit_action monitor_hypercall(uint32_t call, struct guest_regs *regs)
{
	enum exit_action action;

	stats_count_hypercall(call);
	if (call == VMI_CALL_Syscall)
		action = fast_syscall(regs);
	else if (virtual_cpu_ring() != 0)
		action = reflect_general_protection(regs);
	else
		action = dispatch(call, regs);

	/* A single-step trap comes before any interrupt, as on hardware; the flags in its
	 * frame keep the TF the guest set. (After a stop request these change nothing that
	 * matters: the guest stops before it runs again.) */
	if (single_step_pending) {
		single_step_pending = 0;
		regs->eflags |= VMI_EFLAGS_TF;
		virtual_cpu_deliver(regs, 1, -1, 0);
		action = EXIT_RESUME;
	}

	/* An interrupt that became deliverable (raised while the monitor ran, or let in by
	 * this call) is taken on the way back, at the instruction after the call. */
	if (virtual_cpu_interrupts_enabled() && virtual_cpu_highest_pending() >= 0 &&
	    virtual_cpu_deliver_pending(regs))
		action = EXIT_RESUME;
	return action;
}

/* trap(): where every interrupt entry lands. Timer IRQs go to the timer (and preempt user
 * mode), vector 0x80 to the system calls, exceptions to a self-test's guard, to the
 * faulting process (which ends), or, in the kernel, to a panic with the frame. */
#include "console.h"
#include "descriptors.h"
#include "interrupts.h"
#include "kernel.h"
#include "paging.h"
#include "process.h"
#include "scheduler.h"
#include "syscall.h"
#include "timer.h"
#include <vmi/cpu.h>

#define EXCEPTION_VECTORS 32

struct fault_guard *volatile active_guard;   /* guard.S sets and clears it */
volatile uint32_t stray_interrupts;
extern char guard_landing[];

/* The exception `frame` says arrived (CR2 read at once for a page fault). */
static struct fault_record fault_record_of(const struct trapframe *frame)
{
	const struct fault_record fault = {
		.vector = frame->vector,
		.error_code = frame->error_code,
		.eip = frame->eip,
		.cs = frame->cs,
		.cr2 = frame->vector == VECTOR_PAGE_FAULT ? vmi_get_cr2() : 0,
	};
	return fault;
}

static void kernel_fault(struct trapframe *frame)
{
	struct fault_guard *guard = active_guard;
	if (guard) {
		guard->fault = fault_record_of(frame);
		frame->eip = (uint32_t)(uintptr_t)guard_landing;
		return;
	}
	kprintf("kernel: exception %u in the kernel: error 0x%x eip 0x%x cs 0x%x eflags 0x%x "
	        "cr2 0x%x\n", frame->vector, frame->error_code, frame->eip, frame->cs, frame->eflags,
	        fault_record_of(frame).cr2);
	kprintf("kernel: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x esi 0x%x edi 0x%x ebp 0x%x\n",
	        frame->eax, frame->ebx, frame->ecx, frame->edx, frame->esi, frame->edi, frame->ebp);
	panic("unexpected exception");
}

static void user_fault(struct trapframe *frame)
{
	const struct fault_record fault = fault_record_of(frame);
	scheduler_kill_current(&fault);
}

static void irq(struct trapframe *frame)
{
	unsigned line = frame->vector - VECTOR_IRQ_BASE;
	if (line == 0) {
		timer_interrupt();
		/* Round robin: a tick that lands in user mode ends the process's time slice. */
		if (trapframe_from_user(frame))
			scheduler_preempt();
		return;
	}
	stray_interrupts++;
	timer_acknowledge_irq(line);
}

void trap(struct trapframe *frame)
{
	if (frame->vector == VMI_SYSCALL_VECTOR) {
		syscall_dispatch(frame);
	} else if (frame->vector >= VECTOR_IRQ_BASE &&
	           frame->vector < VECTOR_IRQ_BASE + VECTOR_IRQ_COUNT) {
		irq(frame);
	} else if (trapframe_from_user(frame)) {
		if (frame->vector == VECTOR_PAGE_FAULT && current_process && current_process->directory &&
		    paging_demand_fault(frame, process_index(current_process)))
			return;
		user_fault(frame);
	} else {
		kernel_fault(frame);
	}
}

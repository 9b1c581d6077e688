/* Trap dispatch: the frame every interrupt entry builds, exceptions (kernel faults stop the
 * kernel unless a self-test guards them; user faults end the process), IRQs, system calls. */
#ifndef KERNEL_INTERRUPTS_H
#define KERNEL_INTERRUPTS_H

#include <stdint.h>

/* What entry.S pushes on top of the CPU's frame. */
struct trapframe {
	uint32_t edi, esi, ebp, esp_at_pushal, ebx, edx, ecx, eax;   /* pushal */
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;     /* the CPU (or vmirun) pushed these */
	uint32_t user_esp, user_ss;   /* only on entries from user mode */
};

static inline int trapframe_from_user(const struct trapframe *frame)
{
	return (frame->cs & 3) == 3;
}

/* One exception as it arrived. */
struct fault_record {
	uint32_t vector, error_code, eip, cs;
	uint32_t cr2;                 /* a page fault's linear address (else 0) */
};

/* guard.S's view: saved_esp and previous first. */
struct fault_guard {
	uint32_t saved_esp;
	struct fault_guard *previous;
	struct fault_record fault;
};

/* Runs function(argument); 0 if it returned, 1 if an exception stopped it (guard->fault). */
int guard_run(struct fault_guard *guard, void (*function)(void *), void *argument);

void trap(struct trapframe *frame);

/* IRQs other than the timer's, and exceptions caught by guards, for the log. */
extern volatile uint32_t stray_interrupts;

#endif

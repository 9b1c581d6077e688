/* The scheduler: round robin over runnable processes, preempted by timer ticks that land in
 * user mode; processes also give up the CPU by yielding, blocking and exiting. */
#ifndef KERNEL_SCHEDULER_H
#define KERNEL_SCHEDULER_H

#include <stdint.h>

#include "interrupts.h"
#include "process.h"

/* Runs the created processes until every one has ended, then returns. Call from the kernel
 * with interrupts enabled: the scheduler runs with them off (disabled and enabled here, not
 * saved and restored, which a deprivileged native ROM cannot do), processes with them on. */
void scheduler_run(void);

/* From the running process's kernel side (a system call or an interrupt): */
void scheduler_yield(void);
void scheduler_preempt(void);               /* a timer tick in user mode */
void scheduler_block(void);                 /* until someone calls scheduler_wake */
void scheduler_wake(struct process *process);
void scheduler_exit(int status) __attribute__((noreturn));
void scheduler_kill_current(const struct fault_record *fault) __attribute__((noreturn));

struct scheduler_counts {
	uint32_t switches;          /* switches into a process */
	uint32_t deadlocks;         /* times every live process was blocked */
};
extern struct scheduler_counts scheduler_counts;

#endif

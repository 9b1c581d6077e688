/* Round-robin scheduling, xv6 style: the scheduler has a context of its own (the stack
 * scheduler_run was called on); a process leaves the CPU by switching to it, and it picks
 * the next runnable process after the last one it ran. Everything here runs with interrupts
 * disabled (entries use interrupt gates), so no locks. */
#include "console.h"
#include "descriptors.h"
#include "kernel.h"
#include "paging.h"
#include "scheduler.h"

void switch_context(struct context **save, struct context *next);   /* switch.S */

struct scheduler_counts scheduler_counts;
static struct context *scheduler_context;
static unsigned next_slot;

static struct process *next_runnable(void)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		unsigned slot = (next_slot + i) % PROCESS_MAX;
		struct process *p = process_slot(slot);
		if (p->state == PROCESS_RUNNABLE) {
			next_slot = (slot + 1) % PROCESS_MAX;
			return p;
		}
	}
	return 0;
}

static int any_blocked(void)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (process_slot(i)->state == PROCESS_BLOCKED)
			return 1;
	return 0;
}

/* Nobody runnable but someone blocked: only a process could wake them, so none ever will. */
static void end_deadlock(void)
{
	scheduler_counts.deadlocks++;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *p = process_slot(i);
		if (p->state != PROCESS_BLOCKED)
			continue;
		kprintf("kernel: deadlock: process %d (%s) blocked forever; ending it\n", p->pid, p->name);
		p->state = PROCESS_ZOMBIE;
		p->exit_status = -1;
	}
}

void scheduler_run(void)
{
	vmi_disable_interrupts();
	for (;;) {
		struct process *p = next_runnable();
		if (!p) {
			if (!any_blocked())
				break;   /* all ended */
			end_deadlock();
			continue;
		}
		p->state = PROCESS_RUNNING;
		p->runs++;
		scheduler_counts.switches++;
		current_process = p;
		descriptors_set_kernel_stack(p->kernel_stack_top);
		/* its own directory, or the kernel's, which alone maps the stacks window */
		paging_switch_to(p->directory ? p->directory : paging_kernel_directory());
		switch_context(&scheduler_context, p->context);
		current_process = 0;
	}
	vmi_enable_interrupts();
}

static void switch_to_scheduler(void)
{
	switch_context(&current_process->context, scheduler_context);
}

void scheduler_yield(void)
{
	current_process->state = PROCESS_RUNNABLE;
	switch_to_scheduler();
}

void scheduler_preempt(void)
{
	if (!current_process)
		return;
	current_process->preemptions++;
	scheduler_yield();
}

void scheduler_block(void)
{
	current_process->state = PROCESS_BLOCKED;
	switch_to_scheduler();
}

void scheduler_wake(struct process *process)
{
	if (process->state == PROCESS_BLOCKED)
		process->state = PROCESS_RUNNABLE;
}

void scheduler_exit(int status)
{
	struct process *self = current_process;
	self->exit_status = status;
	self->state = PROCESS_ZOMBIE;
	/* Its memory goes back now, not when it is reaped: many processes may come and go. */
	if (self->directory) {
		paging_release(process_index(self));
		self->directory = 0;
	}
	/* Senders waiting for room in our mailbox (their send now fails instead), and a parent
	 * waiting for us. */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *p = process_slot(i);
		if (p->state == PROCESS_BLOCKED &&
		    (p->sending_to == self->pid || p->waiting_for == self->pid))
			scheduler_wake(p);
	}
	switch_to_scheduler();
	panic("an ended process was scheduled");
}

void scheduler_kill_current(const struct fault_record *fault)
{
	if (!current_process)
		panic("a user-mode exception with no current process");
	current_process->faulted = 1;
	current_process->fault = *fault;
	scheduler_exit(-(int)fault->vector - 1);
}

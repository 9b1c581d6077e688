/* The system calls: null, write, yield, exit, getpid, send/receive of a 16-byte message
 * through per-process mailboxes, drop_private, fork (plain copying) and wait. A user pointer
 * must name memory user mode could read (or write) itself, in the process's own directory. */
#include "console.h"
#include "interrupts.h"
#include "kernel.h"
#include "paging.h"
#include "process.h"
#include "scheduler.h"
#include "syscall.h"

#define WRITE_MAX     4096

struct syscall_observation syscall_observed;


static uint32_t sys_write(uint32_t text, uint32_t length)
{
	if (length > WRITE_MAX || !paging_user_range_ok(text, length, 0))
		return SYSCALL_ERROR;
	console_write((const char *)(uintptr_t)text, length);
	return length;
}

static uint32_t sys_send(uint32_t pid, uint32_t message_address)
{
	if (!paging_user_range_ok(message_address, sizeof(struct message), 0))
		return SYSCALL_ERROR;
	struct message message;
	memcpy(&message, (const void *)(uintptr_t)message_address, sizeof(message));
	message.sender = (uint32_t)current_process->pid;
	for (;;) {
		struct process *to = process_find((int)pid);
		if (!to || to->state == PROCESS_ZOMBIE || to == current_process)
			return SYSCALL_ERROR;
		if (to->mailbox_count < MAILBOX_SLOTS) {
			unsigned slot = (to->mailbox_first + to->mailbox_count) % MAILBOX_SLOTS;
			to->mailbox[slot] = message;
			to->mailbox_count++;
			scheduler_wake(to);   /* if it waits in receive */
			return 0;
		}
		current_process->sending_to = to->pid;
		syscall_observed.sends_blocked++;
		scheduler_block();
		current_process->sending_to = -1;
	}
}

static uint32_t sys_receive(uint32_t message_address)
{
	if (!paging_user_range_ok(message_address, sizeof(struct message), 1))
		return SYSCALL_ERROR;
	struct process *self = current_process;
	while (self->mailbox_count == 0)
		scheduler_block();
	struct message message = self->mailbox[self->mailbox_first];
	self->mailbox_first = (self->mailbox_first + 1) % MAILBOX_SLOTS;
	self->mailbox_count--;
	/* A sender waiting for room may go on. */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *p = process_slot(i);
		if (p->state == PROCESS_BLOCKED && p->sending_to == self->pid)
			scheduler_wake(p);
	}
	memcpy((void *)(uintptr_t)message_address, &message, sizeof(message));
	return message.sender;
}

static uint32_t sys_wait(uint32_t pid)
{
	struct process *child = process_find((int)pid);
	if (!child || child->parent != current_process->pid)
		return SYSCALL_ERROR;
	current_process->waiting_for = child->pid;
	while (child->state != PROCESS_ZOMBIE)
		scheduler_block();   /* its exit wakes us */
	current_process->waiting_for = -1;
	int status = child->exit_status;
	process_reap(child);
	syscall_observed.frames_at_wait = paging_frames_in_use();
	return (uint32_t)status;
}

void syscall_dispatch(struct trapframe *frame)
{
	syscall_observed.count++;
	syscall_observed.frame_cs = frame->cs;
	syscall_observed.interrupt_mask = vmi_get_interrupt_mask();
	if (!current_process) {
		frame->eax = SYSCALL_ERROR;   /* the kernel itself has nothing to ask for */
		return;
	}
	uint32_t result = SYSCALL_ERROR;
	switch (frame->eax) {
	case SYS_NULL: result = 0; break;
	case SYS_WRITE: result = sys_write(frame->ebx, frame->ecx); break;
	case SYS_YIELD: scheduler_yield(); result = 0; break;
	case SYS_EXIT: scheduler_exit((int)frame->ebx);
	case SYS_GETPID: result = (uint32_t)current_process->pid; break;
	case SYS_SEND: result = sys_send(frame->ebx, frame->ecx); break;
	case SYS_RECEIVE: result = sys_receive(frame->ebx); break;
	case SYS_DROP_PRIVATE:
		if (current_process->directory)
			paging_drop_private(process_index(current_process));
		result = current_process->directory ? 0 : SYSCALL_ERROR;
		break;
	case SYS_FORK: result = (uint32_t)process_fork(frame); break;
	case SYS_WAIT: result = sys_wait(frame->ebx); break;
	default: break;
	}
	frame->eax = result;
}

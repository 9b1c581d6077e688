/* The process table and process creation. A new process's kernel stack is made to look as
 * if it had entered the kernel from user mode and been switched away from: the scheduler's
 * switch_context "returns" into trap_return, whose IRET enters user mode at the entry
 * point with interrupts enabled (or, for a forked child, where its parent called fork). Its
 * user stack is its table slot's, mapped by paging.c into its address space. */
#include "kernel.h"
#include "paging.h"
#include "process.h"
#include <vmi/cpu.h>

#define EFLAGS_RESERVED_BIT1 0x2

extern char trap_return[];           /* entry.S */
void user_program_returned(void);    /* user.c: where a returning entry point lands */

static struct process processes[PROCESS_MAX];
/* Page-aligned, so the frame a return to user mode pops never spans two pages: in the VM
 * runner (QEMU 7.2's TCG) an iret whose frame reached into a page vmirun --no-rom had not
 * mapped yet faulted as a kernel access in the VM's kernel, which killed vmirun. */
static uint8_t kernel_stacks[PROCESS_MAX][KERNEL_STACK_BYTES] __attribute__((aligned(4096)));
static int next_pid = 1;
struct process *current_process;

struct process *process_slot(unsigned index)
{
	return index < PROCESS_MAX ? &processes[index] : 0;
}

unsigned process_index(const struct process *process)
{
	return (unsigned)(process - processes);
}

struct process *process_find(int pid)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state != PROCESS_UNUSED && processes[i].pid == pid)
			return &processes[i];
	return 0;
}

/* A process's first entry to user mode by SYSEXIT: where switch_context "returns" to
 * instead of trap_return. Interrupts come on with the switch to user mode. */
static void enter_user_mode_by_sysexit(void)
{
	const struct trapframe *frame =
		(const struct trapframe *)(current_process->kernel_stack_top - sizeof(*frame));
	vmi_sysexit(frame->eip, frame->user_esp);
}

int process_create_entering_by_sysexit(const char *name, user_entry entry, uint32_t argument)
{
	int pid = process_create(name, entry, argument);
	struct process *p = process_find(pid);
	if (p)
		p->context->eip = (uint32_t)(uintptr_t)enter_user_mode_by_sysexit;
	return pid;
}

/* A free slot with a fresh pid, not yet runnable (0 when the table is full). */
static struct process *process_new(const char *name)
{
	unsigned index = 0;
	while (index < PROCESS_MAX && processes[index].state != PROCESS_UNUSED)
		index++;
	if (index == PROCESS_MAX)
		return 0;
	struct process *p = &processes[index];
	memset(p, 0, sizeof(*p));
	p->pid = next_pid++;
	p->name = name;
	p->sending_to = -1;
	p->waiting_for = -1;
	return p;
}

/* Makes p runnable: its kernel stack holds `frame`, for IRET to pop, under the context
 * switch_context pops first, which "returns" into trap_return. */
static void process_start(struct process *p, const struct trapframe *frame)
{
	p->kernel_stack_top = (uint32_t)(uintptr_t)(kernel_stacks[process_index(p)] + KERNEL_STACK_BYTES);
	struct trapframe *stacked = (struct trapframe *)(p->kernel_stack_top - sizeof(*stacked));
	*stacked = *frame;
	struct context *context = (struct context *)stacked - 1;
	memset(context, 0, sizeof(*context));
	context->eip = (uint32_t)(uintptr_t)trap_return;
	p->context = context;
	p->state = PROCESS_RUNNABLE;
}

/* A process in the kernel's directory, or in one of its own, on its slot's user stack
 * (paging.c maps it where paging_user_stack_top says). */
static int create(const char *name, user_entry entry, uint32_t argument, int own_address_space)
{
	struct process *p = process_new(name);
	if (!p)
		return -1;
	unsigned slot = process_index(p);
	if (own_address_space)
		p->directory = paging_new_address_space(slot);
	/* User stack: the argument and a return address, as if entry had been called; written
	 * through the kernel's map of its frames, read by user mode at its own address. */
	uint32_t *top = (uint32_t *)((uint8_t *)paging_user_stack(slot) + USER_STACK_BYTES);
	top[-1] = argument;
	top[-2] = (uint32_t)(uintptr_t)user_program_returned;

	struct trapframe frame;
	memset(&frame, 0, sizeof(frame));
	frame.eip = (uint32_t)(uintptr_t)entry;
	frame.cs = platform.user_cs;
	frame.eflags = VMI_EFLAGS_IF | EFLAGS_RESERVED_BIT1;
	frame.user_esp = paging_user_stack_top(slot, own_address_space) - 2 * sizeof(uint32_t);
	frame.user_ss = platform.user_ds;
	process_start(p, &frame);
	return p->pid;
}

int process_create(const char *name, user_entry entry, uint32_t argument)
{
	return create(name, entry, argument, 0);
}

int process_create_with_address_space(const char *name, user_entry entry, uint32_t argument)
{
	return create(name, entry, argument, 1);
}

int process_fork(const struct trapframe *parent_frame)
{
	struct process *parent = current_process;
	if (!parent || !parent->directory)
		return -1;   /* fork copies a private window: without one there is nothing to copy */
	struct process *child = process_new(parent->name);
	if (!child)
		return -1;
	unsigned from = process_index(parent), to = process_index(child);
	child->directory = paging_new_address_space(to);
	if (paging_copy_private(from, to) != 0) {
		paging_release(to);   /* the slot itself stays unused */
		return -1;
	}
	child->parent = parent->pid;

	/* The child's stack is at the parent's address in its own directory: a plain copy of
	 * the frames is exact, pointers into the stack included. */
	memcpy(paging_user_stack(to), paging_user_stack(from), USER_STACK_BYTES);
	struct trapframe frame = *parent_frame;
	frame.eax = 0;   /* fork's result in the child */
	process_start(child, &frame);
	return child->pid;
}

void process_reap(struct process *p)
{
	if (p->directory)   /* ended without exiting (a deadlock) */
		paging_release(process_index(p));
	p->directory = 0;
	p->state = PROCESS_UNUSED;
}

void process_reap_all(void)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_ZOMBIE)
			process_reap(&processes[i]);
}

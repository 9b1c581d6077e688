/* The process table and process creation. A new process's kernel stack is made to look as
 * if it had entered the kernel from user mode and been switched away from: the scheduler's
 * switch_context "returns" into trap_return, whose IRET enters user mode at the entry
 * point with interrupts enabled (or, for a forked child, where its parent called fork). */
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
static uint8_t user_stacks[PROCESS_MAX][USER_STACK_BYTES] __attribute__((aligned(16)));
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

int process_create_with_address_space(const char *name, user_entry entry, uint32_t argument)
{
	int pid = process_create(name, entry, argument);
	struct process *p = process_find(pid);
	if (p)
		p->directory = paging_new_address_space(process_index(p));
	return pid;
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

int process_create(const char *name, user_entry entry, uint32_t argument)
{
	struct process *p = process_new(name);
	if (!p)
		return -1;
	/* User stack: the argument and a return address, as if entry had been called. */
	uint32_t *user_sp = (uint32_t *)(user_stacks[process_index(p)] + USER_STACK_BYTES);
	*--user_sp = argument;
	*--user_sp = (uint32_t)(uintptr_t)user_program_returned;

	struct trapframe frame;
	memset(&frame, 0, sizeof(frame));
	frame.eip = (uint32_t)(uintptr_t)entry;
	frame.cs = platform.user_cs;
	frame.eflags = VMI_EFLAGS_IF | EFLAGS_RESERVED_BIT1;
	frame.user_esp = (uint32_t)(uintptr_t)user_sp;
	frame.user_ss = platform.user_ds;
	process_start(p, &frame);
	return p->pid;
}

/* A value of the parent's that points into its user stack, moved to the same place in the
 * child's copy; any other value is kept. */
static uint32_t moved_to_copy(uint32_t value, uint32_t parent_stack, uint32_t child_stack)
{
	return value - parent_stack <= USER_STACK_BYTES ? value - parent_stack + child_stack : value;
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

	/* User stacks live in the kernel image, which every directory maps alike, so the child's
	 * copy is at another address: ESP, and every register pointing into the stack, move with
	 * it (pointers into the stack kept in memory do not). */
	memcpy(user_stacks[to], user_stacks[from], USER_STACK_BYTES);
	uint32_t old = (uint32_t)(uintptr_t)user_stacks[from], new = (uint32_t)(uintptr_t)user_stacks[to];
	struct trapframe frame = *parent_frame;
	uint32_t *moved[] = { &frame.user_esp, &frame.ebp, &frame.ebx, &frame.ecx, &frame.edx,
	                      &frame.esi, &frame.edi };
	for (unsigned i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		*moved[i] = moved_to_copy(*moved[i], old, new);
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

/* Processes: a fixed table of ring-3 processes, each with its own kernel stack (for its trap
 * frames and its kernel context) and user stack (paging.c), a small mailbox, and how it
 * ended. */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <stdint.h>

#include "interrupts.h"
#include "message.h"

#define PROCESS_MAX          8
#define KERNEL_STACK_BYTES   8192
#define USER_STACK_BYTES     16384
#define MAILBOX_SLOTS        4

enum process_state {
	PROCESS_UNUSED = 0,
	PROCESS_RUNNABLE,
	PROCESS_RUNNING,
	PROCESS_BLOCKED,      /* waiting in receive, or in send for room in a full mailbox */
	PROCESS_ZOMBIE,       /* ended; the exit status waits for process_reap_all */
};

/* What switch_context saves and restores (switch.S pushes them in this order). */
struct context {
	uint32_t edi, esi, ebx, ebp, eip;
};

struct process {
	int pid;
	enum process_state state;
	const char *name;
	struct context *context;      /* where switch_context left the kernel stack */
	uint32_t kernel_stack_top;    /* esp0: entries from user mode start here */
	int sending_to;               /* while blocked in send: the full mailbox's owner */
	int waiting_for;              /* while blocked in wait: the child it waits for */
	int parent;                   /* the pid that forked it (0: made by the kernel) */
	struct message mailbox[MAILBOX_SLOTS];
	unsigned mailbox_first, mailbox_count;
	int exit_status;
	int faulted;                  /* ended by an exception in user mode */
	struct fault_record fault;
	uint32_t directory;           /* its page directory (paging.c), or 0: the kernel's */
	uint32_t preemptions;         /* timer ticks that ended a time slice */
	uint32_t runs;                /* times the scheduler switched to it */
};

/* A user-mode entry point: runs in ring 3 and ends with the exit system call (returning
 * from it exits with status 0). */
typedef void (*user_entry)(uint32_t argument);

/* Makes a runnable process that starts at entry(argument) in user mode; its pid, or -1. */
int process_create(const char *name, user_entry entry, uint32_t argument);
/* The same, entering user mode the first time by SYSEXIT instead of IRET. */
int process_create_entering_by_sysexit(const char *name, user_entry entry, uint32_t argument);

/* The same, in an address space of its own with a private window (paging.c; paging on). */
int process_create_with_address_space(const char *name, user_entry entry, uint32_t argument);

/* A child of the current process (which must have an address space of its own) that
 * resumes where `parent_frame` entered the kernel, with EAX = 0, in a directory of its own
 * whose private window is a plain copy of the parent's (every present page copied into a
 * frame of its own; no copy-on-write), on a copy of the parent's user stack at the same
 * address. Its pid, or -1 (no free slot, or the frames ran out: what it took is given back). */
int process_fork(const struct trapframe *parent_frame);

struct process *process_find(int pid);   /* a live or ended process, or 0 */
unsigned process_index(const struct process *process);   /* its slot in the table */
struct process *process_slot(unsigned index);
/* Frees an ended process's slot (and its address space, if it still has one). */
void process_reap(struct process *p);
/* Frees every ended process, so the table is empty for the next run. */
void process_reap_all(void);

extern struct process *current_process;   /* 0 while the scheduler itself runs */

#endif

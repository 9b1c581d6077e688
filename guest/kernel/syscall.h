/* System calls: numbers (shared with user programs) and the kernel's dispatcher. A call
 * takes EAX = number, EBX, ECX, EDX = arguments and returns EAX; every other register is
 * kept. Both entries land here: `int $0x80` and the VMI fast entry (call 88). */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stdint.h>

#define SYS_NULL     0   /* () -> 0 */
#define SYS_WRITE    1   /* (text, length) -> length written */
#define SYS_YIELD    2   /* () -> 0 */
#define SYS_EXIT     3   /* (status) -> does not return */
#define SYS_GETPID   4   /* () -> pid */
#define SYS_SEND     5   /* (pid, const struct message *) -> 0; blocks while its mailbox is full */
#define SYS_RECEIVE  6   /* (struct message *) -> sender pid; blocks until a message arrives */
#define SYS_DROP_PRIVATE 7   /* () -> 0: unmaps and frees the caller's private window (paging.h) */
#define SYS_FORK     8   /* () -> the child's pid in the parent, 0 in the child; -1 (paging.h) */
#define SYS_WAIT     9   /* (pid) -> its exit status once it ended (slot freed); -1: not a child */
#define SYS_COUNT    10

#define SYSCALL_ERROR 0xFFFFFFFFu

struct trapframe;
void syscall_dispatch(struct trapframe *frame);

/* What the last system call looked like from inside the kernel, for the self-tests. */
struct syscall_observation {
	uint32_t count;
	uint32_t frame_cs;          /* the code selector in its frame */
	uint32_t interrupt_mask;    /* GetInterruptMask inside the handler */
	uint32_t sends_blocked;     /* times a send waited for room in a full mailbox */
	uint32_t frames_at_wait;    /* paging_frames_in_use as the last wait returned */
};
extern struct syscall_observation syscall_observed;

#endif

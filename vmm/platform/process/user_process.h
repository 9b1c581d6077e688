/* Under strict isolation, a user process runs nothing of vmirun's but the stub
 * (user_stub.S): set up here between its fork and the jump into the stub. */
#ifndef VMM_PLATFORM_PROCESS_USER_PROCESS_H
#define VMM_PLATFORM_PROCESS_USER_PROCESS_H

#include <linux/filter.h>
#include <stddef.h>

/* Sets the process up as the user process of index `index` (0..STUB_SLOTS_MAX-1), process
 * `slot`: 0, or -1. Nothing of vmirun's is gone yet; after this only
 * user_process_enter_stub. */
int user_process_prepare(unsigned index, unsigned slot);

/* Jumps into the stub, which unmaps the rest, locks the process and waits for commands. */
_Noreturn void user_process_enter_stub(void);

/* The stub's seccomp filter, into `program`: its length, or 0 if more than `max`. */
unsigned user_process_filter(struct sock_filter *program, unsigned max);

/* Bytes of stub code. */
size_t user_stub_size(void);

#endif

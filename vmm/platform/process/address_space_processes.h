/* Address spaces as host processes: each guest address space the monitor keeps (a TLB
 * context of monitor/mmu.c) is a process of its own, with its own low 4 GiB of mappings;
 * the vCPU is handed from one to the other when the guest loads CR3. The processes share
 * guest memory (the memfd) and vmirun's data (shared_data.c), so the monitor is one. */
#ifndef VMM_PLATFORM_PROCESS_ADDRESS_SPACE_PROCESSES_H
#define VMM_PLATFORM_PROCESS_ADDRESS_SPACE_PROCESSES_H

#include <stdatomic.h>
#include <stdint.h>

/* At most this many processes, the first included: 8 address spaces, each a kernel's and,
 * under strict isolation, a user's. */
#define ADDRESS_SPACE_PROCESSES_MAX 16

/* What each new process locks itself with before it runs guest code (sandbox_lock's
 * arguments, the same as the first process's). */
struct address_space_sandbox {
	int read_fds[4];
	unsigned read_fd_count;
	int guest_memory_fd;
	/* Processes from this slot on run guest user mode only (strict isolation; the count
	 * of processes if none does): the window's vCPU page is read-only there. */
	unsigned first_user_slot;
};

/* Sets how many address spaces are kept as processes (1: this process holds them all, and
 * a CR3 load flushes); with more, shares vmirun's data and forks the template the others
 * are forked from. After every other set-up, before the sandbox. 0, or -1 with a reason. */
int address_space_processes_start(unsigned count, const struct address_space_sandbox *sandbox,
                                   char error[200]);

/* At the end of an exit, before the guest resumes: 1 if the monitor switched to the
 * address space of another process. Inline: every hypercall asks. */
extern _Atomic uint32_t process_wanted;
extern __thread unsigned process_slot;
static inline int process_switch_wanted(void)
{
	return atomic_load_explicit(&process_wanted, memory_order_relaxed) != process_slot;
}

/* Then: hands the vCPU, whose state is all in process_guest_regs, to that process, and
 * returns once this one holds it again, the guest to resume from process_guest_regs (the
 * interrupts that became pending meanwhile delivered). */
void process_hand_over(void);

/* In a process other than the first, a stop: the first process ends the run, so the vCPU
 * goes back to it; never returns. */
_Noreturn void process_hand_back_to_stop(void);

/* 1 in the process vmirun started as (the one platform_run returns in). */
int process_is_first(void);

/* The address space whose mappings platform_map_linear changes: this process's
 * (process_slot), or the user process it drives (user_driver.c). */
extern __thread unsigned process_mapping_slot;

/* Process `slot`'s pid (0 if it does not run); forgets it (it ended: the next switch there
 * creates another); marks `slot` as the one that holds the vCPU (this process's handlers
 * then leave the alarm and the timeout to it). */
#include <sys/types.h>
pid_t process_pid(unsigned slot);
void process_forget(unsigned slot);
void process_lend_vcpu(unsigned slot);

/* The one process that may spin while it waits for the vCPU (the others sleep at once): this
 * one, from now; and whether this one still is. */
void process_take_spinner_token(void);
int process_may_spin(void);

/* Gives it to process `slot` (a user process that just answered: its next command is the
 * likeliest to come soon); keeps it in `word` from now on (shared memory). */
void process_give_spinner_token(unsigned slot);
void process_keep_spinner_token_at(_Atomic uint32_t *word);

/* A futex call on a word of the shared pages (FUTEX_WAIT or FUTEX_WAKE, no timeout). */
long process_futex(_Atomic uint32_t *word, int op, uint32_t value);

/* 1 in the process that holds the vCPU now: only it handles the guest's events. */
int process_holds_vcpu(void);

/* The first process: an address-space process ended while the run went on. */
void process_child_ended(void);

#endif

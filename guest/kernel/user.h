/* User mode: the programs the kernel runs as ring-3 processes, the system-call wrappers they
 * use (int $0x80, or the VMI fast entry as an SDK call site), and their argument blocks,
 * which the kernel fills before and reads after a run (in USER_SHARED memory). */
#ifndef KERNEL_USER_H
#define KERNEL_USER_H

#include <stdint.h>

#include "message.h"
#include "syscall.h"
#include "vmiguest.h"

#define BENCH_REPETITIONS_MAX 31

/* Kernel data the user programs read and write (their argument blocks, and what else the
 * kernel shares with them): the linker script puts this section among the user programs'
 * own data, which paging.c maps user-accessible; the rest of the kernel is supervisor-only.
 * Variables of static storage only. */
#define USER_SHARED __attribute__((section(".user_shared")))

/* The system call through `int $0x80`. */
static inline uint32_t syscall_int80(uint32_t number, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t result;
	__asm__ volatile("int $0x80"
	                 : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c) : "cc", "memory");
	return result;
}

/* The same through the VMI fast entry: a cold SDK site linked like any other call, which
 * the process ROM turns into vector 0x80 without entering vmirun and the native ROM into
 * int $0x80. */
static inline uint32_t syscall_fast(uint32_t number, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t result;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_Syscall, COLD, VMI_CA)
	        : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c) : "cc", "memory");
	return result;
}

static inline uint32_t user_syscall(int fast, uint32_t number, uint32_t a, uint32_t b, uint32_t c)
{
	return fast ? syscall_fast(number, a, b, c) : syscall_int80(number, a, b, c);
}

/* --- argument blocks ------------------------------------------------------------------------ */

/* user_syscall_probe: every simple call once, through one entry. */
struct syscall_probe {
	int fast;
	uint32_t null_result, getpid_result, write_result, bad_write_result;
	const char *text;
	uint32_t text_length;
};

/* user_spinner: read the TSC `iterations` times, never yielding. */
struct spinner {
	uint32_t iterations;
	uint64_t first_cycles, last_cycles;   /* when it started and when it finished */
};

/* user_pinger / user_ponger: `rounds` request/reply pairs, then a stop message. */
#define MESSAGE_PING 1
#define MESSAGE_PONG 2
#define MESSAGE_STOP 3
struct ping_pong {
	int fast;
	int peer;                 /* the other process's pid */
	uint32_t rounds;
	uint32_t work;            /* the ponger's computation per request (iterations) */
	uint32_t errors;          /* replies that were not what was asked for */
	uint32_t completed;
	uint64_t compute_cycles;  /* spent in pong_answer, timed in user mode */
};

/* user_report_interrupt_flag: what user mode sees of the interrupt flag. */
struct interrupt_flag_report {
	uint32_t ran;
	uint32_t mask;            /* GetInterruptMask (inline: pushf, or the vCPU page) */
};

/* user_flooder / user_drainer: more messages than a mailbox holds, sent before the drainer
 * starts receiving, so the flooder must block in send; they must arrive in order. */
struct flood {
	int peer;                 /* the flooder's drainer */
	uint32_t count;
	uint32_t mailbox_slots;   /* how many messages fill the drainer's mailbox */
	uint32_t send_failures;
	uint32_t bad_send_result; /* a send to a pid that does not exist */
	uint32_t received, out_of_order;
	volatile uint32_t attempted;   /* sends the flooder has begun */
};

/* user_privileged_call: a VMI call only the kernel may make. */
struct privileged_attempt {
	uint32_t returned;        /* 1 if the call came back instead of faulting */
	uint32_t value;
};

/* user_bench_null_syscall: `repetitions` timed loops of `iterations` null calls. */
struct syscall_bench {
	int fast;
	uint32_t iterations, repetitions;
	uint64_t cycles[BENCH_REPETITIONS_MAX];
};

/* user_bench_yield: the leader times loops of yields; the partner yields until told. */
struct yield_bench {
	int leader;
	uint32_t iterations, repetitions;
	volatile uint32_t *done;
	uint64_t cycles[BENCH_REPETITIONS_MAX];
};

/* user_cruncher: a fixed amount of arithmetic, the CPU-bound part of the mixed workload. */
struct cruncher {
	uint32_t units;
	uint32_t result;
	uint64_t compute_cycles;  /* the whole run, timed in user mode */
};

/* user_bench_compute: `repetitions` timed loops of `units` of the cruncher's arithmetic,
 * with no kernel entry inside a loop: what plain code costs on the platform. */
struct compute_bench {
	uint32_t units, repetitions;
	uint32_t result;
	uint64_t cycles[BENCH_REPETITIONS_MAX];
};

/* user_private_memory: in an address space of its own, writes `tag`-made values into the
 * first `pages` pages of its private window, yields, and checks them, `rounds` times; a
 * process in another address space at the same addresses must not disturb them. With
 * `only_read` it writes nothing and every page must read 0 (demand-zero). */
struct private_memory {
	uint32_t pages, rounds, tag;
	uint32_t only_read;
	uint32_t linger;          /* yields before exiting, so others may end first */
	uint32_t errors;          /* values that were not what this process wrote */
	uint32_t first_wrong, first_wrong_page;   /* the first of them, and where */
};

/* user_touch_word: reads the word at `address`, then, if `write`, writes `value` there;
 * `done` says how far it got (a fault ends the process). */
#define TOUCH_READ    1
#define TOUCH_WRITTEN 2
struct word_touch {
	uint32_t address, write, value;
	volatile uint32_t done;
	uint32_t value_read;
};

/* user_bench_page_fault: `repetitions` timed loops, each writing the first word of `pages`
 * unmapped pages of its private window (each one a demand fault), then dropping them. */
struct page_fault_bench {
	uint32_t pages, repetitions;
	uint64_t cycles[BENCH_REPETITIONS_MAX];
};

/* user_fork_copy: writes `parent_tag`-made values into the first `pages` pages of its
 * window and forks. The child checks it sees them, writes `child_tag`-made ones and waits
 * for a message before it exits; the parent forks once more (with the first child's copy
 * still held, the pool must run dry: that fork must fail), sends the child its message,
 * waits for it and checks its own pages still hold its values. */
struct fork_copy {
	uint32_t pages, parent_tag, child_tag;
	uint32_t child_pid;             /* fork's result in the parent */
	uint32_t child_fork_result;     /* and in the child */
	uint32_t second_fork_result;
	uint32_t wait_status;
	uint32_t child_errors, parent_errors;   /* pages not holding the parent's values */
	uint32_t child_first_wrong, parent_first_wrong;   /* the first such value */
};

/* user_bench_fork: fills `pages` pages of its window, then `repetitions` timed loops of
 * `iterations` forks, each child exiting at once and waited for. */
struct fork_bench {
	uint32_t pages, iterations, repetitions;
	uint32_t failures;              /* forks or waits that did not work */
	uint64_t cycles[BENCH_REPETITIONS_MAX];
};

/* --- the programs (each ends with SYS_EXIT) ----------------------------------------------- */

void user_syscall_probe(uint32_t argument);
void user_private_memory(uint32_t argument);
void user_fill_window(uint32_t pages);   /* writes one word in each of its first `pages` */
void user_touch_word(uint32_t argument);
/* user_write_word: writes `value` at `address` without reading it first. */
void user_write_word(uint32_t argument);
/* user_escape: leaves compatibility mode and asks the host to create this file. */
#define USER_ESCAPE_MARKER "/tmp/openvmi-user-escape-marker"
void user_escape(uint32_t argument);
/* The same jump, then fork, write to fd 0, mmap anywhere, or a futex wake on the vCPU page;
 * or no host call, a spin in 64-bit mode. */
void user_escape_fork(uint32_t argument);
void user_escape_write0(uint32_t argument);
void user_escape_mmap(uint32_t argument);
void user_escape_futex(uint32_t argument);
void user_escape_spin(uint32_t argument);
void user_escape_hold(uint32_t argument);   /* a futex wait of its own in vmirun's stub */

/* The hostile programs of `hostile=NAME` (issue 14): each reaches for what vmirun shares
 * with the guest kernel through the vCPU page (include/vmi/vcpu_page.h), which on a PC is
 * no memory at all. What they got is in their block and their exit status. */
struct hostile_attempt {
	uint32_t user_ds;             /* nullfs: the platform's user data selector */
	uint32_t privileged_result;   /* ring0: what GetCR3 answered */
};
#define HOSTILE_EXIT_LANDED 1     /* the write to the vCPU page went through */
void user_hostile_vcpu(uint32_t argument);    /* writes the virtual IF off */
void user_hostile_mark(uint32_t argument);    /* holds the transition mark, then spins */
void user_hostile_ring0(uint32_t argument);   /* claims ring 0, then makes a privileged call */
void user_hostile_nullfs(uint32_t argument);  /* loads a null FS, then calls into the ROM */
void user_fork_copy(uint32_t argument);
void user_bench_fork(uint32_t argument);
void user_bench_page_fault(uint32_t argument);
void user_spinner(uint32_t argument);
void user_pinger(uint32_t argument);
void user_ponger(uint32_t argument);
void user_flooder(uint32_t argument);
void user_drainer(uint32_t argument);
void user_privileged_call(uint32_t argument);
void user_report_interrupt_flag(uint32_t argument);
void user_bench_null_syscall(uint32_t argument);
void user_bench_yield(uint32_t argument);
void user_cruncher(uint32_t argument);
void user_bench_compute(uint32_t argument);

/* The ponger's answer to request `value`: `work` passes over a 1 KiB table built from it,
 * with data-dependent indexing, so the work touches memory like real code does. The pinger
 * computes it too, to check the reply. */
#define WORK_TABLE_WORDS 256
static inline uint32_t pong_answer(uint32_t value, uint32_t work)
{
	uint32_t table[WORK_TABLE_WORDS];
	uint32_t x = value, sum = value;
	for (uint32_t i = 0; i < WORK_TABLE_WORDS; i++) {
		x = x * 1664525u + 1013904223u;
		table[i] = x;
	}
	for (uint32_t pass = 0; pass < work; pass++)
		for (uint32_t i = 0; i < WORK_TABLE_WORDS; i++) {
			uint32_t j = table[i] % WORK_TABLE_WORDS;
			table[i] ^= table[j] + pass;
			sum += table[i];
		}
	return sum;
}

#endif

/* Seccomp for vmirun, as plain BPF. In a 64-bit process a 32-bit entry into the kernel is
 * always the guest's: trap it. Of the 64-bit calls allow only what the monitor uses once
 * the guest runs (console and stats output, signals, timers, halting, exiting), with their
 * arguments checked where one picks a file or an operation; anything else can only come
 * from code that left compatibility mode, and is trapped as well. */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vmi/process.h>
#include "platform/process/sandbox.h"
#include "platform/process/user_stub_layout.h"

#define X32_SYSCALL_BIT 0x40000000u

int sandbox_is_violation(unsigned audit_arch)
{
	return audit_arch != AUDIT_ARCH_I386;
}

#define MAX_READ_FDS 4
#define MAX_PROGRAM  160
#define ARG_LOW(i)   (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HIGH(i)  (ARG_LOW(i) + 4)
#define MAP_TLB_FLAGS   (MAP_SHARED | MAP_FIXED)
#define UNMAP_TLB_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED)

static int lock(const int *read_fds, unsigned read_fd_count, int guest_memory_fd,
                int for_template)
{
	if (read_fd_count > MAX_READ_FDS) {
		errno = E2BIG;
		return -1;
	}
	const unsigned count = read_fd_count;
	struct sock_filter program[MAX_PROGRAM];
	unsigned n = 0;
	int overflow = 0;
#define EMIT(code, k, jt, jf) \
	(n < MAX_PROGRAM ? (void)(program[n++] = (struct sock_filter)BPF_JUMP((code), (k), (jt), (jf))) \
	                 : (void)(overflow = 1))
#define EMIT_LOAD(field) EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field), 0, 0)
#define EMIT_RET(action) EMIT(BPF_RET | BPF_K, (action), 0, 0)
	EMIT_LOAD(arch);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1);
	EMIT_RET(SECCOMP_RET_TRAP);                       /* the guest's */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	EMIT_RET(SECCOMP_RET_KILL_PROCESS);               /* no other ABI exists */
	EMIT_LOAD(nr);
	EMIT(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
	EMIT_RET(SECCOMP_RET_TRAP);

	/* write: console output and reports, to stdout and stderr only */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 5);
	EMIT_LOAD(args[0]);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, STDOUT_FILENO, 1, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, STDERR_FILENO, 0, 1);
	EMIT_RET(SECCOMP_RET_ALLOW);
	EMIT_RET(SECCOMP_RET_TRAP);

	/* pread64: the statistics and stolen time, from the files vmirun opened for them */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_pread64, 0, (unsigned char)(count + 3));
	EMIT_LOAD(args[0]);
	for (unsigned i = 0; i < count; i++)
		EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)read_fds[i], (unsigned char)(count - i), 0);
	EMIT_RET(SECCOMP_RET_TRAP);
	EMIT_RET(SECCOMP_RET_ALLOW);

	/* arch_prctl: only to put the host's FS base back, where the CPU lacks wrfsbase */
	EMIT_LOAD(nr);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_arch_prctl, 0, 4);
	EMIT_LOAD(args[0]);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, ARCH_SET_FS, 0, 1);
	EMIT_RET(SECCOMP_RET_ALLOW);
	EMIT_RET(SECCOMP_RET_TRAP);

	/* sendmsg: the guest-memory descriptor, to a user process with its mappings (strict
	 * isolation), on the sockets made for that only */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, 0, 5);
	EMIT_LOAD(args[0]);
	EMIT(BPF_JMP | BPF_JGE | BPF_K, STUB_DRIVER_SOCKET_FD, 0, 2);
	EMIT(BPF_JMP | BPF_JGE | BPF_K, STUB_DRIVER_SOCKET_FD + STUB_SLOTS_MAX, 1, 0);
	EMIT_RET(SECCOMP_RET_ALLOW);
	EMIT_RET(SECCOMP_RET_TRAP);

	/* The template: what a user process needs to set itself up before the stub locks it
	 * with a filter of its own (user_process.c), which allows next to nothing. The
	 * template runs no guest code, and an address-space process of the kernel's locks
	 * itself with the filter above, which refuses all of it. */
	if (for_template) {
		static const int setting_up[] = {
			SYS_mmap, SYS_mremap, SYS_munmap, SYS_mprotect, SYS_dup2, SYS_fcntl,
			SYS_close_range, SYS_sigaltstack, SYS_rt_sigaction, SYS_rseq, SYS_recvmsg,
		};
		EMIT_LOAD(nr);
		for (unsigned i = 0; i < sizeof(setting_up) / sizeof(setting_up[0]); i++) {
			EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)setting_up[i], 0, 1);
			EMIT_RET(SECCOMP_RET_ALLOW);
		}
	}

	/* mmap: the guest's TLB (platform_map_linear, _unmap_linear): guest memory, or
	 * nothing, at fixed addresses that lie whole in [VMI_PROCESS_LOW_RAM_BASE,
	 * VMI_PROCESS_WINDOW_BASE). So even an escaped guest can only remap its own memory.
	 * Numbers count instructions from the EMIT_LOAD(nr) below. */
	EMIT_LOAD(nr);                                                  /* relative jumps: */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 22);              /* 1 -> 24, the next */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_HIGH(0), 0, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 18);                     /* 3: address < 4 GiB */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_HIGH(1), 0, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 16);                     /* 5: length < 4 GiB */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0), 0, 0);
	EMIT(BPF_JMP | BPF_JGE | BPF_K, VMI_PROCESS_LOW_RAM_BASE, 0, 14);   /* 7 */
	EMIT(BPF_MISC | BPF_TAX, 0, 0, 0);                              /* X = address */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1), 0, 0);
	EMIT(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);                       /* A = end, mod 2^32 */
	EMIT(BPF_JMP | BPF_JGT | BPF_K, VMI_PROCESS_WINDOW_BASE, 10, 0);    /* 11 */
	EMIT(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 9);                       /* 12: no wrap-around */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(3), 0, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, UNMAP_TLB_FLAGS, 0, 2);         /* 14 */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2), 0, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, PROT_NONE, 6, 5);               /* 16: nothing mapped */
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, MAP_TLB_FLAGS, 0, 4);           /* 17 */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(4), 0, 0);
	EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)guest_memory_fd, 0, 2);   /* 19: guest memory */
	EMIT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2), 0, 0);
	EMIT(BPF_JMP | BPF_JSET | BPF_K, ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC), 0, 1);
	EMIT_RET(SECCOMP_RET_TRAP);                                     /* 22 */
	EMIT_RET(SECCOMP_RET_ALLOW);                                    /* 23 */

	static const int allowed[] = {
		SYS_rt_sigreturn,
		SYS_rt_sigprocmask,
		SYS_rt_sigsuspend,    /* Halt */
		SYS_timer_settime,    /* alarms */
		SYS_setitimer,        /* --timeout (RLIMIT_CPU bounds a guest that turns it off) */
		SYS_clock_gettime,
		SYS_exit_group,
		SYS_exit,
		SYS_futex,            /* the vCPU's handoff between address-space processes */
		SYS_sched_yield,      /* and its spinning, on a busy host */
	};
	/* The template of address-space processes forks them, and each sets itself up until it
	 * locks itself with the filter above too (filters stack: then both must allow). */
	static const int template_allowed[] = {
		SYS_clone, SYS_prctl, SYS_getppid, SYS_getpid, SYS_timer_create, SYS_seccomp,
	};
	EMIT_LOAD(nr);
	for (unsigned i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[i], 0, 1);
		EMIT_RET(SECCOMP_RET_ALLOW);
	}
	for (unsigned i = 0; for_template && i < sizeof(template_allowed) / sizeof(int); i++) {
		EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)template_allowed[i], 0, 1);
		EMIT_RET(SECCOMP_RET_ALLOW);
	}
	EMIT_RET(SECCOMP_RET_TRAP);
#undef EMIT_RET
#undef EMIT_LOAD
#undef EMIT

	if (overflow) {
		errno = E2BIG;
		return -1;
	}
	struct sock_fprog filter = {
		.len = (unsigned short)n,
		.filter = program,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

int sandbox_lock(const int *read_fds, unsigned read_fd_count, int guest_memory_fd)
{
	return lock(read_fds, read_fd_count, guest_memory_fd, 0);
}

int sandbox_lock_template(const int *read_fds, unsigned read_fd_count, int guest_memory_fd)
{
	return lock(read_fds, read_fd_count, guest_memory_fd, 1);
}

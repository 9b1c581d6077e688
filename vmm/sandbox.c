/* Seccomp for vmirun, as plain BPF. In a 64-bit process a 32-bit entry into the kernel is
 * always the guest's: trap it. Of the 64-bit calls allow only what the monitor uses once
 * the guest runs (console and stats output, signals, timers, halting, exiting); anything
 * else can only come from code that left compatibility mode, and is trapped as well. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define ALLOW_IF(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                     BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define X32_SYSCALL_BIT 0x40000000u

int sandbox_is_violation(unsigned audit_arch)
{
	return audit_arch != AUDIT_ARCH_I386;
}

int sandbox_lock(void)
{
	struct sock_filter program[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),          /* the guest's */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),  /* no other ABI exists */
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		/* write only to stdout and stderr */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, STDERR_FILENO, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		LOAD(nr),
		ALLOW_IF(SYS_pread64),          /* stats and stolen time, from files opened before */
		ALLOW_IF(SYS_rt_sigreturn),
		ALLOW_IF(SYS_rt_sigprocmask),
		ALLOW_IF(SYS_rt_sigsuspend),    /* Halt */
		ALLOW_IF(SYS_timer_settime),    /* alarms */
		ALLOW_IF(SYS_setitimer),        /* --timeout */
		ALLOW_IF(SYS_clock_gettime),
		ALLOW_IF(SYS_arch_prctl),       /* the host's FS back, where the CPU lacks wrfsbase */
		ALLOW_IF(SYS_exit_group),
		ALLOW_IF(SYS_exit),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog filter = {
		.len = (unsigned short)(sizeof(program) / sizeof(program[0])),
		.filter = program,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

/* The seccomp filter vmirun installs before entering the guest. */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

/* Makes every i386 system call (the guest's int 0x80, or syscall/sysenter from compatibility
 * mode) raise SIGSYS instead of reaching the host kernel. Returns 0 or -1 (errno set). */
int sandbox_trap_guest_syscalls(void);

#endif

/* The seccomp filter vmirun locks itself with before entering the guest. */
#ifndef VMM_PLATFORM_PROCESS_SANDBOX_H
#define VMM_PLATFORM_PROCESS_SANDBOX_H

/* From here on: every i386 system call (the guest's int 0x80, or syscall/sysenter from
 * compatibility mode) raises SIGSYS as a guest event and never reaches the host kernel; of
 * the 64-bit ones only the few vmirun still needs are allowed (write to stdout and stderr,
 * pread64 on read_fds, arch_prctl(ARCH_SET_FS), mmap of guest_memory_fd or of nothing at
 * fixed addresses inside the guest's part of the low 4 GiB (its TLB), signals, timers,
 * exit), and any other one raises SIGSYS too, which stops the run (a guest that left
 * compatibility mode can do no more). At most 4 read_fds. Returns 0 or -1 (errno set). */
int sandbox_lock(const int *read_fds, unsigned read_fd_count, int guest_memory_fd);

/* The same filter, and what the template of address-space processes needs besides to fork
 * them and what each needs until it locks itself with sandbox_lock: clone, prctl, getppid,
 * getpid, timer_create, seccomp. */
int sandbox_lock_template(const int *read_fds, unsigned read_fd_count, int guest_memory_fd);

/* Nonzero if a SIGSYS with this audit architecture is a refused 64-bit call, not a guest
 * system call. */
int sandbox_is_violation(unsigned audit_arch);

#endif

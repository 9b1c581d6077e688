/* The process platform's signal handling, as main() sets it up. */
#ifndef VMM_PLATFORM_PROCESS_SIGNALS_H
#define VMM_PLATFORM_PROCESS_SIGNALS_H

#include <stdint.h>

/* Installs the handlers for guest faults, trapped instructions, trapped i386 system calls,
 * the host timers and the timeout, on a signal stack of their own. 0 or -1 (errno set). */
int process_install_signal_handlers(void);

/* Stops the guest with GUEST_STOP_TIMEOUT once `seconds` have passed (0: never), and limits
 * the process's CPU time to a little more, out of an escaped guest's reach. Before the
 * sandbox is locked. Returns 0 or -1 (errno set). */
int process_set_timeout(double seconds);

/* In a new address-space process: arms its own timer for what is left of the timeout (the
 * holder of the vCPU must hear of it, whichever process that is). 0 or -1. */
int process_rearm_timeout(void);

/* --timeout's end, CLOCK_MONOTONIC nanoseconds, or 0 without one. */
uint64_t process_timeout_deadline_ns(void);

/* What the handlers decide from a guest fault, for whichever process saw it (a user
 * process's driver too): */
#define PROCESS_INT_N_LENGTH 2 /* int $0x80 (CD 80), and syscall and sysenter too */
/* the #GP (trap number, error code) at `eip` is int $0x80 on a host without 32-bit system
 * calls; */
int process_int80_without_ia32(uint64_t trapno, uint64_t error_code, uint32_t eip);
/* a data segment register holding `selector` holds a host segment the guest did not mean,
 * for the flat data selector to replace. */
int process_host_selector_foreign(uint16_t selector);

#endif

/* The process platform's signal handling, as main() sets it up. */
#ifndef VMM_PLATFORM_PROCESS_SIGNALS_H
#define VMM_PLATFORM_PROCESS_SIGNALS_H

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

#endif

/* The monitor: what vmirun does on the guest's behalf when it calls or traps. */
#ifndef VMM_MONITOR_MONITOR_H
#define VMM_MONITOR_MONITOR_H

#include "vcpu/vcpu.h"

/* Installs the handlers for guest faults, trapped instructions, trapped i386 system calls
 * and the timeout, on a signal stack of their own. Returns 0 or -1 (errno set). */
int monitor_install_trap_handlers(void);

/* Stops the guest with VCPU_STOP_TIMEOUT once `seconds` have passed (0: never), and limits
 * the process's CPU time to a little more, out of an escaped guest's reach. Before the
 * sandbox is locked. Returns 0 or -1 (errno set). */
int monitor_set_timeout(double seconds);

/* The guest's single-step trap arrived at a hypercall's entry: the hypercall runs without
 * it, and the trap is delivered after, at the return address (hypercall.c). */
void monitor_single_step_after_hypercall(void);

/* Stops the guest if the timeout expired while the monitor was running. */
void monitor_check_timeout(void);

/* The same, reading the clock too: for long loops (rep ins/outs trapped in a signal
 * handler) during which the timeout's signal is held. */
void monitor_check_deadline(void);

/* The guest halted (Halt call or trapped hlt). */
void monitor_halt(struct vcpu_regs *regs);

/* Nonzero while monitor_halt sleeps: an alarm then wakes the halt loop, which looks itself. */
int monitor_is_halting(void);

#endif

/* The monitor: what vmirun does on the guest's behalf when it calls or traps. Its entry is
 * monitor_handle_exit (platform.h); these are what its parts share, and what the platform
 * may ask of it besides. */
#ifndef VMM_MONITOR_MONITOR_H
#define VMM_MONITOR_MONITOR_H

#include "platform.h"

/* The hypercall exit (hypercall.c). */
enum exit_action monitor_hypercall(uint32_t call, struct guest_regs *regs);

/* The guest's single-step trap arrived at a hypercall's entry: the hypercall runs without
 * it, and the trap is delivered after, at the return address (hypercall.c). */
void monitor_single_step_after_hypercall(void);

/* Under strict isolation, after the guest's state changed (an exit handled, a ROM ring
 * switch finished by the platform): runs it in the address space of its ring. 0, or -1
 * with a stop requested (no process for it). */
int monitor_follow_ring(void);

/* Requests the timeout's stop if --timeout has run out (reading the clock if asked, for
 * long loops); nonzero if the guest is to stop, for that or any reason. */
int monitor_stop_if_timed_out(int read_clock);

/* The guest halted (Halt call or trapped hlt): returns when an interrupt is pending, or
 * with a stop requested. */
void monitor_halt(struct guest_regs *regs);

/* Nonzero while monitor_halt sleeps: an alarm then wakes the halt loop, which looks itself. */
int monitor_is_halting(void);

#endif

/* The ROM's own ring switches (IRET or SYSEXIT to user mode, the fast system-call entry),
 * seen from vmirun: while one is under way no interrupt may be injected, and a fault inside
 * one is resolved by its kind. The ROM marks them in the shared page (VMI_VCPU_TRANSITION). */
#ifndef VMM_PLATFORM_PROCESS_TRANSITION_H
#define VMM_PLATFORM_PROCESS_TRANSITION_H

#include "platform.h"

/* Nonzero while the guest is inside a transition. */
int transition_under_way(void);

/* An interrupt is due but the guest is inside a transition: single-step it (TF in `regs`)
 * until the transition ends, then deliver. */
void transition_step_out(struct guest_regs *regs);

/* A single-step trap inside a transition or just out of one: 1 if it was ours (and `regs`
 * is ready to resume: still stepping, or out with TF cleared and any deliverable interrupt
 * delivered), 0 if the trap belongs to the guest. */
int transition_on_step(struct guest_regs *regs);

/* A fault with a transition under way (as `regs` say): an IRET that could not write the user
 * stack is finished by vmirun, as the CPU would have finished it (the user's first access
 * then faults in user mode); a fault building the system-call frame stops the guest
 * (platform_request_stop). The mark is cleared either way. Returns 1 if it resolved the fault (`regs` ready to resume),
 * 0 if the fault is an ordinary one (no transition, or one that cannot fault). */
int transition_on_fault(struct guest_regs *regs);

#endif

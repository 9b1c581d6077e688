/* Trap-and-emulate: the privileged instructions a deprivileged guest executes natively and
 * that fault (#GP) in ring 3, decoded at the faulting eip and carried out on the vCPU. */
#ifndef VMM_MONITOR_EMULATE_H
#define VMM_MONITOR_EMULATE_H

#include <stddef.h>
#include <stdint.h>
#include "vcpu/vcpu.h"

enum emulate_result {
	EMULATE_DONE,          /* carried out; regs->eip is past the instruction */
	EMULATE_HALT,          /* hlt; regs->eip is past it */
	EMULATE_UNSUPPORTED,   /* not an instruction the monitor emulates */
};

/* code holds up to `available` bytes at regs->eip. */
enum emulate_result emulate_instruction(struct vcpu_regs *regs, const uint8_t *code,
                                        size_t available);

#endif

/* Writes to CR0-CR4 as a CPU takes them, one rule for the trapped `mov` to a control
 * register (emulate.c) and the SetCR0..SetCR4 calls (hypercall.c). */
#ifndef VMM_MONITOR_CONTROL_REGISTERS_H
#define VMM_MONITOR_CONTROL_REGISTERS_H

#include <stdint.h>

enum control_register_check {
	CONTROL_REGISTER_TAKEN,            /* *value is what the register now holds */
	CONTROL_REGISTER_FAULTS,           /* a CPU raises #GP(0): nothing changes */
	CONTROL_REGISTER_NOT_IMPLEMENTED,  /* a CPU takes it, vmirun cannot: *what, *missing */
};

/* Checks a write of *value to CR`number` (0, 2, 3 or 4) against what the virtual CPU has,
 * and on CONTROL_REGISTER_TAKEN stores it (CR0 with its fixed and undefined bits as a CPU
 * keeps them) and tells the guest's TLB what changed. */
enum control_register_check control_register_write(unsigned number, uint32_t *value,
                                                   const char **what, const char **missing);

#endif

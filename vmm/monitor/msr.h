/* The virtual CPU's model-specific registers (RDMSR/WRMSR by hypercall or trap). */
#ifndef VMM_MONITOR_MSR_H
#define VMM_MONITOR_MSR_H

#include <stdint.h>

/* Back to boot state. */
void msr_reset(void);

/* 0, or -1 for an MSR the virtual CPU does not have (a #GP, as on hardware). */
int msr_read(uint32_t msr, uint64_t *value);

/* 0, or -1 for an MSR it does not have or a value it cannot take. */
int msr_write(uint32_t msr, uint64_t value);

#endif

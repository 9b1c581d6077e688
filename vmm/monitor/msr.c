/* The model-specific registers the virtual CPU has, for RDMSR/WRMSR by hypercall and by
 * trap alike: the TSC, the SYSENTER registers, and an APIC base that says "no local APIC
 * enabled" (vmirun emulates none, so a kernel must not turn to it). */
#include <x86intrin.h>

#include "monitor/msr.h"

#define MSR_TSC            0x10
#define MSR_APIC_BASE      0x1B
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176

#define APIC_BASE_DEFAULT  0xFEE00000u
#define APIC_BASE_BSP      0x100u     /* this CPU is the bootstrap processor */
#define APIC_BASE_ENABLE   0x800u

static uint64_t sysenter[3];

void msr_reset(void)
{
	sysenter[0] = sysenter[1] = sysenter[2] = 0;
}

int msr_read(uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_TSC: *value = __rdtsc(); return 0;
	case MSR_APIC_BASE: *value = APIC_BASE_DEFAULT | APIC_BASE_BSP; return 0;
	case MSR_SYSENTER_CS: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
		*value = sysenter[msr - MSR_SYSENTER_CS];
		return 0;
	default:
		return -1;
	}
}

int msr_write(uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_APIC_BASE:
		/* the same base, still disabled: nothing to do; anything else needs an APIC */
		return value == (APIC_BASE_DEFAULT | APIC_BASE_BSP) ? 0 : -1;
	case MSR_SYSENTER_CS: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
		sysenter[msr - MSR_SYSENTER_CS] = value;
		return 0;
	default:
		return -1; /* the TSC too: guest time is the host's */
	}
}
